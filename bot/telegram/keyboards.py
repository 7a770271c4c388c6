"""Inline keyboards and the callback_data codec (at most 64 bytes, checked on the way in).

Telegram's limits hold for every keyboard: at most 100 buttons and about 10 kB of markup per
message, 64 bytes of callback data (https://core.telegram.org/bots/api#inlinekeyboardbutton).
/balance gives each sellable coin its quick-sell row while they fit comfortably; with more
coins it offers a paged picker (a coin button opens that coin's amounts), so every coin stays
reachable whatever the count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.errors import ServiceError
from bot.services.portfolio import Holding, Portfolio, PortfolioPage
from bot.telegram.i18n import t

_CONFIRM = re.compile(r"sc:([A-Za-z0-9_-]{8,32})")
_CANCEL = re.compile(r"sx:([A-Za-z0-9_-]{8,32})")
_QUICK = re.compile(r"qs:([A-Z]{2,6}-[A-Z0-9]{1,15}):(100|[1-9][0-9]?)")

_PICK = re.compile(r"sp:([bs]):([A-Z]{2,6}-[A-Z0-9]{1,15})")
_OTHER_AMOUNT = re.compile(r"sa:([A-Z]{2,6}-[A-Z0-9]{1,15})")
_PAGE = re.compile(r"pg:([bs]):([0-9]{1,3})")
_BALANCE_PAGE = re.compile(r"bp:([1-9][0-9]{0,3})(:r)?")
_ORDER = re.compile(r"od:([0-9a-fA-F-]{8,40})")
MARKET_IN_TEXT = re.compile(r"\(([A-Z]{2,6}-[A-Z0-9]{1,15})\)")

CONFIRM_PATTERN = r"^sc:"
CANCEL_PATTERN = r"^sx:"
QUICK_PATTERN = r"^qs:"
# Refusals of a market sell the book cannot take: they point to protected and limit sells.
THIN_BOOK_CODES = frozenset({"book_too_thin"})
# The unsold rest of a protected sell: market, volume, slip percent.
_REST = re.compile(r"sr:([A-Z]{2,6}-[A-Z0-9]{1,15}):([0-9]{1,12}(?:\.[0-9]{1,8})?):([0-9.]{1,6})")
REST_PATTERN = r"^sr:"
PICK_PATTERN = r"^sp:"
OTHER_AMOUNT_PATTERN = r"^sa:"
PAGE_PATTERN = r"^pg:"
BALANCE_PAGE_PATTERN = r"^bp:"
REFRESH_PATTERN = r"^br$"
ORDER_PATTERN = r"^od:"
REFRESH_DATA = "br"

MAX_BUTTONS = 100  # Telegram's limit per message
MAX_MARKUP_BYTES = 10_000  # Telegram refuses "reply markup is too long" near 10 kB
QUICK_ROWS_MAX = 20  # more sellable coins than this: a paged picker instead of rows
PICK_PAGE_SIZE = 30
PICK_COLUMNS = 3
BUTTON_TEXT_MAX = 24

# Where a coin picker was opened: "b" under /balance (a pick opens a new message), "s" for
# /sell alone (a pick turns the picker into that coin's amounts).
FROM_BALANCE = "b"
FROM_SELL = "s"


@dataclass(frozen=True, slots=True)
class QuickSell:
    market: str
    percent: int


@dataclass(frozen=True, slots=True)
class Pick:
    origin: str  # FROM_BALANCE or FROM_SELL
    market: str


@dataclass(frozen=True, slots=True)
class Page:
    origin: str
    page: int  # from 1


def confirm_data(pending_id: str) -> str:
    return f"sc:{pending_id}"


def cancel_data(pending_id: str) -> str:
    return f"sx:{pending_id}"


def parse_pending(data: str | None) -> str | None:
    """The pending id of a Confirm or Cancel press; None for anything forged."""
    if data is None:
        return None
    match = _CONFIRM.fullmatch(data) or _CANCEL.fullmatch(data)
    return match.group(1) if match else None


def parse_quick(data: str | None) -> QuickSell | None:
    match = _QUICK.fullmatch(data or "")
    return QuickSell(match.group(1), int(match.group(2))) if match else None


def parse_pick(data: str | None) -> Pick | None:
    match = _PICK.fullmatch(data or "")
    return Pick(match.group(1), match.group(2)) if match else None


def parse_other_amount(data: str | None) -> str | None:
    match = _OTHER_AMOUNT.fullmatch(data or "")
    return match.group(1) if match else None


def parse_page(data: str | None) -> Page | None:
    match = _PAGE.fullmatch(data or "")
    return Page(match.group(1), int(match.group(2))) if match and int(match.group(2)) else None


@dataclass(frozen=True, slots=True)
class BalancePage:
    number: int  # from 1
    again: bool  # the counter: this page read again (◀ ▶ turn to another)


def balance_page_data(number: int, *, again: bool = False) -> str:
    return f"bp:{number}:r" if again else f"bp:{number}"


def parse_balance_page(data: str | None) -> BalancePage | None:
    """The page a /balance page button asks for; None for anything forged."""
    match = _BALANCE_PAGE.fullmatch(data or "")
    return BalancePage(int(match.group(1)), match.group(2) is not None) if match else None


def parse_order(data: str | None) -> str | None:
    match = _ORDER.fullmatch(data or "")
    return match.group(1).lower() if match else None


def preview_keyboard(lang: str, pending_id: str) -> InlineKeyboardMarkup:
    """First row: exactly Confirm, then Cancel (the order users rely on)."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_confirm"), callback_data=confirm_data(pending_id)
                ),
                InlineKeyboardButton(t(lang, "btn_cancel"), callback_data=cancel_data(pending_id)),
            ]
        ]
    )


def code_keyboard(lang: str, pending_id: str) -> InlineKeyboardMarkup:
    """While a sell waits for its one-time code: only Cancel."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(lang, "btn_cancel"), callback_data=cancel_data(pending_id))]]
    )


def quick_sell_row(
    market: str, currency: str, percents: Sequence[int]
) -> list[InlineKeyboardButton] | None:
    """The quick-sell buttons of one holding (the user's percentages, from /settings); each
    opens the usual preview. None for a market the button codec cannot carry."""
    if parse_quick(f"qs:{market}:100") is None:
        return None
    return [
        InlineKeyboardButton(f"{currency} {p}%", callback_data=f"qs:{market}:{p}")
        for p in percents
    ]


def _pickable(portfolio: Portfolio) -> list[Holding]:
    return [
        h
        for h in portfolio.sellable
        if h.market is not None and parse_pick(f"sp:b:{h.market}") is not None
    ]


def uses_picker(portfolio: Portfolio, percents: Sequence[int]) -> bool:
    """True when /balance offers a paged coin picker instead of quick-sell rows."""
    coins = _pickable(portfolio)
    return len(coins) > QUICK_ROWS_MAX or len(coins) * len(percents) + 1 > MAX_BUTTONS


def pages(portfolio: Portfolio) -> int:
    return max(1, -(-len(_pickable(portfolio)) // PICK_PAGE_SIZE))


def balance_keyboard(
    lang: str, portfolio: Portfolio, percents: Sequence[int], page: int = 1
) -> InlineKeyboardMarkup:
    """Quick-sell rows (one per sellable coin) and Refresh; with many coins, a page of the
    coin picker, the page buttons and Refresh."""
    refresh = [InlineKeyboardButton(t(lang, "btn_refresh"), callback_data=REFRESH_DATA)]
    if uses_picker(portfolio, percents):
        return InlineKeyboardMarkup([*picker_rows(lang, portfolio, FROM_BALANCE, page), refresh])
    rows = [
        row
        for h in _pickable(portfolio)
        if h.market is not None
        and (row := quick_sell_row(h.market, h.currency, percents)) is not None
    ]
    return InlineKeyboardMarkup([*rows, refresh])


def balance_page_keyboard(
    lang: str, page: PortfolioPage, percents: Sequence[int]
) -> InlineKeyboardMarkup:
    """A /balance page: the quick-sell row of each sellable coin on it, then ◀, the page
    counter (which reads the page again) and ▶. The list wraps round: ◀ on the first page
    goes to the last."""
    rows = [
        row
        for h in page.holdings
        if h.sellable
        and h.market is not None
        and (row := quick_sell_row(h.market, h.currency, percents)) is not None
    ]
    here = InlineKeyboardButton(
        t(lang, "btn_page_at", page=page.number, pages=page.pages),
        callback_data=balance_page_data(page.number, again=True),
    )
    if page.pages > 1:
        nav = [
            InlineKeyboardButton(
                t(lang, "btn_page_prev"), callback_data=balance_page_data(page.previous)
            ),
            here,
            InlineKeyboardButton(
                t(lang, "btn_page_next"), callback_data=balance_page_data(page.next)
            ),
        ]
    else:
        nav = [here]
    return InlineKeyboardMarkup([*rows, nav])


def picker_rows(
    lang: str, portfolio: Portfolio, origin: str, page: int
) -> list[list[InlineKeyboardButton]]:
    """One page of coin buttons (three a row) and, when there are several pages, ◀ ▶."""
    coins = _pickable(portfolio)
    count = pages(portfolio)
    page = min(max(page, 1), count)
    shown = coins[(page - 1) * PICK_PAGE_SIZE : page * PICK_PAGE_SIZE]
    buttons = [
        InlineKeyboardButton(_label(lang, h), callback_data=f"sp:{origin}:{h.market}")
        for h in shown
    ]
    rows = [buttons[i : i + PICK_COLUMNS] for i in range(0, len(buttons), PICK_COLUMNS)]
    if count > 1:
        nav = []
        if page > 1:
            nav.append(
                InlineKeyboardButton(t(lang, "btn_prev"), callback_data=f"pg:{origin}:{page - 1}")
            )
        if page < count:
            nav.append(
                InlineKeyboardButton(t(lang, "btn_next"), callback_data=f"pg:{origin}:{page + 1}")
            )
        rows.append(nav)
    return rows


def sell_picker(lang: str, portfolio: Portfolio, page: int = 1) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(picker_rows(lang, portfolio, FROM_SELL, page))


def amounts_keyboard(
    lang: str, market: str, currency: str, percents: Sequence[int]
) -> InlineKeyboardMarkup:
    """The amounts for one coin: the quick-sell percentages, then "another amount"."""
    row = quick_sell_row(market, currency, percents) or []
    other = InlineKeyboardButton(t(lang, "btn_other_amount"), callback_data=f"sa:{market}")
    return InlineKeyboardMarkup([row, [other]])


def orders_keyboard(rows: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """One button per order that has an Upbit UUID: (label, uuid) → opens /order UUID."""
    buttons = [
        [InlineKeyboardButton(label[: BUTTON_TEXT_MAX * 2], callback_data=f"od:{uuid}")]
        for label, uuid in rows
        if parse_order(f"od:{uuid}") is not None
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None


def _label(lang: str, h: Holding) -> str:
    name = h.name.for_lang(lang) if h.name is not None else h.currency
    text = name if name == h.currency else f"{name} {h.currency}"
    return text if len(text) <= BUTTON_TEXT_MAX else text[: BUTTON_TEXT_MAX - 1] + "…"


@dataclass(frozen=True, slots=True)
class SellRest:
    market: str
    volume: str
    slip: str


def rest_data(market: str, volume: Decimal, slip: Decimal) -> str | None:
    """The button data for selling a protected sell's rest, or None when it would not fit."""
    data = f"sr:{market}:{format(volume.normalize(), 'f')}:{format(slip.normalize(), 'f')}"
    return data if _REST.fullmatch(data) and len(data.encode()) <= 64 else None


def parse_rest(data: str | None) -> SellRest | None:
    match = _REST.fullmatch(data or "")
    return SellRest(match.group(1), match.group(2), match.group(3)) if match else None


def rest_keyboard(lang: str, data: str, label_volume: str, currency: str) -> InlineKeyboardMarkup:
    label = t(lang, "btn_sell_rest", rest=label_volume, currency=currency)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


PROTECTED_OFFER_SLIP = Decimal(1)


def thin_book_keyboard(lang: str, refusal: ServiceError) -> InlineKeyboardMarkup | None:
    """For a market sell refused because the book is too thin: a button that opens a
    protected-sell preview of the same volume (slip 1 %), when the refusal says which."""
    market, volume = refusal.params.get("market"), refusal.params.get("volume")
    if refusal.code not in THIN_BOOK_CODES or not isinstance(market, str):
        return None
    if not isinstance(volume, Decimal) or volume <= 0:
        return None
    data = rest_data(market, volume, PROTECTED_OFFER_SLIP)
    if data is None:
        return None
    label = t(lang, "btn_protected_offer", slip=PROTECTED_OFFER_SLIP)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
