"""Amounts for people: thousands separators, no exponent, never float."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

_ASSET_STEP = Decimal("0.00000001")


def _group(value: Decimal, places: int, rounding: str = ROUND_HALF_UP) -> str:
    quantized = value.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    text = f"{quantized:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quote_amount(value: Decimal, currency: str) -> str:
    """Money in a quote currency: KRW with up to 2 decimals below 100, else whole won."""
    if currency == "KRW":
        places = 0 if abs(value) >= 100 else 2 if abs(value) >= 1 else 4
    elif currency == "BTC":
        places = 8
    else:
        places = 4 if abs(value) >= 1 else 8
    return _group(value, places)


def price(value: Decimal, currency: str) -> str:
    if currency == "KRW":
        places = 0 if abs(value) >= 1000 else 2 if abs(value) >= 1 else 4
        return _group(value, places)
    return _group(value, 8)


def tick_price(value: Decimal, tick: Decimal) -> str:
    """A price with exactly the digits the market quotes (its tick's), never fewer."""
    exponent = tick.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    return f"{value.quantize(Decimal(1).scaleb(-places)):,.{places}f}"


def asset_amount(value: Decimal) -> str:
    """Up to 8 decimals, rounded down (never show more than is there)."""
    return _group(value, 8, ROUND_DOWN)


def percent(value: Decimal, places: int = 2) -> str:
    return _group(value, places)


def signed_percent(value: Decimal) -> str:
    text = percent(value)
    return text if text.startswith("-") or text == "0" else f"+{text}"


def timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def clock(value: datetime) -> str:
    return value.strftime("%H:%M:%S UTC")
