"""/orders, /order, /export and /status end to end, plus splitting of long replies."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid as uuid_mod
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot import __version__
from bot.db.migrate import upgrade_to_head_async
from bot.db.repository import SqlOrderRepository
from bot.domain import NewOrder, OrderFill, OrderRecord, OrderState
from tests.e2e.harness import OTHER, USER, BotFactory, RunningBot
from tests.e2e.process import order_log, place_order
from tests.standins.upbit import KST, UpbitStandIn

TELEGRAM_LIMIT = 4096
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ROW_HEAD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST · KRW-[A-Z]+ · [0-9.,]+ [A-Z]+ · <b>[^<]+</b>$"
)
CODE_LINE = re.compile(r"^<code>([0-9a-f-]{36})</code>$")


async def _seed(
    repo: SqlOrderRepository,
    count: int,
    *,
    user_id: int = USER,
    start: datetime = T0,
    state: OrderState = OrderState.DONE,
) -> list[OrderRecord]:
    """``count`` orders one minute apart (oldest first), with awkward Decimal figures."""
    made = []
    for i in range(count):
        identifier = f"usb-test-{user_id}-{i}-{uuid_mod.uuid4().hex[:8]}"
        await repo.record_submitting(
            NewOrder(
                identifier=identifier,
                pending_id=None,
                user_id=user_id,
                chat_id=user_id,
                lang="en",
                market="KRW-BTC",
                side="ask",
                ord_type="market",
                requested_volume=Decimal("0.01234567") + Decimal(i) / 10**8,
                paper=False,
                created_at=start + timedelta(minutes=i),
            )
        )
        executed = Decimal("0.01234567") + Decimal(i) / 10**8
        gross = Decimal("1234566.99999999") + i
        made.append(
            await repo.update_order(
                identifier,
                OrderFill(
                    state=state,
                    uuid=str(uuid_mod.uuid4()),
                    executed_volume=executed,
                    avg_price=gross / executed,
                    gross_funds=gross,
                    paid_fee=Decimal("617.283499999995") + i,
                    raw_response="{}",
                    announced_at=start,  # already announced: no fill notice races replies
                ),
            )
        )
    return made


def _uuids(text: str) -> list[str]:
    return re.findall(r"<code>([0-9a-f-]{36})</code>", text)


async def test_orders_newest_first_with_full_uuids(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    async with order_log(bot.settings.database_url) as repo:
        mine = await _seed(repo, 12)
        theirs = await _seed(repo, 2, user_id=OTHER, start=T0 + timedelta(hours=1))
    newest_first = [r.uuid for r in reversed(mine)]

    text = str((await bot.command("/orders")).params["text"])
    assert _uuids(text) == newest_first[:10]
    assert not any(str(r.uuid) in text for r in theirs)
    assert "filled" in text and "2024-05-01 21:11:00 KST" in text

    text = str((await bot.command("/orders 3")).params["text"])
    assert _uuids(text) == newest_first[:3]
    assert "Your last 3 orders" in text

    for bad in ("/orders abc", "/orders 0", "/orders 51", "/orders 3 4"):
        reply = str((await bot.command(bad)).params["text"])
        assert "Usage: <code>/orders [N]</code>" in reply, bad
        assert not _uuids(reply)


async def test_long_reply_is_split_at_line_boundaries(
    bot_factory: BotFactory, tmp_path: Path
) -> None:
    # Seeded before the bot starts: its fill watcher never sees these orders half-written.
    url = f"sqlite:///{tmp_path}/bot.db"
    await upgrade_to_head_async(url)
    async with order_log(url) as repo:
        mine = await _seed(repo, 50)
    bot = await bot_factory()

    mark = bot.tg.mark()
    bot.tg.send_command(USER, "/orders 50")
    first = await bot.tg.await_message(USER, after=mark, timeout=10)
    # The remaining parts follow; wait until every UUID has arrived.
    for _ in range(100):
        parts = [c for c in bot.tg.calls("sendMessage", after=mark) if c.done]
        if sum(len(_uuids(str(c.params["text"]))) for c in parts) >= 50:
            break
        await asyncio.sleep(0.05)
    assert parts[0] is first
    assert len(parts) >= 2, "a reply over 4096 characters was not split"
    assert all(c.ok for c in parts), [c.description for c in parts if not c.ok]
    texts = [str(c.params["text"]) for c in parts]
    assert sum(len(t) for t in texts) > TELEGRAM_LIMIT
    assert all(len(t) <= TELEGRAM_LIMIT for t in texts)
    assert texts[0].startswith("<b>Your last 50 orders</b> (tap one below for details)")

    # No line was cut: every line is a whole row head, a whole UUID line or blank.
    for t in texts:
        for line in t.split("\n"):
            assert (
                line == ""
                or line == "<b>Your last 50 orders</b> (tap one below for details)"
                or ROW_HEAD.match(line)
                or CODE_LINE.match(line)
            ), line
    uuids = [u for t in texts for u in _uuids(t)]
    assert uuids == [r.uuid for r in reversed(mine)]


async def test_order_is_refreshed_from_upbit(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    # No socket and a slow poll: only /order itself can learn about the fill quickly.
    bot = await bot_factory(upbit_ws_url="", poll_interval_seconds=60)
    uuid, _ = await place_order(bot, "/sell BTC 0.01")

    text = str((await bot.command(f"/order {uuid}")).params["text"])
    assert "<b>Order KRW-BTC</b> — open" in text
    assert "Executed: 0 BTC" in text and f"<code>{uuid}</code>" in text

    filled = upbit.fill_order(uuid)
    mark = len(upbit.requests)
    text = str((await bot.command(f"/order {uuid.upper()}")).params["text"])
    assert any(
        r.path == "/v1/order" and r.query.get("uuid") == [uuid] for r in upbit.requests[mark:]
    )
    assert "<b>Order KRW-BTC</b> — filled" in text
    assert "Executed: 0.01 BTC" in text
    gross = sum((t.funds for t in filled.trades), Decimal(0))
    assert f"Gross: {gross:,.0f} KRW" in text
    assert "could not be reached" not in text


async def test_order_unknown_or_not_yours(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    async with order_log(bot.settings.database_url) as repo:
        (theirs,) = await _seed(repo, 1, user_id=OTHER)
    for command in (f"/order {uuid_mod.uuid4()}", f"/order {theirs.uuid}"):
        text = str((await bot.command(command)).params["text"])
        assert text == "No order of yours with that UUID.", command
    assert "Usage: <code>/order UUID</code>" in str((await bot.command("/order")).params["text"])
    assert "Usage" in str((await bot.command("/order not-a-uuid!")).params["text"])


async def test_export_is_a_csv_of_the_whole_log(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    async with order_log(bot.settings.database_url) as repo:
        seeded = await _seed(repo, 3) + await _seed(
            repo, 1, state=OrderState.CANCEL, start=T0 + timedelta(hours=1)
        )
    mark = bot.tg.mark()
    bot.tg.send_command(USER, "/export")
    call = await bot.tg.await_call(
        "sendDocument", lambda c: str(c.params.get("chat_id")) == str(USER), after=mark
    )
    assert call.ok
    assert "Order log: 4 orders." in str(call.params.get("caption"))
    upload = call.files["document"]
    assert (upload.filename or "").endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(upload.text())))
    reader = csv.reader(io.StringIO(upload.text()))
    header = next(reader)
    assert header == [
        "created_at",
        "updated_at",
        "uuid",
        "identifier",
        "market",
        "side",
        "ord_type",
        "requested_volume",
        "state",
        "executed_volume",
        "avg_price",
        "gross_funds",
        "paid_fee",
        "net_funds",
        "avg_buy_price",
        "realised_pnl",
        "mode",
        "user_id",
        "chat_id",
        "announced_at",
        "last_error",
    ]
    assert [r["uuid"] for r in rows] == [r.uuid for r in seeded]
    for row, record in zip(rows, seeded, strict=True):
        assert row["identifier"] == record.identifier
        assert row["state"] == record.state.value
        assert row["market"] == "KRW-BTC" and row["side"] == "ask"
        assert Decimal(row["requested_volume"]) == record.requested_volume
        assert Decimal(row["executed_volume"]) == record.executed_volume
        assert Decimal(row["avg_price"]) == record.avg_price
        assert Decimal(row["gross_funds"]) == record.gross_funds
        assert Decimal(row["paid_fee"]) == record.paid_fee
        assert record.gross_funds is not None and record.paid_fee is not None
        assert Decimal(row["net_funds"]) == record.gross_funds - record.paid_fee
        assert "E" not in row["avg_price"] and "e" not in row["paid_fee"]
        assert datetime.fromisoformat(row["created_at"]) == record.created_at
        assert row["created_at"].endswith("+09:00")  # TIMEZONE, Asia/Seoul by default
        assert int(row["user_id"]) == USER and row["mode"] == "live"


async def _status(bot: RunningBot) -> str:
    return str((await bot.command("/status")).params["text"])


async def test_status_reports_mode_key_expiry_watch_and_socket(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    upbit.api_key_expire_at = (datetime.now(KST) + timedelta(days=10, hours=1)).replace(
        microsecond=0
    )
    bot = await bot_factory()
    assert await asyncio.to_thread(upbit.wait_for_ws_subscribers, 1, 5.0)
    for _ in range(100):
        if bot.services.watcher.ws_connected:
            break
        await asyncio.sleep(0.05)

    text = await _status(bot)
    assert f"Version: {__version__}" in text
    assert "Mode: live" in text
    assert "Upbit: reachable" in text
    # The bot shows the date in the zone Upbit wrote it in (KST); so does the test.
    expiry = upbit.api_key_expire_at.date().isoformat()
    assert f"expires {expiry} — only 10 days left" in text
    assert "⚠️" in text
    assert "Orders being watched: 0" in text
    assert "Fill tracking: WebSocket connected" in text

    await place_order(bot)
    upbit.api_key_expire_at = (datetime.now(KST) + timedelta(days=200, hours=1)).replace(
        microsecond=0
    )
    text = await _status(bot)
    assert "Orders being watched: 1" in text
    assert "(200 days left)" in text and "⚠️" not in text

    upbit.fail_next("GET", "/v1/api_keys", "expired_access_key")
    text = await _status(bot)
    assert "Upbit: unreachable" in text


async def test_status_with_socket_off_says_polling(bot_factory: BotFactory) -> None:
    bot = await bot_factory(upbit_ws_url="")
    text = await _status(bot)
    assert "Fill tracking: polling (WebSocket off)" in text
    assert "Mode: live" in text
