"""Limit and protected sell terms: the price on the tick in the seller's favour, what the
book takes at once, the market's minimum and maximum at price × volume."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.services.errors import SellRefused
from bot.services.limit_sells import LimitQuote, quote_limit, volume_for_net_at
from bot.services.sell_tails import SellKind, SellTail
from bot.upbit.models import Account, ChanceMarket, MarketSide, OrderbookUnit, OrderChance

D = Decimal


def chance(ask_types: tuple[str, ...] = ("limit", "market")) -> OrderChance:
    account = Account("BTC", D(1), D(0), D(0), False, "KRW")
    return OrderChance(
        bid_fee=D("0.0005"),
        ask_fee=D("0.0005"),
        maker_bid_fee=D("0.0005"),
        maker_ask_fee=D("0.0005"),
        market=ChanceMarket(
            id="KRW-BTC",
            name="BTC/KRW",
            order_sides=("ask", "bid"),
            bid_types=("limit",),
            ask_types=ask_types,
            bid=MarketSide("KRW", D(5000)),
            ask=MarketSide("BTC", D(5000)),
            max_total=D(1_000_000_000),
            state="active",
        ),
        bid_account=account,
        ask_account=account,
    )


BOOK = [
    OrderbookUnit(D(100_010_000), D(100_000_000), D(1), D("0.3")),
    OrderbookUnit(D(100_020_000), D(99_990_000), D(1), D("0.2")),
    OrderbookUnit(D(100_030_000), D(99_000_000), D(1), D(5)),
]


def quote(tail: SellTail, volume: Decimal, **kwargs: Any) -> LimitQuote:
    return quote_limit(
        tail,
        market="KRW-BTC",
        volume=volume,
        units=BOOK,
        best_bid=D(100_000_000),
        tick=D(1000),
        chance=kwargs.get("chance") or chance(),
    )


def test_limit_price_rounds_up_and_counts_what_fills_now() -> None:
    q = quote(SellTail(SellKind.LIMIT, price=D("99995500.5")), D(1))
    assert q.price == D(99_996_000)
    assert q.rounded
    assert q.time_in_force is None
    assert q.fillable_volume == D("0.3")  # only the 100,000,000 bid reaches 99,996,000
    assert q.est_gross == D("0.3") * D(100_000_000) + D("0.7") * D(99_996_000)


def test_limit_above_the_book_rests_whole() -> None:
    q = quote(SellTail(SellKind.LIMIT, price=D(101_000_000)), D("0.05"))
    assert not q.rounded
    assert q.fillable_volume == 0
    assert q.est_gross == D("0.05") * D(101_000_000)


def test_protected_floor_never_below_best_bid_minus_slip() -> None:
    q = quote(SellTail(SellKind.PROTECTED, slip_percent=D("0.015")), D(1))
    # 100,000,000 × (1 − 0.00015) = 99,985,000 exactly on the tick.
    assert q.price == D(99_985_000)
    q = quote(SellTail(SellKind.PROTECTED, slip_percent=D("0.0155")), D(1))
    assert q.price == D(99_985_000)  # 99,984,500 rounded up to the 1,000 tick
    assert q.time_in_force == "ioc"
    assert q.fillable_volume == D("0.5")  # 0.3 at 100,000,000 and 0.2 at 99,990,000
    assert q.unsold_volume == D("0.5")
    assert q.est_gross == D("0.3") * D(100_000_000) + D("0.2") * D(99_990_000)


@pytest.mark.parametrize(
    ("tail", "volume", "code"),
    [
        (SellTail(SellKind.LIMIT, price=D(1000)), D("0.001"), "below_min_total"),
        (SellTail(SellKind.LIMIT, price=D(10**12)), D(1), "above_max_total"),
    ],
)
def test_market_limits_at_price_times_volume(tail: SellTail, volume: Decimal, code: str) -> None:
    with pytest.raises(SellRefused) as caught:
        quote(tail, volume)
    assert caught.value.code == code


def test_market_without_limit_orders_refuses() -> None:
    with pytest.raises(SellRefused) as caught:
        quote(SellTail(SellKind.LIMIT, price=D(1)), D(1), chance=chance(("market",)))
    assert caught.value.code == "no_limit_sell"


def test_quote_amount_at_a_limit_price() -> None:
    assert volume_for_net_at(D(100_000_000), D(99_950), D("0.0005")) == D("0.001")
