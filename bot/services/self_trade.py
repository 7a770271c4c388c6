"""Upbit's self-trade prevention (SMP), as it touches a sell: what the user is warned about.

Upbit matches nobody's order against another order of the same account: the taker order's
``smp_type`` decides what happens instead (https://docs.upbit.com/kr/v1.6.4/docs/smp, read
2026-12-02):

* ``cancel_maker`` — the resting (maker) order is cancelled, the sell goes on. Upbit's
  default since 2026-11-09 for an order sent without ``smp_type``
  (https://docs.upbit.com/kr/changelog/add-smp-type-default);
* ``cancel_taker`` — the sell's rest is cancelled, the resting order stays;
* ``reduce`` — both are reduced by the volume that would have matched;
* ``none`` — no prevention: the sell may trade with the user's own buy order.

A market sell meets the user's own buy orders on that market whose price is at or above the
lowest bid the sell reaches. The preview lists them (``GET /v1/orders/open``) and says what
the setting will do; the fill notice says what it did (``prevented_volume`` of the sell).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.upbit.models import Order

SMP_MODES = ("cancel_maker", "cancel_taker", "reduce", "none")


@dataclass(frozen=True, slots=True)
class OwnBids:
    """The user's open buy orders on the market a sell would meet."""

    count: int
    volume: Decimal  # what is left to buy on them
    best_price: Decimal  # the highest of their prices
    mode: str  # the smp_type the sell will carry

    @property
    def warning_code(self) -> str:
        """Catalogue key of the preview's warning for this mode."""
        return f"smp_warn_{self.mode}"


def own_bids_met(
    orders: Iterable[Order], market: str, lowest_price: Decimal | None, mode: str
) -> OwnBids | None:
    """The open buy orders of ``market`` at or above ``lowest_price`` (the worst bid the
    sell reaches; None: every buy order), or None when there are none."""
    met = [
        o
        for o in orders
        if o.market == market
        and o.side == "bid"
        and o.state in ("wait", "watch")
        and o.price is not None
        and (lowest_price is None or o.price >= lowest_price)
    ]
    if not met:
        return None
    return OwnBids(
        count=len(met),
        volume=sum((o.remaining_volume for o in met), Decimal(0)),
        best_price=max(o.price for o in met if o.price is not None),
        mode=mode,
    )
