"""The sell flow end to end: the real bot against the Telegram and Upbit stand-ins.

/sell → preview → Confirm → exactly one correct ``POST /v1/orders`` → outcome; every form of
amount; Cancel, /cancel, expiry, double taps, another user's press, a balance that changed,
Upbit errors on the POST, Korean replies and /balance.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import PendingSellRow
from bot.db.repository import SqlOrderRepository
from bot.domain import OrderRecord, OrderState
from tests.e2e.harness import OTHER, USER, BotFactory, RunningBot
from tests.standins.telegram import Call
from tests.standins.upbit import RecordedRequest

ORDERS = "/v1/orders"


# --------------------------------------------------------------------------- helpers


@dataclass
class Db:
    """A second connection to the bot's SQLite file, to read what the bot stored."""

    engine: AsyncEngine
    repo: SqlOrderRepository

    async def orders(self) -> list[OrderRecord]:
        return await self.repo.list_all()

    async def pending(self) -> list[PendingSellRow]:
        async with create_sessionmaker(self.engine)() as session:
            return list((await session.scalars(select(PendingSellRow))).all())

    async def wait_message_ids(self, timeout: float = 5.0) -> None:
        """Until every pending preview has its Telegram message id stored."""

        async def stored() -> None:
            while not (rows := await self.pending()) or any(r.message_id is None for r in rows):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(stored(), timeout)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Db]:
    """The order log of the bot that ``bot_factory()`` starts (its default database URL)."""
    engine = create_engine(f"sqlite:///{tmp_path}/bot.db")
    try:
        yield Db(engine, SqlOrderRepository(create_sessionmaker(engine)))
    finally:
        await engine.dispose()


def text_of(call: Call) -> str:
    return str(call.params.get("text", ""))


def first_row(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup")
    assert isinstance(markup, dict), f"no keyboard on {text_of(call)!r}"
    row = markup["inline_keyboard"][0]
    assert isinstance(row, list)
    return row


def confirm_data(preview: Call) -> str:
    return str(first_row(preview)[0]["callback_data"])


def cancel_data(preview: Call) -> str:
    return str(first_row(preview)[1]["callback_data"])


def message_id(call: Call) -> int:
    return int(call.result["message_id"])


def posts(bot: RunningBot) -> list[RecordedRequest]:
    return bot.upbit.requests_to("POST", ORDERS)


async def open_preview(bot: RunningBot, text: str, **kwargs: Any) -> Call:
    """Send a /sell command and return the preview message (fails on a refusal)."""
    reply = await bot.command(text, **kwargs)
    assert "Sell preview" in text_of(reply) or "매도 미리보기" in text_of(reply), text_of(reply)
    return reply


async def confirm(bot: RunningBot, preview: Call, **kwargs: Any) -> Call:
    """Press Confirm and return the edit of the preview that shows the outcome."""
    mark = await bot.press(message_id(preview), confirm_data(preview), **kwargs)
    return await bot.edit_after(mark, message_id(preview))


async def quiet(bot: RunningBot, seconds: float = 0.6) -> None:
    """Give the bot (and its fill watcher, polling every 0.2 s) time to do anything it would."""
    await asyncio.sleep(seconds)


def answers(bot: RunningBot, after: int) -> list[str]:
    return [
        str(c.params.get("text", "")) for c in bot.tg.calls("answerCallbackQuery", after=after)
    ]


async def wait_answers(bot: RunningBot, after: int, count: int, timeout: float = 5.0) -> list[str]:
    async def enough() -> None:
        while len([c for c in bot.tg.calls("answerCallbackQuery", after=after) if c.done]) < count:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(enough(), timeout)
    return answers(bot, after)


# --------------------------------------------------------------------------- happy path


async def test_confirm_places_exactly_one_correct_order(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    bot.upbit.set_account("BTC", balance="0.12345679", avg_buy_price=90_000_000)
    bot.upbit.slow_seconds = 1.0

    preview = await open_preview(bot, "/sell BTC 50%")
    text = text_of(preview)
    # 50% of 0.12345679 is 0.061728395: rounded DOWN to 8 decimals, never up.
    assert "0.06172839 BTC" in text
    assert "KRW-BTC" in text and "Confirm before" in text
    row = first_row(preview)
    assert len(row) == 2
    assert row[0]["callback_data"].startswith("sc:") and "Confirm" in row[0]["text"]
    assert row[1]["callback_data"].startswith("sx:") and "Cancel" in row[1]["text"]
    assert posts(bot) == []
    assert [p.status for p in await db.pending()] == ["pending"]

    # Hold the POST's answer (the order is created first): the row must already be stored.
    bot.upbit.fail_next("POST", ORDERS, "slow")
    mark = await bot.press(message_id(preview), confirm_data(preview))
    for _ in range(200):
        if bot.upbit.orders:
            break
        await asyncio.sleep(0.01)
    (created,) = bot.upbit.orders.values()
    (held,) = await db.orders()
    assert held.identifier == created.identifier
    # Usually still SUBMITTING; the fill watcher may already have found the order by its
    # identifier (the stand-in fills at once) - which is only possible because it was stored.
    assert held.state is OrderState.SUBMITTING or held.uuid == created.uuid

    edit = await bot.edit_after(mark, message_id(preview))
    (post,) = posts(bot)
    assert post.status == 201, post.response_text  # the stand-in checked JWT and query_hash
    assert post.body == {
        "market": "KRW-BTC",
        "side": "ask",
        "ord_type": "market",
        "volume": "0.06172839",
        # Explicit, never left to Upbit's default (SELF_TRADE_PREVENTION, default cancel_maker).
        "smp_type": "cancel_maker",
        "identifier": held.identifier,
    }
    assert post.jwt_payload is not None and post.jwt_payload["access_key"] == "test-access-key"
    (order,) = await db.orders()
    assert order.created_at.timestamp() <= post.time
    assert order.uuid == created.uuid
    assert order.requested_volume == Decimal("0.06172839")
    assert order.user_id == USER and order.chat_id == USER
    assert "Order placed" in text_of(edit)
    assert created.uuid in text_of(edit)
    assert not edit.params.get("reply_markup"), "the buttons must go"
    assert not bot.tg.message(USER, message_id(preview)).buttons
    assert [p.status for p in await db.pending()] == ["claimed"]

    notice = await bot.message_after(mark, contains="Sold")
    assert created.uuid in text_of(notice)
    await quiet(bot)
    assert len(posts(bot)) == 1
    assert len([c for c in bot.tg.calls("sendMessage", after=mark) if "Sold" in text_of(c)]) == 1


# --------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("command", "volume", "market", "share"),
    [
        ("/sell BTC 50%", "0.05", "KRW-BTC", "50%"),
        ("/sell BTC 12.5%", "0.0125", "KRW-BTC", "12.5%"),
        ("/sell BTC all", "0.1", "KRW-BTC", "100%"),
        ("/sell BTC 0.0123", "0.0123", "KRW-BTC", "12.3%"),
        ("/sell KRW-ETH 10%", "0.15", "KRW-ETH", "10%"),
        ("/sell btc 50%", "0.05", "KRW-BTC", "50%"),
        ("/sell xrp ALL", "2,000", "KRW-XRP", "100%"),
    ],
)
async def test_every_form_of_amount_previews(
    bot_factory: BotFactory, db: Db, command: str, volume: str, market: str, share: str
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, command)
    text = text_of(preview)
    currency = market.split("-")[1]
    assert f"Sell preview — {market}" in text
    assert f"Volume: <b>{volume} {currency}</b> ({share} of" in text
    (pending,) = await db.pending()
    assert pending.market == market
    assert pending.volume == Decimal(volume.replace(",", ""))
    assert posts(bot) == []


async def test_quote_amount_walks_the_book_to_the_net(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    # Thin top of book so the walk crosses levels: 0.0003 @ 100,000,000, then 99,990,000.
    bot.upbit.set_orderbook(
        "KRW-BTC",
        bids=[(100_000_000, "0.0003"), (99_990_000, "0.5"), (99_980_000, "0.5")],
    )
    preview = await open_preview(bot, "/sell BTC 50000krw")
    text = text_of(preview)
    assert "Est. net proceeds: <b>50,000 KRW</b>" in text or "49,999" in text, text
    net = re.search(r"Est\. net proceeds: <b>([0-9,.]+) KRW", text)
    assert net is not None
    assert abs(Decimal(net.group(1).replace(",", "")) - 50_000) <= 1
    # gross = 50,000 / (1 - 0.0005) = 50,025.01...; 30,000 from the first level, the rest
    # (20,025.01...) at 99,990,000 → 0.0003 + 0.00020027... = 0.00050027 (rounded down).
    (pending,) = await db.pending()
    assert pending.volume == Decimal("0.00050027")
    assert "0.00050027 BTC" in text


@pytest.mark.parametrize(
    ("amount", "volume"),
    [("all", "0.12345679"), ("12.5%", "0.01543209")],
)
async def test_confirmed_volume_is_exact(
    bot_factory: BotFactory, db: Db, amount: str, volume: str
) -> None:
    bot = await bot_factory()
    bot.upbit.set_account("BTC", balance="0.12345679", avg_buy_price=90_000_000)
    preview = await open_preview(bot, f"/sell BTC {amount}")
    edit = await confirm(bot, preview)
    assert "Order placed" in text_of(edit)
    (post,) = posts(bot)
    assert post.status == 201
    assert post.body["volume"] == volume
    (order,) = await db.orders()
    assert order.requested_volume == Decimal(volume)
    assert order.identifier == post.body["identifier"]


# --------------------------------------------------------------------------- cancel / expiry


async def test_cancel_button_places_nothing(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    mark = await bot.press(message_id(preview), cancel_data(preview))
    edit = await bot.edit_after(mark, message_id(preview))
    assert "Cancelled" in text_of(edit) and not edit.params.get("reply_markup")
    # A stale Confirm press on the cancelled preview (the button is gone: forged).
    mark = await bot.press(message_id(preview), confirm_data(preview), forge=True)
    (answer,) = await wait_answers(bot, mark, 1)
    assert "cancelled" in answer
    await quiet(bot)
    assert posts(bot) == []
    assert await db.orders() == []
    assert [p.status for p in await db.pending()] == ["cancelled"]
    assert (bot.tg.message(USER, message_id(preview)).text or "").startswith("Cancelled")


async def test_cancel_command_drops_the_pending_preview(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    # The bot stores the preview's message id just after sending it; a /cancel in that
    # instant would cancel the preview without editing it (harmless, the buttons are dead).
    await db.wait_message_ids()
    reply = await bot.command("/cancel")
    assert "Cancelled 1 pending preview" in text_of(reply)
    assert "Cancelled" in (bot.tg.message(USER, message_id(preview)).text or "")
    mark = await bot.press(message_id(preview), confirm_data(preview), forge=True)
    await wait_answers(bot, mark, 1)
    await quiet(bot)
    assert posts(bot) == []
    assert await db.orders() == []
    again = await bot.command("/cancel")
    assert "no pending preview" in text_of(again)


async def test_expired_preview_cannot_be_confirmed(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory(confirm_timeout_seconds=5)
    preview = await open_preview(bot, "/sell BTC 50%")
    sent = bot.tg.mark()
    assert "(5 s)" in text_of(preview)
    edit = await bot.tg.await_edit(USER, message_id(preview), after=sent, timeout=9)
    assert "Preview expired" in text_of(edit) and "Nothing was sold" in text_of(edit)
    assert not bot.tg.message(USER, message_id(preview)).buttons
    mark = await bot.press(message_id(preview), confirm_data(preview), forge=True)
    (answer,) = await wait_answers(bot, mark, 1)
    assert "expired" in answer
    await quiet(bot)
    assert posts(bot) == []
    assert await db.orders() == []
    assert "Preview expired" in (bot.tg.message(USER, message_id(preview)).text or "")


# --------------------------------------------------------------------------- exactly once


async def test_five_simultaneous_confirms_place_one_order(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    mark = bot.tg.mark()
    for _ in range(5):  # all five queued before the bot sees the first
        bot.tg.press_button(USER, message_id(preview), confirm_data(preview))
    edit = await bot.edit_after(mark, message_id(preview))
    assert "Order placed" in text_of(edit)
    await wait_answers(bot, mark, 5)
    await bot.message_after(mark, contains="Sold")
    await quiet(bot)
    assert len(posts(bot)) == 1
    assert len(bot.upbit.orders) == 1
    assert len(await db.orders()) == 1
    said = answers(bot, mark) + [text_of(c) for c in bot.tg.calls("sendMessage", after=mark)]
    assert sum("Already confirmed" in s for s in said) == 4, said

    # A later press (buttons are gone, so a stale client) places nothing either.
    later = await bot.press(message_id(preview), confirm_data(preview), forge=True)
    await wait_answers(bot, later, 1)
    await quiet(bot)
    assert len(posts(bot)) == 1
    # The bot is still up.
    assert "Upbit sell bot" in text_of(await bot.command("/help"))


async def test_another_users_press_is_refused(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    mark = await bot.press(
        message_id(preview), confirm_data(preview), user=OTHER, chat_id=USER, forge=True
    )
    said = await wait_answers(bot, mark, 1)
    await quiet(bot)
    assert posts(bot) == []
    assert await db.orders() == []
    assert any("belongs to someone else" in s for s in said), said
    # The owner's preview is untouched and still works.
    assert bot.tg.message(USER, message_id(preview)).buttons
    edit = await confirm(bot, preview)
    assert "Order placed" in text_of(edit)
    assert len(posts(bot)) == 1


async def test_balance_changed_before_confirm_sends_nothing(
    bot_factory: BotFactory, db: Db
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")  # 0.05 of 0.1
    bot.upbit.set_account("BTC", balance="0.04", avg_buy_price=90_000_000)
    edit = await confirm(bot, preview)
    assert "now 0.04 is available" in text_of(edit) and "Nothing was sold" in text_of(edit)
    await quiet(bot)
    assert posts(bot) == []
    assert await db.orders() == []


# --------------------------------------------------------------------------- Upbit errors


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("insufficient_funds_ask", "balance is not enough"),
        ("under_min_total_market_ask", "volume × the best bid"),
        ("thirdparty_agreement_required", "need a one-time consent"),
        ("notfoundmarket", "the market KRW-BTC does not exist"),
        ("invalid_volume_ask", "did not accept the volume"),
        ("no_authorization_ip", "IP address is not on the API key's allowlist"),
        ("expired_access_key", "API key has expired"),
        ("429", "rate-limiting"),
        ("market_offline", "market is offline"),
    ],
)
async def test_upbit_error_on_the_post_is_reported_once(
    bot_factory: BotFactory, db: Db, name: str, says: str
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    bot.upbit.fail_next("POST", ORDERS, name)
    mark = bot.tg.mark()
    edit = await confirm(bot, preview)
    assert "Order not placed" in text_of(edit) and says in text_of(edit), text_of(edit)
    assert not edit.params.get("reply_markup")
    await quiet(bot, 1.0)
    (post,) = posts(bot)
    assert post.status is not None and post.status >= 400
    assert bot.upbit.orders == {}
    (order,) = await db.orders()
    assert order.state is OrderState.FAILED
    assert order.identifier == post.body["identifier"]
    assert order.last_error is not None and (name in order.last_error or name == "429")
    # No fill notice (nor any other message) follows for the refused order.
    assert bot.tg.calls("sendMessage", after=mark) == []
    assert order.announced_at is not None


# --------------------------------------------------------------------------- Korean


async def test_korean_replies(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    help_text = text_of(await bot.command("/help", language_code="ko"))
    assert "업비트 매도 봇" in help_text
    refusal = text_of(await bot.command("/sell BTC 150%", language_code="ko"))
    assert "비율은 0%보다 크고 100% 이하여야 합니다" in refusal
    preview = await open_preview(bot, "/sell BTC 50%", language_code="ko")
    assert "매도 미리보기" in text_of(preview) and "수량" in text_of(preview)
    assert first_row(preview)[0]["text"] == "✅ 매도 확인"
    assert first_row(preview)[1]["text"] == "✖ 취소"
    edit = await confirm(bot, preview, language_code="ko")
    assert "주문 접수" in text_of(edit)
    notice = await bot.message_after(0, contains="매도 체결")
    assert "체결 수량" in text_of(notice)
    assert len(posts(bot)) == 1


# --------------------------------------------------------------------------- /balance


async def test_balance_shows_every_holding(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    bot.upbit.set_account("ETH", balance="1.5", locked="0.5", avg_buy_price=4_000_000)
    bot.upbit.add_market("KRW-DOGE", bids=[(200, 5000)], asks=[(201, 5000)])
    bot.upbit.set_account("DOGE", balance=10, avg_buy_price=250)  # 2,000 KRW < 5,000
    reply = await bot.command("/balance")
    text = text_of(reply)
    assert "<b>KRW</b> 1,000,000 KRW · available 1,000,000 KRW" in text
    assert (
        "<b>Bitcoin</b> BTC\n  Holding 0.1 BTC\n  Avg buy 90,000,000 KRW · now 100,000,000 KRW\n"
        "  Value 10,000,000 KRW · P/L +1,000,000 KRW (+11.11%)"
    ) in text
    assert (
        "<b>Ethereum</b> ETH\n  Holding 2 ETH · 0.5 in orders\n"
        "  Avg buy 4,000,000 KRW · now 5,000,000 KRW\n"
        "  Value 10,000,000 KRW · P/L +2,000,000 KRW (+25%)"
    ) in text
    assert "  Value 1,600,000 KRW · P/L +200,000 KRW (+14.29%)" in text
    assert (
        "<b>DOGE</b> · dust (below the minimum order)\n  Holding 10 DOGE\n"
        "  Avg buy 250 KRW · now 200 KRW\n  Value 2,000 KRW · P/L -500 KRW (-20%)"
    ) in text
    assert text.count("dust") == 1
    # Coins only: cost 9,000,000 + 8,000,000 + 1,400,000 + 2,500; value 21,602,000.
    assert "Total cost: 18,402,500 KRW\nTotal value: 21,602,000 KRW" in text
    assert "P/L: <b>+3,199,500 KRW (+17.39%)</b>" in text
    # With the 1,000,000 KRW in cash.
    assert "Total assets: <b>22,602,000 KRW</b>" in text
    buttons = reply.params["reply_markup"]["inline_keyboard"]
    data = {b["callback_data"] for row in buttons for b in row}
    assert data == {f"qs:KRW-{c}:{p}" for c in ("BTC", "ETH", "XRP") for p in (25, 50, 100)} | {
        "br"
    }
    assert bot.upbit.private_calls() and posts(bot) == []


async def test_balance_with_thirty_holdings_uses_one_ticker_call(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    for i in range(30):
        code = f"C{i:02d}"
        bot.upbit.add_market(f"KRW-{code}", bids=[(1000 + i, 100)], asks=[(1001 + i, 100)])
        bot.upbit.set_account(code, balance=10 + i, avg_buy_price=1000)
    mark = bot.tg.mark()
    bot.tg.send_command(USER, "/balance")

    def has_keyboard(call: Call) -> bool:
        return bool(call.params.get("reply_markup"))

    last = await bot.tg.await_message(USER, has_keyboard, after=mark, timeout=10)
    text = "\n".join(text_of(c) for c in bot.tg.calls("sendMessage", after=mark))
    assert last.ok
    for i in range(30):
        assert f"<b>C{i:02d}</b>\n  Holding {10 + i} C{i:02d}\n" in text
    tickers = bot.upbit.requests_to("GET", "/v1/ticker")
    assert len(tickers) == 1
    asked = set(tickers[0].query["markets"][0].split(","))
    assert {f"KRW-C{i:02d}" for i in range(30)} | {"KRW-BTC", "KRW-ETH", "KRW-XRP"} == asked
    sent = [c for c in bot.tg.calls("sendMessage", after=mark) if c.ok]
    buttons = [b for c in sent for row in _rows(c) for b in row]
    # 33 sellable coins: a picker, 30 coins a page, then the next page and Refresh.
    data = [b["callback_data"] for b in buttons]
    assert len(data) == 32 and data[-2:] == ["pg:b:2", "br"]
    assert all(d.startswith("sp:b:KRW-") for d in data[:30])
    assert "Total assets: <b>" in text


def _rows(call: Call) -> list[list[dict[str, Any]]]:
    markup = call.params.get("reply_markup")
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or []
    assert isinstance(rows, list)
    return rows


async def test_a_price_fall_before_confirm_sends_nothing_and_offers_a_fresh_preview(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    bot.upbit.set_account("BTC", balance="0.1", avg_buy_price=90_000_000)
    preview = await open_preview(bot, "/sell BTC 0.1")
    # Between the preview and the press the bids fall 5 % (MAX_PRICE_DROP_PERCENT is 3).
    fell_at = time.time()
    bot.upbit.set_orderbook("KRW-BTC", bids=[(95_000_000 - i * 10_000, 1) for i in range(30)])
    # The bot keeps the book of an open preview fresh in the background; the press checks
    # the newest one. Its second read after the fall starts only once the first is stored.
    await asyncio.to_thread(
        bot.upbit.wait_for_requests, "GET", "/v1/orderbook", since=fell_at, count=2
    )
    mark = await bot.press(message_id(preview), confirm_data(preview))
    edit = await bot.edit_after(mark, message_id(preview))
    assert "price fell" in text_of(edit) and "Nothing was sent" in text_of(edit)
    assert "9,495,250" in text_of(edit)  # 0.1 × 95,000,000 less the 0.05 % fee
    fresh = await bot.message_after(mark, contains="Sell preview")
    assert "0.1 BTC" in text_of(fresh) and "95,000,000" in text_of(fresh)
    assert posts(bot) == []  # nothing was sent

    # The fresh preview, on the book as it now is, places the order.
    mark = await bot.press(message_id(fresh), confirm_data(fresh))
    placed = await bot.edit_after(mark, message_id(fresh))
    assert "Order placed" in text_of(placed)
    (post,) = posts(bot)
    assert post.body["volume"] == "0.1"
