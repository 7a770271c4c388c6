"""Inline keyboards and the callback_data codec (at most 64 bytes, checked on the way in)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.services.portfolio import Portfolio
from bot.telegram.i18n import t

_CONFIRM = re.compile(r"sc:([A-Za-z0-9_-]{8,32})")
_CANCEL = re.compile(r"sx:([A-Za-z0-9_-]{8,32})")
_QUICK = re.compile(r"qs:([A-Z]{2,6}-[A-Z0-9]{1,15}):(100|[1-9][0-9]?)")

CONFIRM_PATTERN = r"^sc:"
CANCEL_PATTERN = r"^sx:"
QUICK_PATTERN = r"^qs:"
# The unsold rest of a protected sell: market, volume, slip percent.
_REST = re.compile(r"sr:([A-Z]{2,6}-[A-Z0-9]{1,15}):([0-9]{1,12}(?:\.[0-9]{1,8})?):([0-9.]{1,6})")
REST_PATTERN = r"^sr:"


@dataclass(frozen=True, slots=True)
class QuickSell:
    market: str
    percent: int


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


def preview_keyboard(lang: str, pending_id: str) -> InlineKeyboardMarkup:
    """First row: exactly Confirm, then Cancel (SPEC.md)."""
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


def balance_keyboard(portfolio: Portfolio, percents: Sequence[int]) -> InlineKeyboardMarkup | None:
    rows = [
        row
        for h in portfolio.holdings
        if h.sellable
        and h.market is not None
        and (row := quick_sell_row(h.market, h.currency, percents)) is not None
    ]
    return InlineKeyboardMarkup(rows) if rows else None


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
