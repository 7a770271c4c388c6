"""Prices on a market's tick (its price step, from ``GET /v1/orderbook/instruments``).

Upbit refuses a limit price that is not a multiple of the tick (``invalid_price_ask``). A
sell price is always rounded in the seller's favour: up.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal


def round_to_tick(price: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    """``price`` moved to a multiple of ``tick`` (up or down), with the tick's digits."""
    if tick <= 0:
        raise ValueError("tick must be positive")
    steps = (price / tick).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR)
    return (steps * tick).quantize(tick_quantum(tick))


def on_tick(price: Decimal, tick: Decimal) -> bool:
    return price % tick == 0


def tick_places(tick: Decimal) -> int:
    """Decimal places a price on this tick has: 1000 → 0, 0.1 → 1, 0.00000001 → 8."""
    exponent = tick.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def tick_quantum(tick: Decimal) -> Decimal:
    return Decimal(1).scaleb(-tick_places(tick))
