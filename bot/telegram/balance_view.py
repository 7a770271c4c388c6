"""What /balance shows: the whole answer in one message when it fits (exactly as small
accounts always saw it), otherwise one page of it.

A large account gets ONE message instead of a dozen (Telegram delivers about one message a
second to a chat): a page of holdings (cash first, then the most valuable), the whole
account's totals, that page's quick-sell buttons and ◀ 🔄 n/N ▶, which edit the same
message. A page button carries only the page number (``bp:<n>``): every press reads the
holdings again (two Upbit calls, as /balance), so what a page shows is never older than the
press, nothing is kept between presses, and a press on a message from before a restart, or
from another process of a webhook deployment, works the same. A page that no longer exists
shows the last one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from bot.services.portfolio import Portfolio, PortfolioPage
from bot.telegram import render
from bot.telegram.keyboards import balance_keyboard, balance_page_keyboard, pages, uses_picker

# Holdings a page: a phone screen or two, and far inside Telegram's 4096 characters even
# with the longest rows (tests/test_balance_pages.py checks the worst case).
PAGE_SIZE = 10


@dataclass(frozen=True, slots=True)
class BalanceView:
    text: str
    keyboard: InlineKeyboardMarkup
    page: PortfolioPage | None = None  # None: the whole answer, no pages


def balance_view(
    lang: str,
    portfolio: Portfolio,
    percents: Sequence[int],
    *,
    paper: bool,
    page: int = 1,
) -> BalanceView:
    """The whole /balance if it fits one message, else page ``page`` of it."""
    picker = uses_picker(portfolio, percents)
    tag = len(render.with_paper_tag("", lang, paper))
    whole = render.balance_within(
        lang,
        portfolio,
        render.TELEGRAM_LIMIT - tag,
        pick_page=(1, pages(portfolio)) if picker else None,
    )
    if whole is not None:
        return BalanceView(whole, balance_keyboard(lang, portfolio, percents))
    shown = portfolio.page(page, PAGE_SIZE)
    return BalanceView(
        render.balance_page(lang, shown),
        balance_page_keyboard(lang, shown, percents),
        shown,
    )
