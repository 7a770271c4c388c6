"""Every bad /sell request and forged button: a clear reply, no order, no preview, bot stays up."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.harness import USER, BotFactory, RunningBot
from tests.e2e.test_sell_flow import (
    Db,
    confirm_data,
    message_id,
    open_preview,
    posts,
    quiet,
    text_of,
    wait_answers,
)
from tests.e2e.test_sell_flow import db as _db_fixture
from tests.standins.upbit import UpbitStandIn

db = _db_fixture  # the order-log fixture, shared with test_sell_flow
Setup = Callable[[UpbitStandIn], None]


def _nothing(_: UpbitStandIn) -> None:
    return None


def _limit_only_market(upbit: UpbitStandIn) -> None:
    upbit.add_market("KRW-SOL", bids=[(200_000, 50)], asks=[(200_100, 50)], ask_types=["limit"])
    upbit.set_account("SOL", balance=3, avg_buy_price=150_000)


def _offline_market(upbit: UpbitStandIn) -> None:
    upbit.set_market_state("KRW-ETH", "offline")


REFUSALS: list[tuple[str, str, Setup, str]] = [
    # "/sell" alone and "/sell BTC" offer buttons (tests/e2e/test_korean_flow.py).
    ("three-args", "/sell BTC 1 2", _nothing, "Usage: <code>/sell COIN AMOUNT</code>"),
    ("no-amount-unknown", "/sell FOO", _nothing, "Usage: <code>/sell COIN AMOUNT</code>"),
    ("negative", "/sell BTC -5%", _nothing, "must be more than zero (got -5%)"),
    ("negative-qty", "/sell BTC -0.01", _nothing, "must be more than zero (got -0.01)"),
    ("zero-percent", "/sell BTC 0%", _nothing, "above 0% and at most 100% (got 0%)"),
    ("over-100", "/sell BTC 150%", _nothing, "above 0% and at most 100% (got 150%)"),
    ("zero-qty", "/sell BTC 0", _nothing, "must be more than zero"),
    ("word", "/sell BTC abc", _nothing, "I can't read the amount <code>abc</code>"),
    ("exponent", "/sell BTC 1e3", _nothing, "I can't read the amount <code>1e3</code>"),
    ("nan", "/sell BTC NaN", _nothing, "I can't read the amount <code>NaN</code>"),
    ("infinity", "/sell BTC Infinity", _nothing, "I can't read the amount"),
    ("fullwidth-digits", "/sell BTC ５０%", _nothing, "I can't read the amount"),
    ("arabic-digits", "/sell BTC ٠٫٥", _nothing, "I can't read the amount"),
    ("devanagari-digits", "/sell BTC ५०", _nothing, "I can't read the amount"),
    ("huge-argument", "/sell BTC " + "9" * 4000, _nothing, "too long to be a sell request"),
    ("html-asset", "/sell <b>BTC 50%", _nothing, "the coin <code>&lt;b&gt;BTC</code>"),
    ("not-held", "/sell DOGE 50%", _nothing, "You hold no DOGE that can be sold"),
    ("no-such-market", "/sell KRW-FOO 50%", _nothing, "The market KRW-FOO does not exist"),
    ("no-market-sell", "/sell SOL 50%", _limit_only_market, "does not accept market sell"),
    ("offline-market", "/sell ETH 50%", _offline_market, "KRW-ETH is not trading right now"),
    ("over-balance", "/sell BTC 0.2", _nothing, "sell 0.2 BTC but only 0.1 BTC is available"),
    ("rounds-to-zero", "/sell BTC 0.000000001", _nothing, "rounds down to zero at 8 decimals"),
    ("below-min-total", "/sell BTC 0.00001", _nothing, "minimum order on this market is 5,000"),
    ("wrong-quote", "/sell BTC 50000usdt", _nothing, "quoted in KRW, not USDT"),
]


@pytest.mark.parametrize(
    ("command", "setup", "says"),
    [pytest.param(c, s, w, id=i) for i, c, s, w in REFUSALS],
)
async def test_bad_sell_request_is_refused(
    bot_factory: BotFactory, db: Db, command: str, setup: Setup, says: str
) -> None:
    bot = await bot_factory()
    setup(bot.upbit)
    reply = await bot.command(command)
    assert says in text_of(reply), text_of(reply)
    assert "Sell preview" not in text_of(reply)
    assert not reply.params.get("reply_markup"), "a refusal carries no Confirm button"
    await _nothing_happened(bot, db)


async def _nothing_happened(bot: RunningBot, db: Db) -> None:
    assert posts(bot) == []
    assert bot.upbit.orders == {}
    assert await db.pending() == []
    assert await db.orders() == []
    # Still up, and nothing to cancel: no preview was created.
    assert "no pending preview" in text_of(await bot.command("/cancel"))


@pytest.mark.parametrize(
    ("data", "says"),
    [
        pytest.param("junk-from-nowhere", None, id="junk"),
        pytest.param("sc:<script>", "This preview is unknown", id="confirm-bad-id"),
        pytest.param("sc:AAAAAAAAAAAAAAAA", "This preview is unknown", id="confirm-unknown-id"),
        pytest.param("sx:AAAAAAAAAAAAAAAA", "This preview is unknown", id="cancel-unknown-id"),
        pytest.param("qs:KRW-BTC:101", None, id="quick-sell-bad-percent"),
        pytest.param("qs:KRW-BTC:0", None, id="quick-sell-zero-percent"),
        pytest.param("sc:" + "A" * 61, "This preview is unknown", id="confirm-too-long"),
    ],
)
async def test_forged_button_places_nothing(
    bot_factory: BotFactory, db: Db, data: str, says: str | None
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    mark = await bot.press(message_id(preview), data, forge=True)
    (answer,) = await wait_answers(bot, mark, 1)
    if says is not None:
        assert says in answer
    await quiet(bot)
    assert posts(bot) == []
    assert await db.orders() == []
    # The real preview is untouched: no edit, still pending, no extra messages.
    assert bot.tg.calls("editMessageText", after=mark) == []
    assert bot.tg.calls("sendMessage", after=mark) == []
    assert [p.status for p in await db.pending()] == ["pending"]
    # The bot is still up and the genuine Confirm still works, once.
    mark = await bot.press(message_id(preview), confirm_data(preview))
    edit = await bot.edit_after(mark, message_id(preview))
    assert "Order placed" in text_of(edit)
    assert len(posts(bot)) == 1
    assert int(edit.params["chat_id"]) == USER
