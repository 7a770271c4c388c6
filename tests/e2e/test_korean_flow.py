"""Korean-first end to end: coin names, the new amount forms, a sell with no typing, the
fill notice's first line, /balance with Refresh, warnings and 150 holdings, /orders buttons.

The real bot against the Telegram and Upbit stand-ins (which enforce Telegram's 64-byte
button data and answer ``GET /v1/market/all`` with Korean and English names).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from bot.telegram.keyboards import MAX_BUTTONS, MAX_MARKUP_BYTES
from tests.e2e.harness import USER, BotFactory, RunningBot
from tests.e2e.process import order_log
from tests.e2e.test_sell_flow import (
    Db,
    confirm,
    message_id,
    open_preview,
    posts,
    text_of,
)
from tests.e2e.test_sell_flow import db as _db_fixture
from tests.standins.telegram import Call

db = _db_fixture
KO: dict[str, Any] = {"language_code": "ko"}
TELEGRAM_LIMIT = 4096


def buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup")
    if not isinstance(markup, dict):
        return []
    return [b for row in markup.get("inline_keyboard") or [] for b in row]


def data_of(call: Call) -> list[str]:
    return [str(b["callback_data"]) for b in buttons(call)]


def within_telegram_limits(call: Call) -> None:
    markup = call.params.get("reply_markup")
    assert len(text_of(call)) <= TELEGRAM_LIMIT
    if isinstance(markup, dict):
        assert len(buttons(call)) <= MAX_BUTTONS
        assert len(json.dumps(markup, ensure_ascii=False).encode()) <= MAX_MARKUP_BYTES
        assert all(len(d.encode()) <= 64 for d in data_of(call))


async def press_and_wait(bot: RunningBot, call: Call, data: str, **kwargs: Any) -> int:
    return await bot.press(message_id(call), data, **kwargs)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("command", "lang", "says"),
    [
        ("/sell 비트코인 절반", "ko", "매도 미리보기 — KRW-BTC</b> (비트코인)"),
        ("/sell Bitcoin half", "en", "Sell preview — KRW-BTC</b> (Bitcoin)"),
        ("/sell bitcoin 50%", "en", "Sell preview — KRW-BTC</b> (Bitcoin)"),
        ("/sell BITCOIN 0.05", "ko", "매도 미리보기 — KRW-BTC</b> (비트코인)"),
        ("/sell 이더리움 1.5만원", "ko", "매도 미리보기 — KRW-ETH</b> (이더리움)"),
    ],
)
async def test_sell_accepts_korean_and_english_names(
    bot_factory: BotFactory, command: str, lang: str, says: str
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, command, language_code=lang)
    assert says in text_of(preview), text_of(preview)
    edit = await confirm(bot, preview, language_code=lang)
    assert "UUID" in text_of(edit)
    (post,) = posts(bot)
    assert post.body["market"] == ("KRW-BTC" if "BTC" in says else "KRW-ETH")


async def test_names_come_from_one_cached_market_list(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    for command in ("/sell 비트코인 10%", "/sell 리플 100", "/balance", "/sell Ethereum 10%"):
        await bot.command(command, **KO)
    # Refreshed only when older than ten minutes: one call for all of these.
    assert len(bot.upbit.requests_to("GET", "/v1/market/all")) == 1


# --------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("amount", "net"),
    [
        ("5만원", Decimal(50_000)),
        ("50,000원", Decimal(50_000)),
        ("1.5만원", Decimal(15_000)),
        ("50000 krw", Decimal(50_000)),
        ("50,000 원", Decimal(50_000)),
        ("5 만원", Decimal(50_000)),
    ],
)
async def test_korean_amounts_sell_for_that_much(
    bot_factory: BotFactory, db: Db, amount: str, net: Decimal
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, f"/sell BTC {amount}", **KO)
    text = text_of(preview)
    # The volume is walked from the book so the net lands at (just under) the amount asked.
    line = next(row for row in text.split("\n") if row.startswith("예상 실수령액"))
    received = Decimal(line.split("<b>")[1].split("원")[0].replace(",", ""))
    assert net - 2 <= received <= net, text
    await confirm(bot, preview, **KO)
    (post,) = posts(bot)
    volume = Decimal(post.body["volume"])
    assert volume * 100_000_000 * (1 - Decimal("0.0005")) <= net + 1
    (order,) = await db.orders()
    assert order.requested_volume == volume


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("/sell BTC 전량", "0.1 BTC"),
        ("/sell BTC 절반", "0.05 BTC"),
        ("/sell BTC all", "0.1 BTC"),
        ("/sell BTC half", "0.05 BTC"),
    ],
)
async def test_word_amounts(bot_factory: BotFactory, command: str, says: str) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, command, **KO)
    assert f"매도 수량: <b>{says}</b>" in text_of(preview)


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("/sell BTC 5만", "<code>5만원</code>처럼"),
        ("/sell BTC ５만원", "<code>5만원</code>, <code>50,000원</code>"),
        ("/sell BTC 1e5원", "숫자는 반각 0~9로"),
        ("/sell BTC 5,0000원", "받을 금액(<code>5만원</code>"),
        ("/sell BTC 150%", "<code>50%</code>, <code>전량</code>"),
        ("/sell BTC 0원", "0보다 큰 수량"),
        ("/sell 없는코인 50%", "티커(BTC), 마켓 코드(KRW-BTC), 코인 이름(비트코인)"),
    ],
)
async def test_refusals_say_what_would_have_worked(
    bot_factory: BotFactory, db: Db, command: str, says: str
) -> None:
    bot = await bot_factory()
    reply = await bot.command(command, **KO)
    assert says in text_of(reply), text_of(reply)
    assert "미리보기 —" not in text_of(reply)
    assert await db.pending() == [] and posts(bot) == []


# --------------------------------------------------------------------------- no typing


async def test_sell_with_no_typing(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    picker = await bot.command("/sell", **KO)
    assert "어떤 코인을 매도할까요?" in text_of(picker)
    within_telegram_limits(picker)
    assert data_of(picker) == ["sp:s:KRW-BTC", "sp:s:KRW-ETH", "sp:s:KRW-XRP"]
    assert buttons(picker)[0]["text"] == "비트코인 BTC"

    mark = await press_and_wait(bot, picker, "sp:s:KRW-BTC", **KO)
    amounts = await bot.edit_after(mark, message_id(picker))
    assert "비트코인 매도" in text_of(amounts) and "주문가능: 0.1 BTC" in text_of(amounts)
    assert data_of(amounts) == [
        "qs:KRW-BTC:25",
        "qs:KRW-BTC:50",
        "qs:KRW-BTC:100",
        "sa:KRW-BTC",
    ]

    mark = await press_and_wait(bot, amounts, "qs:KRW-BTC:50", **KO)
    preview = await bot.message_after(mark, contains="매도 미리보기")
    assert "매도 수량: <b>0.05 BTC</b>" in text_of(preview)
    edit = await confirm(bot, preview, **KO)
    assert "주문 접수" in text_of(edit)
    (post,) = posts(bot)
    assert post.body["volume"] == "0.05" and post.body["market"] == "KRW-BTC"


async def test_another_amount_by_reply(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    amounts = await bot.command("/sell 비트코인", **KO)
    assert data_of(amounts)[-1] == "sa:KRW-BTC"
    mark = await press_and_wait(bot, amounts, "sa:KRW-BTC", **KO)
    question = await bot.message_after(mark, contains="답장으로")
    assert question.params["reply_markup"]["force_reply"] is True
    mark = bot.tg.mark()
    bot.tg.send_text(USER, "3만원", reply_to=message_id(question), **KO)
    preview = await bot.message_after(mark, contains="매도 미리보기 — KRW-BTC")
    assert "매도 수량: <b>0.00030015 BTC</b>" in text_of(preview)  # 30,000원 after the fee
    assert "1개를 취소했습니다" in text_of(await bot.command("/cancel", **KO))
    # A bad reply is refused like a bad /sell, with what would have worked.
    mark = bot.tg.mark()
    bot.tg.send_text(USER, "많이", reply_to=message_id(question), **KO)
    refusal = await bot.message_after(mark)
    assert "수량을 읽지 못했습니다" in text_of(refusal)
    # A reply to any other message is not an amount.
    mark = bot.tg.mark()
    bot.tg.send_text(USER, "50%", reply_to=message_id(amounts), **KO)
    assert "취소할 미리보기가 없습니다" in text_of(await bot.command("/cancel", **KO))


async def test_sell_picker_with_nothing_sellable(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    for currency in ("BTC", "ETH", "XRP"):
        bot.upbit.remove_account(currency)
    reply = await bot.command("/sell", **KO)
    assert "지금 매도할 수 있는 코인이 없습니다" in text_of(reply)


# --------------------------------------------------------------------------- notices


async def test_fill_notice_first_line_and_realised_profit(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    bot.upbit.set_account("BTC", balance="0.1", avg_buy_price=90_000_000)
    preview = await open_preview(bot, "/sell 비트코인 절반", **KO)
    assert "예상 실현손익: <b>+" in text_of(preview)
    assert "(매수평균가 90,000,000원 기준)" in text_of(preview)
    mark = bot.tg.mark()
    await confirm(bot, preview, **KO)
    notice = await bot.message_after(mark, contains="매도 체결")
    first, second, *_ = text_of(notice).split("\n")
    async with order_log(bot.settings.database_url) as repo:
        (order,) = await repo.list_all()
    assert order.net_funds is not None and order.realised_pnl is not None
    net = f"{order.net_funds:,.0f}"
    assert first == f"✅ BTC 0.05 매도 체결 · 실수령 {net}원"
    assert second == "비트코인 · KRW-BTC 시장가 매도가 모두 체결되었습니다."
    pnl = f"{order.realised_pnl:,.0f}"
    assert f"실현손익: <b>+{pnl}원 (+" in text_of(notice)


async def test_paper_tag_sits_inside_the_first_line(bot_factory: BotFactory) -> None:
    bot = await bot_factory(
        paper_trading="true",
        paper_balances="KRW=1000,BTC=0.05",
        upbit_access_key=None,
        upbit_secret_key=None,
    )
    preview = await open_preview(bot, "/sell BTC 전량", **KO)
    mark = bot.tg.mark()
    await confirm(bot, preview, **KO)
    notice = await bot.message_after(mark, contains="매도 체결")
    assert text_of(notice).startswith("✅ [모의] BTC 0.05 매도 체결 · 실수령 ")


# --------------------------------------------------------------------------- /balance


async def test_balance_in_korean_with_profit_in_won_warning_and_refresh(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    bot.upbit.add_market(
        "KRW-BTT",
        korean_name="비트토렌트",
        english_name="BitTorrent",
        bids=[("0.000873", 100_000_000)],
        asks=[("0.000874", 100_000_000)],
        trade_price=Decimal("0.000873"),
        warning=True,
    )
    bot.upbit.set_account("BTT", balance=25_000_000, avg_buy_price="0.00091234")
    reply = await bot.command("/balance", **KO)
    text = text_of(reply)
    within_telegram_limits(reply)
    assert "<b>보유 KRW</b> 1,000,000원 · 주문가능 1,000,000원" in text
    assert (
        "<b>비트코인</b> BTC\n  보유수량 0.1 BTC\n"
        "  매수평균가 90,000,000원 · 현재가 100,000,000원\n"
        "  평가금액 10,000,000원 · 평가손익 +1,000,000원 (+11.11%)"
    ) in text
    # Prices keep every digit Upbit quotes; the warning is marked.
    assert "<b>비트토렌트</b> BTT · ⚠️ 투자유의" in text
    assert "매수평균가 0.00091234원 · 현재가 0.000873원" in text
    assert "총매수: " in text and "평가손익: <b>" in text and "총 보유자산: <b>" in text
    assert data_of(reply)[-1] == "br"

    bot.upbit.set_account("BTC", balance="0.2", avg_buy_price=90_000_000)
    mark = await press_and_wait(bot, reply, "br", **KO)
    refreshed = await bot.edit_after(mark, message_id(reply))
    assert "보유수량 0.2 BTC" in text_of(refreshed)

    # The preview of a coin under the warning says so.
    preview = await open_preview(bot, "/sell 비트토렌트 전량", **KO)
    assert "⚠️ 업비트 투자유의 종목입니다." in text_of(preview)


async def test_balance_with_150_holdings_is_one_message_with_pages_and_every_coin_reachable(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    codes = [f"K{i:03d}" for i in range(150)]
    for i, code in enumerate(codes):
        bot.upbit.add_market(
            f"KRW-{code}",
            korean_name=f"코인{i:03d}",
            english_name=f"Coin {i:03d}",
            bids=[(1000 + i, 100)],
            asks=[(1001 + i, 100)],
        )
        bot.upbit.set_account(code, balance=10 + i, avg_buy_price=1000)
    mark = bot.tg.mark()
    bot.tg.send_command(USER, "/balance", **KO)
    first = await bot.tg.await_message(USER, lambda c: bool(buttons(c)), after=mark, timeout=15)
    assert [c.ok for c in bot.tg.calls("sendMessage", after=mark)] == [True]  # one message
    assert "<b>업비트 보유자산</b> · 1/16쪽 (평가금액 순 1~10번째, 전체 154개)" in text_of(first)
    assert "총 보유자산" in text_of(first)
    assert data_of(first)[-3:] == ["bp:16", "bp:1:r", "bp:2"]

    # ▶ through every page of the same message: each coin on exactly one page, each
    # sellable one with its quick-sell buttons there.
    seen: list[str] = []
    sells: set[str] = set()
    current = first
    for page in range(1, 17):
        within_telegram_limits(current)
        assert f" · {page}/16쪽 " in text_of(current)
        seen += re.findall(r"<b>코인\d{3}</b> (K\d{3})", text_of(current))
        sells |= {d.removeprefix("qs:").removesuffix(":100") for d in data_of(current)}
        if page == 16:
            break
        mark = await press_and_wait(bot, first, f"bp:{page + 1}", **KO)
        current = await bot.edit_after(mark, message_id(first))
    assert sorted(seen) == codes
    assert {f"KRW-{code}" for code in codes} <= sells
    assert "<b>코인000</b> K000" in text_of(current)  # the least valuable comes last
    assert data_of(current)[-1] == "bp:1"  # ▶ on the last page goes round to the first

    # A coin from the last page: its quick-sell opens the usual preview.
    mark = await press_and_wait(bot, first, "qs:KRW-K000:100", **KO)
    preview = await bot.message_after(mark, contains="매도 미리보기 — KRW-K000")
    assert "매도 수량: <b>10 K000</b>" in text_of(preview)


# --------------------------------------------------------------------------- /orders


async def test_orders_rows_are_buttons_that_open_the_order(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 0.01", **KO)
    edit = await confirm(bot, preview, **KO)
    await bot.message_after(0, contains="매도 체결")
    uuid = text_of(edit).split("<code>")[1].split("</code>")[0]
    listing = await bot.command("/orders", **KO)
    assert "KST" in text_of(listing) and "체결 완료" in text_of(listing)
    (button,) = buttons(listing)
    assert button["callback_data"] == f"od:{uuid}"
    assert button["text"].endswith("BTC 0.01 · 체결 완료")
    mark = await press_and_wait(bot, listing, f"od:{uuid}", **KO)
    detail = await bot.message_after(mark, contains="<b>주문 KRW-BTC</b>")
    assert f"<code>{uuid}</code>" in text_of(detail) and "주문 시각: " in text_of(detail)
