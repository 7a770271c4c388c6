"""Parsing ``/sell ASSET AMOUNT`` and the arithmetic of a market sell.

Pure functions over `Decimal`; every refusal is a `SellRefused` with a catalogue code whose
sentence says what would have worked.

``ASSET``: a ticker (``BTC``), a market code (``KRW-BTC``) or the coin's Korean or English
name (``비트코인``, ``Bitcoin``, ``bitcoin cash``) when a `MarketList` is given.
``AMOUNT``: ``50%``, ``all``/``전량``, ``half``/``절반``, a quantity (``0.0123``,
``1,000``), or what to receive: ``50000krw``, ``50000 krw``, ``50,000원``, ``5만원``,
``1.5만원``, ``3천원``. Strict: ASCII digits, thousands separators only in groups of three,
no exponents, no signs, length caps. The optional tails (``@ PRICE``, ``slip N%``) are split
off first by `bot.services.sell_tails.split_tail`; what is left comes here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from enum import StrEnum

from bot.services.errors import SellRefused
from bot.services.markets import MarketList
from bot.upbit.models import OrderbookUnit

VOLUME_STEP = Decimal("0.00000001")
HUNDRED = Decimal(100)
MAX_ARGUMENT_LENGTH = 40
MAX_WORDS = 6  # "bitcoin cash 50,000 원" is 4

_CURRENCY = re.compile(r"[A-Z0-9]{1,15}", re.ASCII)
_MARKET = re.compile(r"([A-Z]{2,6})-([A-Z0-9]{1,15})", re.ASCII)
# A coin name: letters of any script, digits, spaces, a few marks (e.g. "Bitcoin SV", "ETH2.0").
_NAME = re.compile(r"[\w .&()'-]{1,40}")
_DIGITS = r"[0-9]{1,18}"
_NUMBER = rf"(?:{_DIGITS}(?:\.[0-9]{{1,18}})?|\.[0-9]{{1,18}})"
# Thousands separators only in proper groups: 50,000 and 1,234,567.8 (never 5,0000).
_GROUPED = r"(?:[0-9]{1,3}(?:,[0-9]{3}){1,5}(?:\.[0-9]{1,18})?)"
_AMOUNT_NUMBER = rf"({_GROUPED}|{_NUMBER})"
_PERCENT = re.compile(rf"({_NUMBER})%", re.ASCII)
_QUANTITY = re.compile(_AMOUNT_NUMBER, re.ASCII)
_QUOTE = re.compile(rf"{_AMOUNT_NUMBER}([A-Z]{{2,6}}|원)", re.ASCII)
_KOREAN_UNIT = re.compile(rf"({_NUMBER})([천만억])원", re.ASCII)
# A unit typed as its own word: "50000 krw", "50,000 원", "5 만원".
_UNIT_WORD = re.compile(r"(?:[A-Za-z]{2,6}|[천만억]?원)", re.ASCII)
_NUMBER_WORD = re.compile(r"[0-9.,]+[천만억]?", re.ASCII)

WORD_PERCENTS: dict[str, Decimal] = {
    "ALL": HUNDRED,
    "전량": HUNDRED,
    "HALF": Decimal(50),
    "절반": Decimal(50),
}
KOREAN_UNITS: dict[str, Decimal] = {
    "천": Decimal(1_000),
    "만": Decimal(10_000),
    "억": Decimal(10**8),
}


class AmountKind(StrEnum):
    PERCENT = "percent"  # of the available balance
    QUANTITY = "quantity"  # of the asset
    QUOTE = "quote"  # of the quote currency to receive, after the fee


@dataclass(frozen=True, slots=True)
class Amount:
    kind: AmountKind
    value: Decimal
    quote_currency: str | None = None  # for AmountKind.QUOTE


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


def _number(text: str, typed: str) -> Decimal:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regexes admit only digits
        raise SellRefused("bad_amount", amount=typed) from exc


def parse_sell_args(args: Sequence[str], markets: MarketList | None = None) -> SellRequest:
    """Parse the words after ``/sell`` (tails already split off); raises `SellRefused`."""
    words = [w for w in args if w]
    if any(len(w) > MAX_ARGUMENT_LENGTH for w in words) or len(words) > MAX_WORDS:
        raise SellRefused("too_long")
    if len(words) < 2:
        raise SellRefused("usage")
    asset_words, amount_text = split_amount(words)
    asset_text = " ".join(asset_words)
    if not asset_words or (
        # Several words before the amount make sense only as a coin's name ("bitcoin cash").
        len(asset_words) > 1 and (markets is None or markets.currency_named(asset_text) is None)
    ):
        raise SellRefused("usage")
    currency, market = parse_asset(asset_text, markets)
    amount = parse_amount(amount_text)
    return SellRequest(currency, market, amount.kind, amount.value, amount.quote_currency)


def split_amount(words: Sequence[str]) -> tuple[list[str], str]:
    """The asset's words and the amount: the last word, or the last two when the last is a
    unit typed apart from its number (``50000 krw``, ``50,000 원``)."""
    if len(words) >= 3 and _UNIT_WORD.fullmatch(words[-1]) and _NUMBER_WORD.fullmatch(words[-2]):
        return list(words[:-2]), words[-2] + words[-1]
    return list(words[:-1]), words[-1]


def parse_asset(text: str, markets: MarketList | None = None) -> tuple[str, str | None]:
    """(currency, market code or None) for a ticker, a market code or a coin's name."""
    text = text.strip()
    if len(text) > MAX_ARGUMENT_LENGTH:
        raise SellRefused("too_long")
    asset = text.upper()
    if match := _MARKET.fullmatch(asset):
        return match.group(2), asset
    ticker = _CURRENCY.fullmatch(asset) is not None
    # A listed ticker wins over a name (a coin may be named like another's ticker).
    if ticker and (markets is None or asset in markets.currencies):
        return asset, None
    if markets is not None and _NAME.fullmatch(text):
        named = markets.currency_named(text)
        if named is not None:
            return named, None
    if ticker:
        return asset, None  # not listed: the account check says whether it is held
    raise SellRefused("bad_asset", asset=text)


def parse_amount(text: str) -> Amount:
    """``50%``, ``전량``, ``0.5``, ``50,000원``, ``5만원``, ``50000krw`` (see the module doc)."""
    typed = text.strip()
    amount = typed.upper()
    if amount in WORD_PERCENTS:
        return Amount(AmountKind.PERCENT, WORD_PERCENTS[amount])
    if match := _PERCENT.fullmatch(amount):
        percent = _number(match.group(1), typed)
        if not Decimal(0) < percent <= HUNDRED:
            raise SellRefused("percent_range", amount=typed)
        return Amount(AmountKind.PERCENT, percent)
    if match := _QUANTITY.fullmatch(amount):
        quantity = _number(match.group(1), typed)
        if quantity <= 0:
            raise SellRefused("amount_not_positive", amount=typed)
        return Amount(AmountKind.QUANTITY, quantity)
    if match := _QUOTE.fullmatch(amount):
        value = _number(match.group(1), typed)
        quote = "KRW" if match.group(2) == "원" else match.group(2)
        return _quote(value, quote, typed)
    if match := _KOREAN_UNIT.fullmatch(amount):
        value = _number(match.group(1), typed) * KOREAN_UNITS[match.group(2)]
        return _quote(value, "KRW", typed)
    if amount.startswith("-"):
        raise SellRefused("amount_not_positive", amount=typed)
    if re.fullmatch(r"[0-9.,]+[천만억]", amount):
        raise SellRefused("amount_needs_won", amount=typed)  # "5만": 5만 what?
    raise SellRefused("bad_amount", amount=typed)


def _quote(value: Decimal, quote: str, typed: str) -> Amount:
    if value <= 0:
        raise SellRefused("amount_not_positive", amount=typed)
    return Amount(AmountKind.QUOTE, value, quote)


@dataclass(frozen=True, slots=True)
class BookWalk:
    """Selling ``volume`` into the bids: what it would fetch before fees."""

    volume: Decimal
    gross: Decimal
    filled: bool  # False when the book is thinner than the volume
    lowest_price: Decimal | None = None  # the worst bid the walk reaches

    @property
    def avg_price(self) -> Decimal | None:
        return self.gross / self.volume if self.volume else None


# Upbit refuses, on submission, a market sell whose volume exceeds the bids of the book's 30
# best levels (since 2025-05-07: https://docs.upbit.com/kr/changelog/orderbook_expansion).
MARKET_SELL_BOOK_LEVELS = 30


def _best_bids(units: Sequence[OrderbookUnit]) -> list[OrderbookUnit]:
    ordered = sorted((u for u in units if u.bid_size > 0), key=lambda u: -u.bid_price)
    return ordered[:MARKET_SELL_BOOK_LEVELS]


def bid_depth(units: Sequence[OrderbookUnit]) -> tuple[Decimal, Decimal]:
    """(volume, value) of the bids of the 30 best levels: the most a market sell may be."""
    best = _best_bids(units)
    volume = sum((u.bid_size for u in best), Decimal(0))
    value = sum((u.bid_size * u.bid_price for u in best), Decimal(0))
    return volume, value


def walk_bids(units: Sequence[OrderbookUnit], volume: Decimal) -> BookWalk:
    """Walk the bid side of the 30 best levels, best first, for ``volume``."""
    remaining = volume
    gross = Decimal(0)
    lowest: Decimal | None = None
    for unit in _best_bids(units):
        if remaining <= 0:
            break
        take = min(remaining, unit.bid_size)
        gross += take * unit.bid_price
        remaining -= take
        lowest = unit.bid_price
    return BookWalk(volume=volume, gross=gross, filled=remaining <= 0, lowest_price=lowest)


def volume_for_net(units: Sequence[OrderbookUnit], net: Decimal, fee_rate: Decimal) -> Decimal:
    """The volume whose sale brings in ``net`` after ``fee_rate``, walking the bids.

    Rounded down to 8 decimals, so the estimate lands at or just under ``net``. Returns the
    whole book's depth plus one step when the book cannot supply ``net`` (the caller refuses).
    """
    target_gross = net / (Decimal(1) - fee_rate)
    volume = Decimal(0)
    gross = Decimal(0)
    for unit in _best_bids(units):
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
