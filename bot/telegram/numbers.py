"""Amounts, prices and times for people: separators, no exponent, never float, zone written.

Prices keep every digit the exchange quotes: a quoted price (a ticker, the order book) is
shown as it is, and a computed average keeps the decimals of the market's finest price unit
at that price (Upbit's tables: https://docs.upbit.com/kr/docs/krw-market-info,
https://docs.upbit.com/docs/usdt-market-info, https://docs.upbit.com/docs/btc-market-info).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

MAX_DECIMALS = 8

# (lowest price of the band, decimals of the finest price unit in that band). The finest
# unit Upbit has used for a band over the years, so a rounded average never hides a digit
# some market in that band can quote (KRW 1,000–10,000 is 0.5 for USDT/KRW).
_KRW_BANDS: tuple[tuple[Decimal, int], ...] = (
    (Decimal(10_000), 0),
    (Decimal(1_000), 1),
    (Decimal(100), 1),
    (Decimal(10), 2),
    (Decimal(1), 3),
    (Decimal("0.1"), 4),
    (Decimal("0.01"), 5),
    (Decimal("0.001"), 6),
    (Decimal("0.0001"), 7),
)
_USDT_BANDS: tuple[tuple[Decimal, int], ...] = (
    (Decimal(10), 2),
    (Decimal(1), 3),
    (Decimal("0.1"), 4),
    (Decimal("0.01"), 5),
    (Decimal("0.001"), 6),
    (Decimal("0.0001"), 7),
)


def _group(value: Decimal, places: int, rounding: str = ROUND_HALF_UP) -> str:
    quantized = value.quantize(Decimal(1).scaleb(-places), rounding=rounding)
    text = f"{quantized:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def quote_amount(value: Decimal, currency: str) -> str:
    """Money in a quote currency: KRW whole won from 100 up (2 decimals below, 4 under 1)."""
    if currency == "KRW":
        places = 0 if abs(value) >= 100 else 2 if abs(value) >= 1 else 4
    elif currency == "BTC":
        places = 8
    else:
        places = 4 if abs(value) >= 1 else 8
    return _group(value, places)


def signed_quote_amount(value: Decimal, currency: str) -> str:
    text = quote_amount(value, currency)
    return text if text.startswith("-") or text == "0" else f"+{text}"


def tick_decimals(value: Decimal, currency: str) -> int:
    """Decimals of the finest price unit a ``currency`` market has at ``value``."""
    bands = _KRW_BANDS if currency == "KRW" else _USDT_BANDS if currency == "USDT" else ()
    for floor, places in bands:
        if abs(value) >= floor:
            return places
    return MAX_DECIMALS


def price(value: Decimal, currency: str, tick: Decimal | None = None) -> str:
    """A quoted price (ticker, order book): every digit it has is kept, up to 8 decimals;
    a longer value is rounded to the price unit (``tick`` when the market's is known)."""
    exact = _decimals(value)
    if exact <= MAX_DECIMALS:
        return _group(value, exact)
    return average_price(value, currency, tick)


def average_price(value: Decimal, currency: str, tick: Decimal | None = None) -> str:
    """A computed price (an average buy or fill price): the digits of the market's price
    unit at that price (``tick`` when known), so it reads like the prices Upbit quotes."""
    places = _decimals(tick) if tick is not None else tick_decimals(value, currency)
    return _group(value, min(places, MAX_DECIMALS))


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


def zone_name(value: datetime) -> str:
    """``KST``, ``UTC``, or an offset like ``+05:30`` when the zone has no letters name."""
    name = value.tzname() or ""
    if name.isascii() and name.isalpha():
        return name
    return value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:]


def local(value: datetime, tz: tzinfo) -> datetime:
    return value.astimezone(tz)


def timestamp(value: datetime, tz: tzinfo) -> str:
    """``2026-12-02 15:30:00 KST``: the moment in ``tz``, the zone written."""
    moment = local(value, tz)
    return f"{moment:%Y-%m-%d %H:%M:%S} {zone_name(moment)}"


def clock(value: datetime, tz: tzinfo) -> str:
    moment = local(value, tz)
    return f"{moment:%H:%M:%S} {zone_name(moment)}"


def date(value: datetime, tz: tzinfo) -> str:
    return local(value, tz).date().isoformat()
