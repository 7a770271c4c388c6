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

from bot.services.ports import Exchange
from bot.upbit.errors import UpbitError
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


@dataclass(frozen=True, slots=True)
class PreventedBids:
    """What self-trade prevention did to the user's own buy orders a sell met."""

    count: int  # own buy orders cancelled or reduced
    volume: Decimal  # how much of them will not be bought
    mode: str


class SelfTradeWatch:
    """Remembers, per sell, the user's own buy orders on its market when it was confirmed,
    so the fill notice can say which of them self-trade prevention cancelled or reduced
    (their ``prevented_volume``, read back from Upbit when the sell is final).

    Kept in memory: after a restart, or when another process announces the fill, the
    notice simply leaves that line out (the preview warned before Confirm).
    """

    MAX_ORDERS = 10  # lookups per fill notice
    MAX_SELLS = 1000  # sells remembered; the oldest is forgotten first

    def __init__(self, exchange: Exchange, mode: str) -> None:
        self._exchange = exchange
        self._mode = mode
        self._by_identifier: dict[str, tuple[str, ...]] = {}

    @property
    def affects_makers(self) -> bool:
        """cancel_maker and reduce change the resting orders; the others leave them be."""
        return self._mode in ("cancel_maker", "reduce")

    def remember(self, identifier: str, market: str, open_orders: Iterable[Order]) -> None:
        if not self.affects_makers:
            return
        uuids = tuple(o.uuid for o in open_orders if o.market == market and o.side == "bid")[
            : self.MAX_ORDERS
        ]
        if uuids:
            self._by_identifier[identifier] = uuids
            while len(self._by_identifier) > self.MAX_SELLS:
                del self._by_identifier[next(iter(self._by_identifier))]

    async def report(self, identifier: str) -> PreventedBids | None:
        """Read the remembered buy orders of a final sell; None when none was touched.
        Kept until forgotten, so a notice that is sent again says the same."""
        uuids = self._by_identifier.get(identifier, ())
        count, volume = 0, Decimal(0)
        for uuid in uuids:
            try:
                order = await self._exchange.get_order(uuid=uuid)
            except UpbitError:
                continue  # a line in a notice is not worth holding the notice up
            if order.prevented_volume > 0:
                count += 1
                volume += order.prevented_volume
        if count == 0:
            return None
        return PreventedBids(count=count, volume=volume, mode=self._mode)
