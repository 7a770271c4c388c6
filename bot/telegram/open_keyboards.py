"""/open's buttons and their callback_data (at most 64 bytes, checked on the way in).

``oc:<uuid>`` asks to cancel an order, ``oy:<uuid>`` confirms (the first button), ``on:<uuid>``
keeps it, ``op:<page>`` turns the page.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.open_orders import OpenOrdersPage
from bot.telegram.i18n import t
from bot.telegram.render_orders import numbered

_UUID = r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_ASK = re.compile(rf"oc:{_UUID}")
_YES = re.compile(rf"oy:{_UUID}")
_KEEP = re.compile(rf"on:{_UUID}")
_PAGE = re.compile(r"op:([1-9][0-9]{0,3})")

ASK_PATTERN = r"^oc:"
YES_PATTERN = r"^oy:"
KEEP_PATTERN = r"^on:"
PAGE_PATTERN = r"^op:"


def parse_uuid(data: str | None, pattern: re.Pattern[str]) -> str | None:
    match = pattern.fullmatch(data or "")
    return match.group(1) if match else None


def parse_ask(data: str | None) -> str | None:
    return parse_uuid(data, _ASK)


def parse_yes(data: str | None) -> str | None:
    return parse_uuid(data, _YES)


def parse_keep(data: str | None) -> str | None:
    return parse_uuid(data, _KEEP)


def parse_page(data: str | None) -> int | None:
    match = _PAGE.fullmatch(data or "")
    return int(match.group(1)) if match else None


def open_keyboard(lang: str, page: OpenOrdersPage) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    row: list[InlineKeyboardButton] = []
    for number, item in numbered(page):
        label = t(lang, "btn_open_cancel", number=number, market=item.order.market)
        row.append(InlineKeyboardButton(label, callback_data=f"oc:{item.order.uuid}"))
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    nav = []
    if page.has_previous:
        nav.append(InlineKeyboardButton(t(lang, "btn_prev"), callback_data=f"op:{page.page - 1}"))
    if page.has_next:
        nav.append(InlineKeyboardButton(t(lang, "btn_next"), callback_data=f"op:{page.page + 1}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows) if rows else None


def confirm_cancel_keyboard(lang: str, uuid: str) -> InlineKeyboardMarkup:
    """First row: exactly the confirming button, then the one that keeps the order."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "btn_cancel_confirm"), callback_data=f"oy:{uuid}"),
                InlineKeyboardButton(t(lang, "btn_cancel_keep"), callback_data=f"on:{uuid}"),
            ]
        ]
    )
