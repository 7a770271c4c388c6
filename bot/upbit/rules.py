"""Upbit's published trading rules per quote currency: minimum order totals and fees
(e.g. https://docs.upbit.com/kr/docs/krw-market-info).

The live values come from ``GET /v1/orders/chance``; these serve where no chance call is
made (marking dust in the balance view) and for the paper exchange.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

MIN_ORDER_TOTAL: Final[Mapping[str, Decimal]] = {
    "KRW": Decimal(5000),
    "BTC": Decimal("0.00005"),
    "USDT": Decimal("0.5"),
}
MAX_ORDER_TOTAL: Final[Mapping[str, Decimal]] = {
    "KRW": Decimal(1_000_000_000),
    "BTC": Decimal(10),
}
TAKER_FEE: Final[Mapping[str, Decimal]] = {
    "KRW": Decimal("0.0005"),
    "BTC": Decimal("0.0025"),
    "USDT": Decimal("0.0025"),
}
DEFAULT_TAKER_FEE: Final = Decimal("0.0025")
