"""The arithmetic of limit and protected sells (``/sell … @ PRICE``, ``/sell … slip N%``).

A **limit sell** is placed with ``ord_type=limit`` at the typed price rounded UP to the
market's tick (the seller's favour; Upbit refuses prices off the tick). What the current
bids at that price or better take executes at once, at the bids' prices; the rest rests on
the book until it fills or is cancelled.

A **protected sell** is a limit order with ``time_in_force=ioc`` at the best bid lowered
by N %, rounded UP to the tick so nothing executes below the floor the user asked for. It
executes at once what the bids at the floor or better take; Upbit cancels the rest.

Upbit values a limit order at price × volume for its minimum and maximum order totals
(https://docs.upbit.com/kr/reference/new-order). Pure functions over `Decimal`; refusals
are `SellRefused`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.services.amounts import HUNDRED, round_volume
from bot.services.errors import BookTooThin, SellRefused
from bot.services.sell_tails import SellKind, SellTail
from bot.services.ticks import round_to_tick
from bot.upbit.models import OrderbookUnit, OrderChance


@dataclass(frozen=True, slots=True)
class LimitQuote:
    """The terms of a limit or protected sell, as the preview shows them."""

    kind: SellKind
    price: Decimal  # on the tick: what is sent to Upbit (the floor of a protected sell)
    requested_price: Decimal | None  # as typed, for a limit sell
    tick_size: Decimal
    slip_percent: Decimal | None
    fillable_volume: Decimal  # what the current bids at `price` or better take at once
    fillable_gross: Decimal
    est_gross: Decimal  # limit: all of it (the rest at `price`); protected: what fills now
    volume: Decimal

    @property
    def time_in_force(self) -> str | None:
        return "ioc" if self.kind is SellKind.PROTECTED else None

    @property
    def rounded(self) -> bool:
        return self.requested_price is not None and self.requested_price != self.price

    @property
    def unsold_volume(self) -> Decimal:
        """What a protected sell would leave unsold on the current book."""
        return self.volume - self.fillable_volume


def limit_price(tail: SellTail, best_bid: Decimal | None, tick: Decimal) -> Decimal:
    """The price sent to Upbit: the typed price or the slip floor, rounded up to the tick."""
    if tail.kind is SellKind.LIMIT and tail.price is not None:
        return round_to_tick(tail.price, tick, up=True)
    if tail.kind is SellKind.PROTECTED and tail.slip_percent is not None:
        if best_bid is None:
            raise ValueError("a protected sell needs a best bid")
        floor = best_bid * (HUNDRED - tail.slip_percent) / HUNDRED
        return round_to_tick(floor, tick, up=True)
    raise ValueError(f"no limit price for a {tail.kind} sell")


def volume_for_net_at(price: Decimal, net: Decimal, fee_rate: Decimal) -> Decimal:
    """The volume whose sale at ``price`` brings in ``net`` after the fee (rounded down)."""
    return round_volume(net / (price * (Decimal(1) - fee_rate)))


def take_at_or_above(
    units: Sequence[OrderbookUnit], price: Decimal, volume: Decimal
) -> tuple[Decimal, Decimal]:
    """What ``volume`` sold with a limit of ``price`` would execute against the bids now:
    (volume, gross), best bid first."""
    left = volume
    gross = Decimal(0)
    for unit in sorted(units, key=lambda u: u.bid_price, reverse=True):
        if left <= 0 or unit.bid_price < price:
            break
        take = min(left, unit.bid_size)
        gross += take * unit.bid_price
        left -= take
    return volume - left, gross


def quote_limit(
    tail: SellTail,
    *,
    market: str,
    volume: Decimal,
    units: Sequence[OrderbookUnit],
    best_bid: Decimal | None,
    tick: Decimal,
    chance: OrderChance,
) -> LimitQuote:
    """Check a limit or protected sell against the market's rules and the book."""
    rules = chance.market
    quote = rules.bid.currency
    if "limit" not in rules.ask_types:
        raise SellRefused("no_limit_sell", market=market)
    if tail.kind is SellKind.PROTECTED and best_bid is None:
        raise BookTooThin(
            market=market,
            volume=volume,
            depth=Decimal(0),
            depth_value=Decimal(0),
            currency=market.partition("-")[2],
            quote=quote,
        )
    price = limit_price(tail, best_bid, tick)
    order_value = volume * price
    if order_value < rules.ask.min_total:
        raise SellRefused(
            "below_min_total", value=order_value, min_total=rules.ask.min_total, quote=quote
        )
    if rules.max_total is not None and order_value > rules.max_total:
        raise SellRefused(
            "above_max_total", value=order_value, max_total=rules.max_total, quote=quote
        )
    fillable, gross = take_at_or_above(units, price, volume)
    # A limit sell's rest sells later at its price; a protected sell's rest is cancelled.
    rest_gross = (volume - fillable) * price if tail.kind is SellKind.LIMIT else Decimal(0)
    return LimitQuote(
        kind=tail.kind,
        price=price,
        requested_price=tail.price,
        tick_size=tick,
        slip_percent=tail.slip_percent,
        fillable_volume=fillable,
        fillable_gross=gross,
        est_gross=gross + rest_gross,
        volume=volume,
    )
