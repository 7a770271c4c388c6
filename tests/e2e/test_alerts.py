"""/alert and /alerts end to end: set, list, delete, fire once with quick-sell buttons."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db.alerts import SqlAlertRepository
from bot.db.engine import create_engine, create_sessionmaker
from bot.services.alerts import MAX_ALERTS_PER_USER, Direction, NewAlert
from tests.e2e.harness import OTHER, USER, BotFactory, RunningBot, bot_settings, running_bot
from tests.e2e.test_sell_flow import message_id, posts, text_of, wait_answers
from tests.standins.telegram import Call

D = Decimal
TICKER = "/v1/ticker"
# REST polling (WebSocket off): the watcher's ticker calls are the events these tests wait for.
FAST = {"alert_interval_seconds": 0.2, "upbit_ws_url": ""}


def _data(call: Call) -> list[str]:
    markup = call.params.get("reply_markup")
    if not isinstance(markup, dict):
        return []
    return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]


async def _ticker_checks(bot: RunningBot, count: int, markets: str | None = None) -> None:
    """Until the alert watcher has asked for prices ``count`` more times (an event, not a
    guessed duration): after that, any alert that was going to fire has fired."""
    start = len(bot.upbit.requests_to("GET", TICKER))

    async def enough() -> None:
        while True:
            calls = bot.upbit.requests_to("GET", TICKER)[start:]
            done = [c for c in calls if c.status is not None]
            if markets is not None:
                done = [c for c in done if c.query.get("markets") == [markets]]
            if len(done) >= count:
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(enough(), 10)


def _alert_messages(bot: RunningBot, after: int = 0) -> list[Call]:
    return [
        c
        for c in bot.tg.calls("sendMessage", after=after)
        if "🔔" in text_of(c) and "now" in text_of(c)
    ]


async def test_alert_fires_once_with_quick_sell_buttons(bot_factory: BotFactory) -> None:
    bot = await bot_factory(**FAST)
    made = await bot.command("/alert BTC >= 110,000,000")
    assert "Alert set: KRW-BTC ≥ 110,000,000 KRW. Now 100,000,000 KRW." in text_of(made)
    listed = await bot.command("/alerts")
    assert "KRW-BTC ≥ 110,000,000 KRW" in text_of(listed)
    assert len(_data(listed)) == 1 and _data(listed)[0].startswith("ad:")

    mark = bot.tg.mark()
    bot.upbit.set_ticker("KRW-BTC", trade_price=D(109_999_999))
    await _ticker_checks(bot, 2, "KRW-BTC")
    assert _alert_messages(bot, mark) == []

    bot.upbit.set_ticker("KRW-BTC", trade_price=D(110_000_000))
    fired = await bot.message_after(mark, contains="🔔")
    assert "🔔 Bitcoin ≥ 110,000,000 KRW: now 110,000,000 KRW" in text_of(fired)
    assert _data(fired) == ["qs:KRW-BTC:25", "qs:KRW-BTC:50", "qs:KRW-BTC:100"]
    # A second alert keeps the watcher polling: it no longer asks for KRW-BTC at all, and
    # the fired alert never speaks again.
    await bot.command("/alert ETH >= 9,000,000")
    bot.upbit.set_ticker("KRW-BTC", trade_price=D(120_000_000))
    await _ticker_checks(bot, 2, "KRW-ETH")
    assert len(_alert_messages(bot, mark)) == 1
    still = text_of(await bot.command("/alerts"))
    assert "KRW-BTC" not in still and "KRW-ETH" in still

    # The button opens the usual preview; nothing is sold without Confirm.
    press = await bot.press(message_id(fired), "qs:KRW-BTC:50")
    preview = await bot.message_after(press, contains="Sell preview")
    assert "0.05 BTC" in text_of(preview)
    assert posts(bot) == []


async def test_percent_alerts_are_measured_from_the_average_buy_price(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(**FAST)
    # BTC: average buy price 90,000,000, now 100,000,000.
    up = text_of(await bot.command("/alert BTC +20%"))
    assert "+20% vs average buy price 90,000,000 KRW: ≥ 108,000,000 KRW" in up
    down = text_of(await bot.command("/alert btc -10%"))
    assert "-10% vs average buy price 90,000,000 KRW: ≤ 81,000,000 KRW" in down

    mark = bot.tg.mark()
    bot.upbit.set_ticker("KRW-BTC", trade_price=D(81_000_000))
    fired = await bot.message_after(mark, contains="🔔")
    assert "≤ 81,000,000 KRW" in text_of(fired) and "now 81,000,000 KRW" in text_of(fired)
    listed = text_of(await bot.command("/alerts"))
    assert "108,000,000" in listed and "81,000,000" not in listed


async def test_one_ticker_call_for_every_watched_market(bot_factory: BotFactory) -> None:
    bot = await bot_factory(**FAST)
    await bot.command("/alert BTC >= 200,000,000")
    await bot.command("/alert XRP <= 100", user=OTHER)
    await bot.command("/alert KRW-ETH >= 9,000,000")
    bot.upbit.clear_requests()
    await _ticker_checks(bot, 3)
    calls = [c for c in bot.upbit.requests_to("GET", TICKER) if c.status is not None]
    assert calls and all(c.query["markets"] == ["KRW-BTC,KRW-ETH,KRW-XRP"] for c in calls)
    assert bot.upbit.rate_limited_count == 0


async def test_delete_button(bot_factory: BotFactory) -> None:
    bot = await bot_factory(**FAST)
    await bot.command("/alert BTC >= 110,000,000")
    await bot.command("/alert ETH <= 4,000,000")
    listed = await bot.command("/alerts")
    first, second = _data(listed)

    # Another user cannot delete it, nor can a forged id.
    for user, data in ((OTHER, first), (USER, "ad:999999"), (USER, "ad:x")):
        mark = await bot.press(message_id(listed), data, user=user, forge=True)
        (answer,) = await wait_answers(bot, mark, 1)
        assert "This alert is gone" in answer

    mark = await bot.press(message_id(listed), first)
    edit = await bot.edit_after(mark, message_id(listed))
    assert "KRW-BTC" not in text_of(edit) and "KRW-ETH ≤ 4,000,000 KRW" in text_of(edit)
    assert _data(edit) == [second]
    # A deleted alert never fires.
    mark = bot.tg.mark()
    bot.upbit.set_ticker("KRW-BTC", trade_price=D(120_000_000))
    await _ticker_checks(bot, 2)
    assert _alert_messages(bot, mark) == []


def _sol_not_held(bot: RunningBot) -> None:
    bot.upbit.add_market("KRW-SOL", bids=[(200_000, 50)], asks=[(200_100, 50)])


BAD = [
    ("usage", "/alert", "Usage: <code>/alert BTC &gt;= 110,000,000</code>"),
    ("no-condition", "/alert BTC", "Usage: <code>/alert"),
    ("unknown-asset", "/alert FOO >= 100", "The market KRW-FOO does not exist"),
    ("unknown-market", "/alert KRW-FOO >= 100", "The market KRW-FOO does not exist"),
    ("html-asset", "/alert <b> >= 100", "I don't know the coin <code>&lt;b&gt;</code>"),
    ("price-zero", "/alert BTC >= 0", "The price must be more than zero"),
    ("price-negative", "/alert BTC <= -5", "The price must be more than zero"),
    ("price-digits", "/alert BTC >= 12345678901234", "too many digits"),
    ("price-decimals", "/alert BTC >= 1.123456789", "too many digits"),
    ("price-junk", "/alert BTC >= 1e9", "I can't read the price <code>1e9</code>"),
    ("price-bad-commas", "/alert BTC >= 1,00,000", "I can't read the price"),
    ("percent-zero", "/alert BTC +0%", "must be between -99% and +1000% and not zero"),
    ("percent-huge", "/alert BTC +5000%", "must be between -99% and +1000%"),
    ("percent-all", "/alert BTC -100%", "must be between -99% and +1000%"),
    ("no-holding", "/alert SOL +20%", "you hold no SOL with a known average buy price"),
    ("met-above", "/alert BTC >= 100,000,000", "already at 100,000,000 KRW, so ≥ 100,000,000"),
    ("met-below", "/alert BTC <= 100,000,001", "The alert was not set"),
    ("met-percent", "/alert BTC +5%", "The alert was not set"),
]


@pytest.mark.parametrize(("command", "says"), [pytest.param(c, s, id=i) for i, c, s in BAD])
async def test_bad_alert_is_refused_and_changes_nothing(
    bot_factory: BotFactory, command: str, says: str
) -> None:
    bot = await bot_factory(**FAST)
    _sol_not_held(bot)
    reply = text_of(await bot.command(command))
    assert says in reply, reply
    assert "Alert set" not in reply
    assert "You have no alerts" in text_of(await bot.command("/alerts"))


async def test_alert_by_coin_name(bot_factory: BotFactory) -> None:
    bot = await bot_factory(**FAST)
    made = text_of(await bot.command("/alert 비트코인 >= 110,000,000", language_code="ko"))
    assert "알림 설정: KRW-BTC" in made
    assert "Alert set: KRW-ETH" in text_of(await bot.command("/alert Ethereum -10%"))
    mark = bot.tg.mark()
    bot.upbit.set_ticker("KRW-BTC", trade_price=D(111_000_000))
    fired = await bot.message_after(mark, contains="🔔")
    assert "🔔 비트코인 110,000,000" in text_of(fired)


async def test_bad_alert_reply_in_korean(bot_factory: BotFactory) -> None:
    bot = await bot_factory(**FAST)
    reply = text_of(await bot.command("/alert BTC >= 0", language_code="ko"))
    assert "가격은 0보다 커야 합니다" in reply
    met = text_of(await bot.command("/alert BTC <= 120,000,000", language_code="ko"))
    assert "이미 120,000,000원 이하 조건을 만족해" in met


async def test_at_most_fifty_alerts(bot_factory: BotFactory, tmp_path: Path) -> None:
    bot = await bot_factory(**FAST)
    engine = create_engine(f"sqlite:///{tmp_path}/bot.db")
    try:
        repo = SqlAlertRepository(create_sessionmaker(engine))
        for i in range(MAX_ALERTS_PER_USER):
            alert = NewAlert(
                USER, USER, "en", "KRW-BTC", Direction.ABOVE, D(200_000_000 + i),
                None, None, datetime.now(UTC),
            )  # fmt: skip
            assert await repo.add_alert(alert, MAX_ALERTS_PER_USER) is not None
    finally:
        await engine.dispose()
    reply = text_of(await bot.command("/alert ETH >= 9,000,000"))
    assert "You already have 50 alerts, the most allowed" in reply
    listed = await bot.command("/alerts")
    assert "(50/50)" in text_of(listed) and "KRW-ETH" not in text_of(listed)
    assert len(_data(listed)) == 50
    # Another user has their own allowance.
    assert "Alert set" in text_of(await bot.command("/alert ETH >= 9,000,000", user=OTHER))


async def test_alerts_in_paper_mode(telegram_standin, upbit_standin, tmp_path) -> None:
    settings = bot_settings(
        telegram_standin,
        upbit_standin,
        f"sqlite:///{tmp_path}/paper.db",
        paper_trading="true",
        paper_balances="KRW=1000000,BTC=0.05",
        upbit_access_key=None,
        upbit_secret_key=None,
        alert_interval_seconds=0.2,
    )
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        made = text_of(await bot.command("/alert BTC <= 95,000,000"))
        assert "PAPER" in made and "Alert set" in made
        mark = bot.tg.mark()
        upbit_standin.set_ticker("KRW-BTC", trade_price=D(94_000_000))
        fired = await bot.message_after(mark, contains="🔔")
        assert "PAPER" in text_of(fired) and "now 94,000,000 KRW" in text_of(fired)
        assert _data(fired)[0] == "qs:KRW-BTC:25"
        assert upbit_standin.private_calls() == []


async def _until(check: Callable[[], bool], timeout: float = 10) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def _subscribed(bot: RunningBot, codes: set[str]) -> None:
    assert await asyncio.to_thread(bot.upbit.wait_for_ticker_subscription, codes, 10)


async def test_streamed_prices_fire_alerts_without_polling(bot_factory: BotFactory) -> None:
    """With UPBIT_WS_URL set, prices come from Upbit's public ticker WebSocket, subscribed to
    exactly the watched markets; no GET /v1/ticker while the stream is up."""
    bot = await bot_factory(alert_interval_seconds=0.2)
    watcher = bot.services.alert_watcher
    await bot.command("/alert BTC >= 110,000,000")
    await bot.command("/alert ETH <= 4,000,000")
    await _subscribed(bot, {"KRW-BTC", "KRW-ETH"})
    await _until(lambda: watcher.streamed_price("KRW-ETH") == D(5_000_000))
    await _until(lambda: watcher.streamed_price("KRW-BTC") == D(100_000_000))

    # From here GET /v1/ticker answers only errors: the price that fires can come only from
    # the stream.
    bot.upbit.clear_requests()
    bot.upbit.fail_next("GET", TICKER, "500", times=10_000)
    mark = bot.tg.mark()
    bot.upbit.set_ticker("KRW-BTC", trade_price=D(110_500_000))
    fired = await bot.message_after(mark, contains="🔔")
    assert "now 110,500,000 KRW" in text_of(fired)
    # Only ETH is left to watch: the subscription follows.
    await _subscribed(bot, {"KRW-ETH"})
    assert bot.upbit.ws_public_connections_made >= 1


async def test_polling_takes_over_when_the_stream_is_down(bot_factory: BotFactory) -> None:
    bot = await bot_factory(alert_interval_seconds=0.2)
    await bot.command("/alert BTC <= 95,000,000")
    await _subscribed(bot, {"KRW-BTC"})
    bot.upbit.ws_enabled = False  # reconnects are refused (HTTP 503)
    bot.upbit.drop_ws_connections()
    await _until(lambda: not bot.services.alert_watcher.streaming)
    await _ticker_checks(bot, 1, "KRW-BTC")  # polling again
    mark = bot.tg.mark()
    bot.upbit.set_ticker("KRW-BTC", trade_price=D(94_000_000))
    fired = await bot.message_after(mark, contains="🔔")
    assert "now 94,000,000 KRW" in text_of(fired)
