"""Fill notices end to end: the real bot, the Telegram and Upbit stand-ins, no mocks.

Every test places a real market sell through /sell → Confirm, makes the stand-in fill (or
cancel) it, and checks what reaches the Telegram stand-in: the right figures, exactly once,
whatever happens to the WebSocket, the POST or Telegram in between.
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest

from bot.domain import OrderState
from tests.e2e.harness import USER, BotFactory, RunningBot
from tests.e2e.process import is_notice, notices, order_log, place_order
from tests.standins.upbit import UpbitStandIn

# Long enough that only the WebSocket (or a wake-up) can explain a notice within seconds;
# with the socket up the watcher's own safety sweep comes only every 15 s.
SLOW_POLL = 60.0
FAST = 5.0  # seconds a notice may take when the right mechanism works


def _grouped(value: Decimal, places: int = 0) -> str:
    """Thousands separators, HALF_UP to ``places`` — written here, not taken from the bot."""
    step = Decimal(1).scaleb(-places)
    text = f"{value.quantize(step, rounding=ROUND_HALF_UP):,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _volume(value: Decimal) -> str:
    text = format(value.quantize(Decimal("0.00000001"), rounding=ROUND_DOWN), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


async def _ws_up(bot: RunningBot) -> None:
    assert await asyncio.to_thread(bot.upbit.wait_for_ws_subscribers, 1, 5.0)
    for _ in range(100):
        if bot.services.watcher.ws_connected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the fill watcher never saw the WebSocket connected")


async def _no_second_notice(bot: RunningBot, uuid: str, wait: float = 1.0) -> None:
    await asyncio.sleep(wait)
    assert len(notices(bot.tg, uuid)) == 1, [c.params["text"] for c in notices(bot.tg, uuid)]


async def test_fill_notice_via_websocket_carries_the_exchange_figures(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    # 1.2 BTC walks three bid levels: a non-trivial average price.
    upbit.set_account("BTC", balance=Decimal(2), avg_buy_price=Decimal(90_000_000))
    bot = await bot_factory(poll_interval_seconds=SLOW_POLL)
    await _ws_up(bot)

    uuid, mark = await place_order(bot, "/sell BTC 1.2")
    await asyncio.sleep(0.3)  # the wake-up sweep after placing has seen "wait"
    assert notices(bot.tg, uuid) == []
    gets_before = len(upbit.requests_to("GET", "/v1/order"))

    filled = upbit.fill_order(uuid)
    # Only the socket can explain a notice within FAST: the next sweep is 15 s away.
    notice = await bot.tg.await_message(
        USER, lambda c: is_notice(c, uuid), timeout=FAST, after=mark
    )
    assert bot.services.watcher.ws_connected
    assert upbit.ws_connections_made >= 1
    # The event only woke the watcher: the figures came from GET /v1/order afterwards.
    assert len(upbit.requests_to("GET", "/v1/order")) > gets_before

    executed = filled.executed_volume
    gross = sum((t.funds for t in filled.trades), Decimal(0))
    fee = filled.paid_fee
    assert len(filled.trades) == 3 and executed == Decimal("1.2")
    avg, net = gross / executed, gross - fee

    text = str(notice.params["text"])
    # The first line alone (a phone's banner) says what was sold and what came in.
    assert text.split("\n")[0] == (
        f"✅ <b>Sold</b> {_volume(executed)} BTC · received {_grouped(net)} KRW"
    )
    assert "Bitcoin · KRW-BTC" in text
    assert f"Executed: {_volume(executed)} BTC" in text
    assert f"Average price: {_grouped(avg)} KRW" in text
    assert f"Gross proceeds: {_grouped(gross)} KRW" in text
    assert f"Fee: {_grouped(fee)} KRW" in text
    assert f"Net received: <b>{_grouped(net)} KRW</b>" in text
    assert f"<code>{uuid}</code>" in text

    async with order_log(bot.settings.database_url) as repo:
        record = await repo.get_order_by_uuid(uuid)
    assert record is not None
    assert record.state is OrderState.DONE
    assert record.executed_volume == executed
    assert record.gross_funds == gross
    assert record.paid_fee == fee
    assert record.avg_price == avg
    assert record.net_funds == net
    await _no_second_notice(bot, uuid)
    async with order_log(bot.settings.database_url) as repo:
        record = await repo.get_order_by_uuid(uuid)
    assert record is not None and record.announced_at is not None


async def test_fill_notice_by_polling_with_the_socket_off(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    bot = await bot_factory(upbit_ws_url="", poll_interval_seconds=0.3)
    assert not bot.services.watcher.ws_enabled

    uuid, mark = await place_order(bot)
    await asyncio.sleep(0.5)
    assert notices(bot.tg, uuid) == []
    filled = upbit.fill_order(uuid)
    notice = await bot.tg.await_message(
        USER, lambda c: is_notice(c, uuid), timeout=FAST, after=mark
    )
    assert "<b>Sold</b>" in notice.params["text"]
    assert f"Executed: {_volume(filled.executed_volume)} BTC" in notice.params["text"]
    assert upbit.ws_connections_made == 0
    await _no_second_notice(bot, uuid)


async def test_socket_dropped_mid_order_polling_takes_over_once(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    bot = await bot_factory(poll_interval_seconds=0.5)
    await _ws_up(bot)
    uuid, mark = await place_order(bot)

    upbit.ws_enabled = False  # reconnects are refused from now on
    assert upbit.drop_ws_connections() >= 1
    for _ in range(100):
        if not bot.services.watcher.ws_connected:
            break
        await asyncio.sleep(0.05)
    assert not bot.services.watcher.ws_connected
    assert upbit.ws_subscriber_count == 0

    upbit.fill_order(uuid)  # the myOrder event has nobody to go to
    notice = await bot.tg.await_message(
        USER, lambda c: is_notice(c, uuid), timeout=FAST, after=mark
    )
    assert "<b>Sold</b>" in notice.params["text"]
    assert upbit.ws_subscriber_count == 0
    await _no_second_notice(bot, uuid, wait=1.5)


async def test_post_dropped_after_create_is_found_by_identifier(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.fail_next("POST", "/v1/orders", "drop_after_create")
    bot = await bot_factory()

    uuid, mark = await place_order(bot)

    assert len(upbit.requests_to("POST", "/v1/orders")) == 1
    assert list(upbit.orders) == [uuid]
    order = upbit.orders[uuid]
    lookups = [
        r
        for r in upbit.requests_to("GET", "/v1/order")
        if r.query.get("identifier") == [order.identifier]
    ]
    assert lookups, "the order was not looked up by its identifier"
    notice = await bot.tg.await_message(
        USER, lambda c: is_notice(c, uuid), timeout=FAST, after=mark
    )
    assert "<b>Sold</b>" in notice.params["text"]
    await _no_second_notice(bot, uuid)
    assert len(upbit.requests_to("POST", "/v1/orders")) == 1
    assert len(upbit.orders) == 1
    async with order_log(bot.settings.database_url) as repo:
        assert len(await repo.list_all()) == 1


async def test_partial_fill_says_so(bot_factory: BotFactory, upbit_standin: UpbitStandIn) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    bot = await bot_factory()
    uuid, mark = await place_order(bot, "/sell BTC 0.01")

    filled = upbit.fill_order(uuid, partial=True)
    assert filled.state == "cancel" and filled.executed_volume == Decimal("0.005")
    notice = await bot.tg.await_message(
        USER, lambda c: is_notice(c, uuid), timeout=FAST, after=mark
    )
    text = str(notice.params["text"])
    assert text.startswith("⚠️ <b>Partially sold</b> 0.005 BTC · received ")
    assert "Executed: 0.005 of 0.01 BTC" in text
    gross = sum((t.funds for t in filled.trades), Decimal(0))
    assert f"Gross proceeds: {_grouped(gross)} KRW" in text
    assert f"Net received: <b>{_grouped(gross - filled.paid_fee)} KRW</b>" in text
    await _no_second_notice(bot, uuid)


async def test_cancel_without_execution_says_nothing_was_sold(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    bot = await bot_factory()
    uuid, mark = await place_order(bot)

    upbit.cancel_order(uuid)
    notice = await bot.tg.await_message(
        USER, lambda c: is_notice(c, uuid), timeout=FAST, after=mark
    )
    text = str(notice.params["text"])
    assert "<b>Order closed without a fill</b>" in text
    assert "Nothing was sold" in text
    assert "Sold</b>" not in text and "Partially" not in text
    await _no_second_notice(bot, uuid)
    async with order_log(bot.settings.database_url) as repo:
        record = await repo.get_order_by_uuid(uuid)
    assert record is not None and record.state is OrderState.CANCEL
    assert record.executed_volume == 0


async def test_notice_survives_two_429s(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    bot = await bot_factory()
    uuid, mark = await place_order(bot)

    bot.tg.fail_next("sendMessage", "429", times=2, retry_after=1)
    upbit.fill_order(uuid)
    notice = await bot.tg.await_message(USER, lambda c: is_notice(c, uuid), timeout=15, after=mark)
    assert "<b>Sold</b>" in notice.params["text"]
    refused = [c for c in bot.tg.calls("sendMessage", after=mark) if c.status == 429]
    assert len(refused) == 2
    await _no_second_notice(bot, uuid)


async def test_telegram_offline_tracking_continues_notice_follows(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    bot = await bot_factory(poll_interval_seconds=0.3)
    uuid, mark = await place_order(bot)

    bot.tg.set_offline(True)
    try:
        upbit.fill_order(uuid)
        state = None
        async with order_log(bot.settings.database_url) as repo:
            for _ in range(100):
                record = await repo.get_order_by_uuid(uuid)
                assert record is not None
                state = record.state
                if state is OrderState.DONE:
                    break
                await asyncio.sleep(0.05)
        assert state is OrderState.DONE, "the order was not tracked while Telegram was down"
        # Long enough for one delivery (with its own retries) to give up for good.
        for _ in range(100):
            if "notice not delivered" in caplog.text:
                break
            await asyncio.sleep(0.1)
        assert "notice not delivered" in caplog.text
        assert notices(bot.tg, uuid) == []
    finally:
        bot.tg.set_offline(False)

    # The retry comes at poll pace (0.3 s), not at the 15 s safety-sweep pace the live
    # socket would otherwise allow: a timeout well under 15 s tells them apart.
    notice = await bot.tg.await_message(
        USER, lambda c: is_notice(c, uuid), timeout=FAST + 3, after=mark
    )
    assert "<b>Sold</b>" in notice.params["text"]
    await _no_second_notice(bot, uuid)
    async with order_log(bot.settings.database_url) as repo:
        record = await repo.get_order_by_uuid(uuid)
    assert record is not None and record.announced_at is not None
