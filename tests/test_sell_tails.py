"""``/sell`` tails (``@ PRICE``, ``slip N%``) and prices on a market's tick."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.services.errors import SellRefused
from bot.services.sell_tails import SellKind, SellTail, split_tail
from bot.services.ticks import on_tick, round_to_tick, tick_places
from bot.telegram.numbers import tick_price


@pytest.mark.parametrize(
    ("args", "head", "tail"),
    [
        (["BTC", "50%"], ["BTC", "50%"], SellTail()),
        (
            ["BTC", "50%", "@", "101,000,000"],
            ["BTC", "50%"],
            SellTail(SellKind.LIMIT, price=Decimal(101_000_000)),
        ),
        (
            ["BTC", "50%", "@101000000"],
            ["BTC", "50%"],
            SellTail(SellKind.LIMIT, price=Decimal(101_000_000)),
        ),
        (
            ["XRP", "50000", "krw", "@", "812.5원"],
            ["XRP", "50000", "krw"],
            SellTail(SellKind.LIMIT, price=Decimal("812.5")),
        ),
        (
            ["BTC", "all", "slip", "1%"],
            ["BTC", "all"],
            SellTail(SellKind.PROTECTED, slip_percent=Decimal(1)),
        ),
        (
            ["비트코인", "전량", "슬리피지", "0.5%"],
            ["비트코인", "전량"],
            SellTail(SellKind.PROTECTED, slip_percent=Decimal("0.5")),
        ),
        (
            ["BTC", "all", "SLIP", "20", "%"],
            ["BTC", "all"],
            SellTail(SellKind.PROTECTED, slip_percent=Decimal(20)),
        ),
    ],
)
def test_tails_split_off(args: list[str], head: list[str], tail: SellTail) -> None:
    assert split_tail(args) == (head, tail)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["BTC", "50%", "@", "0"], "price_not_positive"),
        (["BTC", "50%", "@", "0.000"], "price_not_positive"),
        (["BTC", "50%", "@"], "bad_price"),
        (["BTC", "50%", "@", "abc"], "bad_price"),
        (["BTC", "50%", "@", "1,00,000"], "bad_price"),
        (["BTC", "50%", "@", "-5"], "bad_price"),
        (["BTC", "50%", "@", "1234567890123456"], "price_too_long"),
        (["BTC", "50%", "@", "1.123456789"], "price_too_long"),
        (["BTC", "all", "slip", "0.05%"], "slip_range"),
        (["BTC", "all", "slip", "21%"], "slip_range"),
        (["BTC", "all", "slip", "0%"], "slip_range"),
        (["BTC", "all", "slip"], "bad_slip"),
        (["BTC", "all", "slip", "x%"], "bad_slip"),
        (["BTC", "all", "slip", "1%", "@", "100"], "tail_conflict"),
        (["BTC", "all", "@", "100", "slip", "1%"], "tail_conflict"),
    ],
)
def test_bad_tails_are_refused(args: list[str], code: str) -> None:
    with pytest.raises(SellRefused) as caught:
        split_tail(args)
    assert caught.value.code == code


def test_rounding_to_the_tick_favours_the_seller() -> None:
    assert round_to_tick(Decimal("101000400"), Decimal(1000), up=True) == Decimal(101_001_000)
    assert round_to_tick(Decimal("101000000"), Decimal(1000), up=True) == Decimal(101_000_000)
    assert round_to_tick(Decimal("812.34"), Decimal("0.1"), up=True) == Decimal("812.4")
    assert round_to_tick(Decimal("812.34"), Decimal("0.1"), up=False) == Decimal("812.3")
    assert round_to_tick(Decimal("0.000008731"), Decimal("0.00000001"), up=True) == Decimal(
        "0.00000874"
    )
    assert on_tick(Decimal("3.456"), Decimal("0.001"))
    assert not on_tick(Decimal("3.4565"), Decimal("0.001"))
    assert [tick_places(Decimal(t)) for t in ("1000", "1", "0.1", "0.00000001")] == [0, 0, 1, 8]


def test_prices_show_the_markets_digits() -> None:
    assert tick_price(Decimal(101_000_000), Decimal(1000)) == "101,000,000"
    assert tick_price(Decimal("3.4"), Decimal("0.001")) == "3.400"
    assert tick_price(Decimal("0.00000873"), Decimal("0.00000001")) == "0.00000873"
