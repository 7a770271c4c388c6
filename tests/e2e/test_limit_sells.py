"""Limit and protected sells end to end: the real bot against the Telegram and Upbit
stand-ins (and once as paper). The price goes to Upbit on the market's tick, rounded in the
seller's favour; a limit sell rests until the book reaches it (across a restart too) and
is announced once; a protected sell is IOC at the floor, its notice says what was left and
offers a preview for the rest; bad input changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import USER, BotFactory, RunningBot, bot_settings, running_bot
from tests.standins.telegram import Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn

D = Decimal
ORDERS = "/v1/orders"


def text_of(call: Call) -> str:
    return str(call.params.get("text", ""))


def buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def confirm(bot: RunningBot, preview: Call) -> tuple[int, Call]:
    first = buttons(preview)[0]["callback_data"]
    assert first.startswith("sc:")
    mark = await bot.press(preview.result["message_id"], first)
    return mark, await bot.edit_after(mark, preview.result["message_id"])


def notices(tg: TelegramStandin, after: int, word: str) -> list[Call]:
    return [c for c in tg.calls("sendMessage", after=after) if word in text_of(c)]


async def test_limit_sell_rests_shows_progress_and_is_announced_once(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    bot = await bot_factory()
    preview = await bot.command("/sell XRP 50% @ 812.34")
    text = text_of(preview)
    assert "Limit sell preview — KRW-XRP" in text
    assert (
        "Limit price: <b>812.4 KRW</b> (rounded up from 812.34 to the market's price step of 0.1)"
        in text
    )
    assert "Volume: <b>1,000 XRP</b>" in text
    assert "Sells at once" not in text  # the best bid is 800
    # 1,000 XRP at 812.4 less 0.05 % fee, against an average buy price of 700.
    net = D(1000) * D("812.4") * (1 - D("0.0005"))
    assert f"Expected realised P/L: <b>+{net - 700_000:,.0f} KRW" in text

    mark, placed = await confirm(bot, preview)
    assert "Order placed" in text_of(placed)
    (post,) = upbit_standin.requests_to("POST", ORDERS)
    assert post.body is not None
    assert (post.body["ord_type"], post.body["price"], post.body["volume"]) == (
        "limit",
        "812.4",
        "1000",
    )
    assert "time_in_force" not in post.body

    listing = await bot.command("/open")
    assert "KRW-XRP · sell limit · 812.4 KRW" in text_of(listing)
    assert "0 of 1,000 XRP filled (0%)" in text_of(listing)

    upbit_standin.set_orderbook("KRW-XRP", bids=[(813, 400), (800, 10_000)])
    await bot.services.watcher.sweep()
    listing = await bot.command("/open")
    assert "400 of 1,000 XRP filled (40%)" in text_of(listing)
    assert not notices(bot.tg, mark, "Sold")  # not final yet: nothing announced

    upbit_standin.set_orderbook("KRW-XRP", bids=[("812.4", 10_000)])
    notice = await bot.message_after(mark, contains="Sold")
    assert "Executed: 1,000 XRP" in text_of(notice)
    for _ in range(3):
        await bot.services.watcher.sweep()
    assert len(notices(bot.tg, mark, "Sold")) == 1


async def test_limit_sell_filled_while_the_bot_was_down_is_announced_once(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    settings = bot_settings(telegram_standin, upbit_standin, f"sqlite:///{tmp_path}/bot.db")
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        preview = await bot.command("/sell XRP 500 @ 900")
        mark, placed = await confirm(bot, preview)
        assert "Order placed" in text_of(placed)
    (uuid,) = upbit_standin.orders
    upbit_standin.set_orderbook("KRW-XRP", bids=[(900, 300), (850, 10_000)])  # part, bot down
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        await bot.services.watcher.sweep()
        assert upbit_standin.order(uuid).executed_volume == D(300)  # type: ignore[union-attr]
        assert not notices(telegram_standin, mark, "sold")
    upbit_standin.set_orderbook("KRW-XRP", bids=[(901, 10_000)])  # the rest, bot down again
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        notice = await bot.message_after(mark, contains="Sold")
        assert "Executed: 500 XRP" in text_of(notice)
        assert "Gross proceeds: 450,200 KRW" in text_of(notice)  # 300 × 900 + 200 × 901
        await bot.services.watcher.sweep()
    assert len(notices(telegram_standin, mark, "Sold")) == 1


async def test_protected_sell_reports_the_rest_and_offers_it(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 500), (795, 500), (790, 5_000)])
    bot = await bot_factory()
    preview = await bot.command("/sell XRP all slip 1%")
    text = text_of(preview)
    assert "Protected sell preview — KRW-XRP" in text
    assert "Floor: <b>792.0 KRW</b>" in text  # 800 × 0.99, on the 0.1 tick
    assert "The book takes now: 1,000 XRP" in text
    assert "about 1,000 XRP would stay unsold" in text

    mark, placed = await confirm(bot, preview)
    assert "Order placed" in text_of(placed)
    (post,) = upbit_standin.requests_to("POST", ORDERS)
    assert post.body is not None
    assert (post.body["ord_type"], post.body["price"], post.body["time_in_force"]) == (
        "limit",
        "792",
        "ioc",
    )
    notice = await bot.message_after(mark, contains="Partially sold")
    assert "Executed: 1,000 of 2,000 XRP" in text_of(notice)
    assert "Left unsold: 1,000 XRP" in text_of(notice)
    (rest_button,) = buttons(notice)
    assert rest_button["callback_data"] == "sr:KRW-XRP:1000:1"

    upbit_standin.set_orderbook("KRW-XRP", bids=[(780, 5_000)])
    mark = await bot.press(notice.result["message_id"], rest_button["callback_data"])
    again = await bot.message_after(mark, contains="Protected sell preview")
    assert "Volume: <b>1,000 XRP</b> (100% of 1,000 available)" in text_of(again)
    assert "Floor: <b>772.2 KRW</b>" in text_of(again)
    assert len(upbit_standin.requests_to("POST", ORDERS)) == 1  # nothing sold without Confirm


@pytest.mark.parametrize(
    ("command", "lang", "expected"),
    [
        ("/sell XRP 50% @ 0", "en", "The price must be more than zero"),
        ("/sell XRP 50% @ 1234567890123456", "en", "has too many digits"),
        ("/sell XRP 50% @ 8.123456789", "en", "has too many digits"),
        ("/sell XRP 50% @ abc", "en", "I can't read the price"),
        ("/sell XRP all slip 25%", "en", "The slip must be from 0.1% to 20%"),
        ("/sell XRP all slip 0.05%", "en", "The slip must be from 0.1% to 20%"),
        ("/sell XRP all slip 1% @ 800", "en", "not both"),
        ("/sell DOGE all slip 1%", "en", "You hold no DOGE"),
        ("/sell XRP all 슬리피지 30%", "ko", "슬리피지는 0.1%에서 20% 사이여야 합니다"),
        ("/sell XRP 50% @ 0", "ko", "가격은 0보다 커야 합니다"),
    ],
)
async def test_bad_tails_are_refused_and_change_nothing(
    bot_factory: BotFactory,
    upbit_standin: UpbitStandIn,
    command: str,
    lang: str,
    expected: str,
) -> None:
    bot = await bot_factory()
    reply = await bot.command(command, language_code=lang)
    assert expected in text_of(reply)
    assert not buttons(reply)
    assert upbit_standin.requests_to("POST", ORDERS) == []


async def test_thin_book_refusal_points_to_protected_and_limit_sells(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 10)])
    bot = await bot_factory()
    reply = await bot.command("/sell XRP all")
    assert "slip 1%" in text_of(reply) and "@ PRICE" in text_of(reply)
    (offer,) = buttons(reply)
    assert offer["callback_data"] == "sr:KRW-XRP:2000:1"
    mark = await bot.press(reply.result["message_id"], offer["callback_data"])
    preview = await bot.message_after(mark, contains="Protected sell preview")
    assert "Volume: <b>2,000 XRP</b>" in text_of(preview)
    assert "Floor: <b>792.0 KRW</b>" in text_of(preview)
    assert upbit_standin.requests_to("POST", ORDERS) == []


async def test_paper_limit_and_protected_sells(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    settings = bot_settings(
        telegram_standin,
        upbit_standin,
        f"sqlite:///{tmp_path}/paper.db",
        paper_trading="true",
        paper_balances="KRW=0,XRP=1000",
        upbit_access_key=None,
        upbit_secret_key=None,
    )
    upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 300), (790, 5_000)])
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        preview = await bot.command("/sell XRP 50% @ 805")
        assert "PAPER" in text_of(preview)
        mark, placed = await confirm(bot, preview)
        assert "Order placed" in text_of(placed)
        listing = await bot.command("/open")
        assert "0 of 500 XRP filled" in text_of(listing)

        upbit_standin.set_orderbook("KRW-XRP", bids=[(806, 10_000)])
        notice = await bot.message_after(mark, contains="Sold", timeout=30)
        assert "Executed: 500 XRP" in text_of(notice)

        upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 300), (700, 5_000)])
        preview = await bot.command("/sell XRP all slip 1%")
        mark, placed = await confirm(bot, preview)
        notice = await bot.message_after(mark, contains="Partially sold")
        assert "Executed: 300 of 500 XRP" in text_of(notice)
        assert "Left unsold: 200 XRP" in text_of(notice)
    assert upbit_standin.requests_to("POST", ORDERS) == []  # paper never posts
    assert USER


async def test_korean_limit_and_protected_previews(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    bot = await bot_factory()
    limit = await bot.command("/sell XRP 50% @ 812.34", language_code="ko")
    text = text_of(limit)
    assert "지정가 매도 미리보기 — KRW-XRP" in text
    assert "지정가: <b>812.4원</b> (입력한 812.34에서 호가 단위 0.1에 맞춰 올림)" in text
    protected = await bot.command("/sell XRP all 슬리피지 1%", language_code="ko")
    assert "보호 매도 미리보기 — KRW-XRP" in text_of(protected)
    assert "최저 매도가: <b>792.0원</b>" in text_of(protected)
    assert upbit_standin.requests_to("POST", ORDERS) == []


async def test_daily_limit_weighs_all_a_protected_sell_may_sell(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    # The book takes 1,000 of 2,000 XRP at the floor now (800,000 KRW), but by Confirm it
    # could take all of it (about 1,600,000 KRW): a 1,000,000 KRW daily limit stops it.
    upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 500), (795, 500), (790, 5_000)])
    bot = await bot_factory(daily_sell_limit_krw="1000000")
    preview = await bot.command("/sell XRP all slip 1%")
    assert "Protected sell preview" in text_of(preview)
    _, outcome = await confirm(bot, preview)
    assert "Not sold: daily sell limit" in text_of(outcome)
    assert "about 1,600,000 KRW" in text_of(outcome)
    assert upbit_standin.requests_to("POST", ORDERS) == []
