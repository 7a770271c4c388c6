"""Parsing ``/sell ASSET AMOUNT`` and the arithmetic of a market sell.

Pure functions over `Decimal`; every refusal is a `SellRefused` with a catalogue code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from enum import StrEnum

from bot.services.errors import SellRefused
from bot.upbit.models import OrderbookUnit

VOLUME_STEP = Decimal("0.00000001")
HUNDRED = Decimal(100)
MAX_ARGUMENT_LENGTH = 40

_CURRENCY = re.compile(r"[A-Z0-9]{1,15}", re.ASCII)
_MARKET = re.compile(r"([A-Z]{2,6})-([A-Z0-9]{1,15})", re.ASCII)
_NUMBER = r"(?:[0-9]{1,18}(?:\.[0-9]{1,18})?|\.[0-9]{1,18})"
_PERCENT = re.compile(rf"({_NUMBER})%", re.ASCII)
_QUANTITY = re.compile(rf"({_NUMBER})", re.ASCII)
_QUOTE = re.compile(rf"({_NUMBER})([A-Z]{{2,6}})", re.ASCII)


class AmountKind(StrEnum):
    PERCENT = "percent"  # of the available balance
    QUANTITY = "quantity"  # of the asset
    QUOTE = "quote"  # of the quote currency to receive, after the fee


@dataclass(frozen=True, slots=True)
class SellRequest:
    currency: str  # the asset to sell, e.g. "BTC"
    market: str | None  # an explicit market code, e.g. "KRW-BTC"; None = from the account
    kind: AmountKind
    value: Decimal
    quote_currency: str | None = None  # for AmountKind.QUOTE


def round_volume(volume: Decimal) -> Decimal:
    """Volumes go to Upbit with at most 8 decimals, always rounded down."""
    return volume.quantize(VOLUME_STEP, rounding=ROUND_DOWN)


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regexes admit only digits
        raise SellRefused("bad_amount", amount=text) from exc
    return value


def parse_sell_args(args: Sequence[str]) -> SellRequest:
    """Parse the words after ``/sell``; raises `SellRefused` for anything else."""
    if len(args) != 2:
        if any(len(a) > MAX_ARGUMENT_LENGTH for a in args):
            raise SellRefused("too_long")
        raise SellRefused("usage")
    asset_text, amount_text = args
    if len(asset_text) > MAX_ARGUMENT_LENGTH or len(amount_text) > MAX_ARGUMENT_LENGTH:
        raise SellRefused("too_long")
    asset = asset_text.upper()
    market: str | None = None
    if match := _MARKET.fullmatch(asset):
        market = asset
        currency = match.group(2)
    elif _CURRENCY.fullmatch(asset):
        currency = asset
    else:
        raise SellRefused("bad_asset", asset=asset_text)

    amount = amount_text.strip().upper()
    if amount == "ALL":
        return SellRequest(currency, market, AmountKind.PERCENT, HUNDRED)
    if match := _PERCENT.fullmatch(amount):
        percent = _number(match.group(1))
        if not Decimal(0) < percent <= HUNDRED:
            raise SellRefused("percent_range", amount=amount_text)
        return SellRequest(currency, market, AmountKind.PERCENT, percent)
    if match := _QUANTITY.fullmatch(amount):
        quantity = _number(match.group(1))
        if quantity <= 0:
            raise SellRefused("amount_not_positive", amount=amount_text)
        return SellRequest(currency, market, AmountKind.QUANTITY, quantity)
    if match := _QUOTE.fullmatch(amount):
        value = _number(match.group(1))
        if value <= 0:
            raise SellRefused("amount_not_positive", amount=amount_text)
        return SellRequest(currency, market, AmountKind.QUOTE, value, match.group(2))
    if amount.startswith("-"):
        raise SellRefused("amount_not_positive", amount=amount_text)
    raise SellRefused("bad_amount", amount=amount_text)


@dataclass(frozen=True, slots=True)
class BookWalk:
    """Selling ``volume`` into the bids: what it would fetch before fees."""

    volume: Decimal
    gross: Decimal
    filled: bool  # False when the book is thinner than the volume

    @property
    def avg_price(self) -> Decimal | None:
        return self.gross / self.volume if self.volume else None


def walk_bids(units: Sequence[OrderbookUnit], volume: Decimal) -> BookWalk:
    """Walk the bid side, best first, for ``volume``."""
    remaining = volume
    gross = Decimal(0)
    for unit in sorted(units, key=lambda u: u.bid_price, reverse=True):
        if remaining <= 0:
            break
        take = min(remaining, unit.bid_size)
        gross += take * unit.bid_price
        remaining -= take
    return BookWalk(volume=volume, gross=gross, filled=remaining <= 0)


def volume_for_net(units: Sequence[OrderbookUnit], net: Decimal, fee_rate: Decimal) -> Decimal:
    """The volume whose sale brings in ``net`` after ``fee_rate``, walking the bids.

    Rounded down to 8 decimals, so the estimate lands at or just under ``net``. Returns the
    whole book's depth plus one step when the book cannot supply ``net`` (the caller refuses).
    """
    target_gross = net / (Decimal(1) - fee_rate)
    volume = Decimal(0)
    gross = Decimal(0)
    for unit in sorted(units, key=lambda u: u.bid_price, reverse=True):
        level_funds = unit.bid_size * unit.bid_price
        if gross + level_funds >= target_gross:
            volume += (target_gross - gross) / unit.bid_price
            return round_volume(volume)
        gross += level_funds
        volume += unit.bid_size
    return round_volume(volume) + VOLUME_STEP


def volume_for_percent(available: Decimal, percent: Decimal) -> Decimal:
    if percent == HUNDRED:
        # Selling everything sends the exact balance, never a computed product.
        return round_volume(available)
    return round_volume(available * percent / HUNDRED)
