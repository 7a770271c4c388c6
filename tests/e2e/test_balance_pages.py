"""/balance for a large account: ONE message with the totals and a page of holdings (cash
first, then the most valuable), that page's quick-sell buttons and ◀ 🔄 n/N ▶, which edit the
same message. Every press reads the holdings again; a press from an old message (holdings
changed since, or sent before a restart) shows the nearest page or the whole answer, never
an error. Small accounts keep the one-message answer they always had.

The real bot against the Telegram and Upbit stand-ins (the Telegram one refuses text over
4096 characters, more than 100 buttons and callback data over 64 bytes).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.harness import STRANGER, USER, BotFactory, RunningBot
from tests.e2e.process import BotProcess, bot_env
from tests.e2e.test_korean_flow import buttons, data_of, within_telegram_limits
from tests.e2e.test_sell_flow import message_id, text_of, wait_answers
from tests.standins.telegram import Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn

NOT_ALLOWED = "This bot is private."
COINS = [f"H{i:03d}" for i in range(300)]  # H299 is worth the most, H000 the least
ROW = re.compile(r"<b>(H\d{3})</b>\n")


def hold_300(upbit: UpbitStandIn) -> None:
    """KRW 1,000,000 and 300 coins: H{i} 10 coins bought at 1,500, now at 2,000 + 10·i."""
    for currency in ("BTC", "ETH", "XRP"):
        upbit.remove_account(currency)
    for i, code in enumerate(COINS):
        price = 2000 + 10 * i
        upbit.add_market(f"KRW-{code}", bids=[(price, 1000)], asks=[(price + 1, 1000)])
        upbit.set_account(code, balance=10, avg_buy_price=1500)


def rows(call: Call) -> list[str]:
    return ROW.findall(text_of(call))


def upbit_paths(upbit: UpbitStandIn, since: int) -> list[str]:
    return [r.path for r in upbit.requests[since:]]


async def press(bot: RunningBot, message: Call, data: str, *, forge: bool = False) -> Call:
    """Press a page button and return the edit of that message."""
    mark = bot.tg.mark()
    bot.tg.press_button(USER, message_id(message), data, forge=forge)
    return await bot.edit_after(mark, message_id(message))


async def test_300_holdings_one_message_with_totals_first_page_and_page_buttons(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    hold_300(bot.upbit)
    before = len(bot.upbit.requests)
    mark = bot.tg.mark()
    bot.tg.send_command(USER, "/balance")
    # The keyboard rides on the last message of an answer: once it is here, all are.
    first = await bot.tg.await_message(USER, lambda c: bool(buttons(c)), after=mark, timeout=15)
    assert bot.tg.calls("sendMessage", after=mark) == [first] and first.ok
    within_telegram_limits(first)
    assert len(upbit_paths(bot.upbit, before)) <= 4
    text = text_of(first)
    assert text.startswith(
        "<b>Your Upbit holdings</b> · page 1 of 31 (holdings 1-10 of 301, most valuable first)"
    )
    assert "<b>KRW</b> 1,000,000 KRW · available 1,000,000 KRW" in text
    assert rows(first) == [f"H{i}" for i in range(299, 290, -1)]
    assert (
        "<b>H299</b>\n  Holding 10 H299\n  Avg buy 1,500 KRW · now 4,990 KRW\n"
        "  Value 49,900 KRW · P/L +34,900 KRW (+232.67%)"
    ) in text
    # The whole account's totals: cost 300 × 15,000; value 10 × Σ(2,000 + 10·i).
    assert "Total cost: 4,500,000 KRW\nTotal value: 10,485,000 KRW\n" in text
    assert "P/L: <b>+5,985,000 KRW (+133%)</b>\nTotal assets: <b>11,485,000 KRW</b>" in text
    # That page's quick-sell rows, then ◀ (round to the last page), the counter, ▶.
    keyboard = first.params["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard[:-1]] == [
        [f"qs:KRW-H{i}:{p}" for p in (25, 50, 100)] for i in range(299, 290, -1)
    ]
    assert [(b["text"], b["callback_data"]) for b in keyboard[-1]] == [
        ("◀", "bp:31"),
        ("🔄 1/31", "bp:1:r"),
        ("▶", "bp:2"),
    ]

    # ▶ edits the same message to the next ten, read afresh (no more Upbit calls than
    # /balance itself), with their own quick-sell buttons.
    before = len(bot.upbit.requests)
    second = await press(bot, first, "bp:2")
    assert len(upbit_paths(bot.upbit, before)) <= 4
    assert "/v1/accounts" in upbit_paths(bot.upbit, before)
    within_telegram_limits(second)
    assert "page 2 of 31 (holdings 11-20 of 301" in text_of(second)
    assert rows(second) == [f"H{i}" for i in range(290, 280, -1)]
    assert "qs:KRW-H281:100" in data_of(second) and "qs:KRW-H299:100" not in data_of(second)
    assert "Total assets: <b>11,485,000 KRW</b>" in text_of(second)
    assert data_of(second)[-3:] == ["bp:1", "bp:2:r", "bp:3"]
    assert bot.tg.calls("sendMessage", after=mark) == [first]  # still one message

    # The counter reads the page again (a coin sold since is gone from it); ◀ goes back.
    bot.upbit.remove_account("H285")
    mark = bot.tg.mark()
    bot.tg.press_button(USER, message_id(first), "bp:2:r")
    again = await bot.edit_after(mark, message_id(first))
    assert await wait_answers(bot, mark, 1) == ["Updated."]
    assert rows(again) == [f"H{i}" for i in range(290, 279, -1) if i != 285]
    bot.upbit.set_account("H285", balance=10, avg_buy_price=1500)
    back = await press(bot, first, "bp:1")
    assert rows(back) == rows(first)

    # ◀ on the first page goes round to the last, where the least valuable is.
    last = await press(bot, first, "bp:31")
    within_telegram_limits(last)
    assert "page 31 of 31 (holdings 301 of 301" in text_of(last)
    assert rows(last) == ["H000"]
    assert data_of(last)[-3:] == ["bp:30", "bp:31:r", "bp:1"]

    # From the last page, ▶ goes round and through every page: each holding on exactly one.
    seen = rows(last)
    for page in range(1, 31):
        shown = await press(bot, first, f"bp:{page}")
        within_telegram_limits(shown)
        seen += rows(shown)
    assert sorted(seen) == sorted(COINS)

    # A quick-sell from the last page opens the usual preview.
    await press(bot, first, "bp:31")
    mark = bot.tg.mark()
    bot.tg.press_button(USER, message_id(first), "qs:KRW-H000:50")
    preview = await bot.message_after(mark, contains="Sell preview — KRW-H000")
    assert "Volume: <b>5 H000</b>" in text_of(preview)


async def test_old_page_buttons_show_the_nearest_page_or_the_whole_answer(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    hold_300(bot.upbit)
    first = await bot.command("/balance")
    await press(bot, first, "bp:31")

    # 250 coins sold since: page 31 is gone; its button shows the last page there is.
    for code in COINS[:250]:
        bot.upbit.remove_account(code)
    mark = bot.tg.mark()
    bot.tg.press_button(USER, message_id(first), "bp:31:r")
    moved = await bot.edit_after(mark, message_id(first))
    (note,) = await wait_answers(bot, mark, 1)
    assert note == "Your holdings changed: this is page 6 of 6."
    assert "page 6 of 6 (holdings 51 of 51" in text_of(moved)
    assert rows(moved) == ["H250"]

    # Down to a few coins: the whole answer, as a small account always had it.
    for code in COINS[250:297]:
        bot.upbit.remove_account(code)
    mark = bot.tg.mark()
    bot.tg.press_button(USER, message_id(first), "bp:1")
    whole = await bot.edit_after(mark, message_id(first))
    (note,) = await wait_answers(bot, mark, 1)
    assert note == "Your holdings fit in one message again."
    assert text_of(whole).startswith("<b>Your Upbit holdings</b>\n\n<b>KRW</b>")
    assert rows(whole) == ["H299", "H298", "H297"]
    assert data_of(whole)[-1] == "br" and not any(d.startswith("bp:") for d in data_of(whole))

    # Forged page data: a short alert, nothing read, nothing edited.
    before = len(bot.upbit.requests)
    for data in ("bp:0", "bp:x", "bp:99999"):
        mark = bot.tg.mark()
        bot.tg.press_button(USER, message_id(first), data, forge=True)
        (note,) = await wait_answers(bot, mark, 1)
        assert note == "This button no longer works. Send /balance again."
        assert bot.tg.calls("editMessageText", after=mark) == []
    assert len(bot.upbit.requests) == before


async def test_refresh_and_picker_buttons_of_an_older_answer_turn_it_into_the_first_page(
    bot_factory: BotFactory,
) -> None:
    """A 🔄 or a coin-picker page button from an answer sent before the account grew (or
    before pages existed) shows the first page in that message."""
    bot = await bot_factory()
    answers = [await bot.command("/balance") for _ in range(2)]
    assert all(data_of(small)[-1] == "br" for small in answers)
    hold_300(bot.upbit)
    for small, data in zip(answers, ("br", "pg:b:2"), strict=True):
        mark = bot.tg.mark()
        bot.tg.press_button(USER, message_id(small), data, forge=True)
        page = await bot.edit_after(mark, message_id(small))
        within_telegram_limits(page)
        assert "page 1 of 31 (holdings 1-10 of 301" in text_of(page)
        assert data_of(page)[-3:] == ["bp:31", "bp:1:r", "bp:2"]


async def test_page_press_on_a_message_telegram_cannot_edit_sends_the_page_anew(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    hold_300(bot.upbit)
    mark = bot.tg.mark()
    bot.tg.press_button(USER, 424242, "bp:2", forge=True)  # a message that is gone
    page = await bot.message_after(mark, contains="page 2 of 31")
    assert rows(page) == [f"H{i}" for i in range(290, 280, -1)]
    assert data_of(page)[-3:] == ["bp:1", "bp:2:r", "bp:3"]


async def test_small_account_answer_has_no_pages(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    reply = await bot.command("/balance")
    assert text_of(reply).startswith("<b>Your Upbit holdings</b>\n\n<b>KRW</b> 1,000,000 KRW")
    assert data_of(reply) == [
        *(f"qs:KRW-{c}:{p}" for c in ("BTC", "ETH", "XRP") for p in (25, 50, 100)),
        "br",
    ]


async def test_stranger_page_press_is_refused_before_any_upbit_call(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    hold_300(bot.upbit)
    first = await bot.command("/balance")
    before = len(bot.upbit.requests)
    mark = bot.tg.mark()
    bot.tg.press_button(STRANGER, message_id(first), "bp:2", chat_id=USER, forge=True)
    (answer,) = await wait_answers(bot, mark, 1)
    assert answer == NOT_ALLOWED
    assert len(bot.upbit.requests) == before
    assert bot.tg.calls("editMessageText", after=mark) == []
    assert bot.tg.calls("sendMessage", after=mark) == []


def test_page_button_from_before_a_restart_shows_that_page(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    """The bot as a process: a page button pressed after a restart still works (a page
    button holds only its number; nothing of the first process is needed)."""
    tg, upbit = telegram_standin, upbit_standin
    hold_300(upbit)
    first = _start(tg, upbit, tmp_path, "bot1")
    try:
        mark = tg.mark()
        tg.send_command(USER, "/balance")
        answer = tg.wait_for_message(USER, lambda c: bool(buttons(c)), timeout=15, after=mark)
        assert tg.calls("sendMessage", after=mark) == [answer]
    finally:
        first.stop()
        first.close()
    second = _start(tg, upbit, tmp_path, "bot2")
    try:
        mark = tg.mark()
        tg.press_button(USER, message_id(answer), "bp:2")
        page = tg.wait_for_edit(USER, message_id(answer), timeout=15, after=mark)
        assert rows(page) == [f"H{i}" for i in range(290, 280, -1)]
        assert data_of(page)[-3:] == ["bp:1", "bp:2:r", "bp:3"]
    finally:
        second.stop()
        second.close()


def _start(tg: TelegramStandin, upbit: UpbitStandIn, workdir: Path, name: str) -> BotProcess:
    mark = tg.mark()
    proc = BotProcess(bot_env(tg, upbit, workdir), workdir, name)
    tg.wait_for_call("getUpdates", timeout=30, after=mark, completed=False)
    return proc
