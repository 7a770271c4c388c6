"""The optional tails of ``/sell ASSET AMOUNT``: ``@ PRICE`` and ``slip N%``.

``/sell BTC 50% @ 101,000,000`` (also ``@101000000``) asks for a limit sell at that price;
``/sell BTC all slip 1%`` (Korean ``슬리피지 1%``) for a protected sell: a limit order with
``time_in_force=ioc`` at the best bid lowered by N%. A tail starts at the first word that
is ``@…``, ``slip`` or ``슬리피지``; what comes before it is the ordinary request, parsed by
`bot.services.amounts.parse_sell_args`. Pure functions; refusals are `SellRefused`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.services.errors import SellRefused

MIN_SLIP = Decimal("0.1")
MAX_SLIP = Decimal(20)
MAX_PRICE_INTEGER_DIGITS = 15
MAX_PRICE_DECIMALS = 8

SLIP_WORDS = frozenset({"slip", "슬리피지"})
_PRICE = re.compile(r"([0-9][0-9,]*)(?:\.([0-9]+))?(?:원|krw)?", re.ASCII | re.IGNORECASE)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+", re.ASCII)
_SLIP = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,4})?)%?", re.ASCII)


class SellKind(StrEnum):
    MARKET = "market"
    LIMIT = "limit"  # rests on the book at `price` until it fills or is cancelled
    PROTECTED = "protected"  # IOC at the best bid lowered by `slip_percent`


@dataclass(frozen=True, slots=True)
class SellTail:
    kind: SellKind = SellKind.MARKET
    price: Decimal | None = None  # as typed, before rounding to the tick
    slip_percent: Decimal | None = None


def split_tail(args: Sequence[str]) -> tuple[list[str], SellTail]:
    """``args`` without their tail, and the tail (`SellKind.MARKET` when there is none)."""
    words = list(args)
    start = next(
        (i for i, w in enumerate(words) if w.startswith("@") or w.lower() in SLIP_WORDS), None
    )
    if start is None:
        return words, SellTail()
    head, tail = words[:start], words[start:]
    first = tail[0]
    if first.startswith("@"):
        rest = ([first[1:]] if first != "@" else []) + tail[1:]
        if any(w.lower() in SLIP_WORDS for w in rest):
            raise SellRefused("tail_conflict")
        return head, SellTail(SellKind.LIMIT, price=parse_price(" ".join(rest)))
    rest = tail[1:]
    if any(w.startswith("@") for w in rest):
        raise SellRefused("tail_conflict")
    return head, SellTail(SellKind.PROTECTED, slip_percent=parse_slip("".join(rest)))


def parse_price(text: str) -> Decimal:
    """``101,000,000`` / ``101000000`` / ``3.456`` / ``1,000원``: a positive price."""
    cleaned = text.strip()
    match = _PRICE.fullmatch(cleaned.replace(" ", ""))
    if not cleaned or match is None or not _GROUPED.fullmatch(match.group(1)):
        raise SellRefused("bad_price", price=text[:40])
    integer = match.group(1).replace(",", "").lstrip("0") or "0"
    decimals = match.group(2) or ""
    if len(integer) > MAX_PRICE_INTEGER_DIGITS or len(decimals) > MAX_PRICE_DECIMALS:
        raise SellRefused("price_too_long", price=text[:40])
    price = Decimal(f"{integer}.{decimals}" if decimals else integer)
    if price <= 0:
        raise SellRefused("price_not_positive", price=text[:40])
    return price


def parse_slip(text: str) -> Decimal:
    """``1%`` / ``0.5%`` / ``2``: a slip within 0.1–20 %."""
    match = _SLIP.fullmatch(text.strip())
    if match is None:
        raise SellRefused("bad_slip", slip=text[:40])
    slip = Decimal(match.group(1))
    if not MIN_SLIP <= slip <= MAX_SLIP:
        raise SellRefused("slip_range", slip=text[:40], low=MIN_SLIP, high=MAX_SLIP)
    return slip
