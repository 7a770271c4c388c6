"""Unit tests: /sell argument parsing and the arithmetic of a market sell."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.amounts import (
    AmountKind,
    parse_sell_args,
    round_volume,
    volume_for_net,
    volume_for_percent,
    walk_bids,
)
from bot.services.errors import SellRefused
from bot.services.markets import MarketList
from bot.upbit.models import MarketInfo, OrderbookUnit

D = Decimal

MARKETS = MarketList(
    {
        m.market: m
        for m in (
            MarketInfo("KRW-BTC", "비트코인", "Bitcoin", False),
            MarketInfo("BTC-BCH", "비트코인캐시", "Bitcoin Cash", False),
            MarketInfo("KRW-BCH", "비트코인캐시", "Bitcoin Cash", False),
            MarketInfo("KRW-XRP", "리플", "XRP", False),
            MarketInfo("KRW-ETH", "이더리움", "Ethereum", False),
            # Two coins sharing a name: neither is picked by it.
            MarketInfo("KRW-AAA", "같은이름", "Same", False),
            MarketInfo("KRW-BBB", "같은이름", "Same", False),
            # A coin whose English name is another coin's ticker: the ticker wins.
            MarketInfo("KRW-ZZZ", "지지", "ETH", False),
        )
    }
)


@pytest.mark.parametrize(
    ("args", "currency", "market", "kind", "value", "quote"),
    [
        (["BTC", "50%"], "BTC", None, AmountKind.PERCENT, D(50), None),
        (["btc", "12.5%"], "BTC", None, AmountKind.PERCENT, D("12.5"), None),
        (["eth", "all"], "ETH", None, AmountKind.PERCENT, D(100), None),
        (["ETH", "ALL"], "ETH", None, AmountKind.PERCENT, D(100), None),
        (["XRP", "0.0123"], "XRP", None, AmountKind.QUANTITY, D("0.0123"), None),
        (["XRP", "100"], "XRP", None, AmountKind.QUANTITY, D(100), None),
        (["BTC", "50000krw"], "BTC", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["krw-btc", "100%"], "BTC", "KRW-BTC", AmountKind.PERCENT, D(100), None),
        (["BTC-XRP", "1"], "XRP", "BTC-XRP", AmountKind.QUANTITY, D(1), None),
        (["USDT-ETH", "5USDT"], "ETH", "USDT-ETH", AmountKind.QUOTE, D(5), "USDT"),
        (["BTC", ".5"], "BTC", None, AmountKind.QUANTITY, D("0.5"), None),
        # Korean-first forms of /sell AMOUNT
        (["BTC", "전량"], "BTC", None, AmountKind.PERCENT, D(100), None),
        (["BTC", "절반"], "BTC", None, AmountKind.PERCENT, D(50), None),
        (["BTC", "Half"], "BTC", None, AmountKind.PERCENT, D(50), None),
        (["BTC", "50,000원"], "BTC", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["BTC", "50000원"], "BTC", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["BTC", "5만원"], "BTC", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["BTC", "1.5만원"], "BTC", None, AmountKind.QUOTE, D(15000), "KRW"),
        (["BTC", "5천원"], "BTC", None, AmountKind.QUOTE, D(5000), "KRW"),
        (["BTC", "50000", "krw"], "BTC", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["BTC", "50,000", "원"], "BTC", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["BTC", "5", "만원"], "BTC", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["BTC", "1,234,567.5krw"], "BTC", None, AmountKind.QUOTE, D("1234567.5"), "KRW"),
        (["XRP", "1,000"], "XRP", None, AmountKind.QUANTITY, D(1000), None),
        # names, with Upbit's market list
        (["비트코인", "50%"], "BTC", None, AmountKind.PERCENT, D(50), None),
        (["Bitcoin", "전량"], "BTC", None, AmountKind.PERCENT, D(100), None),
        (["BITCOIN", "0.1"], "BTC", None, AmountKind.QUANTITY, D("0.1"), None),
        (["bitcoin", "cash", "5만원"], "BCH", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["Bitcoin", "Cash", "50000", "krw"], "BCH", None, AmountKind.QUOTE, D(50000), "KRW"),
        (["비트코인캐시", "절반"], "BCH", None, AmountKind.PERCENT, D(50), None),
        (["리플", "100"], "XRP", None, AmountKind.QUANTITY, D(100), None),
        (["xrp", "100"], "XRP", None, AmountKind.QUANTITY, D(100), None),
    ],
)
def test_parses_every_documented_form(args, currency, market, kind, value, quote):
    request = parse_sell_args(args, MARKETS)
    assert (request.currency, request.market, request.kind, request.value) == (
        currency,
        market,
        kind,
        value,
    )
    assert request.quote_currency == quote


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([], "usage"),
        (["BTC"], "usage"),
        (["BTC", "50%", "now"], "usage"),
        (["BTC", "-5%"], "amount_not_positive"),
        (["BTC", "-5"], "amount_not_positive"),
        (["BTC", "0%"], "percent_range"),
        (["BTC", "150%"], "percent_range"),
        (["BTC", "100.0001%"], "percent_range"),
        (["BTC", "0"], "amount_not_positive"),
        (["BTC", "0krw"], "amount_not_positive"),
        (["BTC", "abc"], "bad_amount"),
        (["BTC", "1e3"], "bad_amount"),
        (["BTC", "1E-8"], "bad_amount"),
        (["BTC", "NaN"], "bad_amount"),
        (["BTC", "inf"], "bad_amount"),
        (["BTC", "١٢"], "bad_amount"),  # Arabic-Indic digits
        (["BTC", "５0%"], "bad_amount"),  # full-width digit
        (["BTC", "1,00"], "bad_amount"),
        (["BTC", "5,0000원"], "bad_amount"),
        (["BTC", "1,000%"], "bad_amount"),
        (["BTC", "5만"], "amount_needs_won"),
        (["BTC", "5만", "개"], "usage"),
        (["BTC", "1e3원"], "bad_amount"),
        (["BTC", "５만원"], "bad_amount"),
        (["BTC", "1.2.3"], "bad_amount"),
        (["BTC", "%"], "bad_amount"),
        (["B!TC", "50%"], "bad_asset"),
        (["비트", "50%"], "bad_asset"),
        (["BTC", "x" * 4000], "too_long"),
        (["x" * 4000], "too_long"),
    ],
)
def test_refuses_bad_input_with_a_code(args, code):
    for markets in (None, MARKETS):
        with pytest.raises(SellRefused) as caught:
            parse_sell_args(args, markets)
        assert caught.value.code == code


def test_names_shared_by_two_coins_pick_neither_and_tickers_win_over_names():
    with pytest.raises(SellRefused) as caught:
        parse_sell_args(["같은이름", "50%"], MARKETS)
    assert caught.value.code == "bad_asset"
    assert parse_sell_args(["ETH", "50%"], MARKETS).currency == "ETH"
    assert parse_sell_args(["지지", "50%"], MARKETS).currency == "ZZZ"
    # Without the market list (Upbit unreachable) tickers still work and names are refused.
    assert parse_sell_args(["btc", "절반"]).currency == "BTC"
    with pytest.raises(SellRefused):
        parse_sell_args(["비트코인", "50%"])


def test_round_volume_always_rounds_down_to_8_decimals():
    assert round_volume(D("0.123456789")) == D("0.12345678")
    assert round_volume(D("0.999999999")) == D("0.99999999")
    assert round_volume(D("0.000000009")) == D(0)


def test_percent_of_balance():
    assert volume_for_percent(D("0.00006617"), D(50)) == D("0.00003308")
    assert volume_for_percent(D("1.23456789"), D(100)) == D("1.23456789")
    assert volume_for_percent(D("1"), D("12.5")) == D("0.125")


BOOK = [
    OrderbookUnit(ask_price=D(101), bid_price=D(100), ask_size=D(1), bid_size=D(1)),
    OrderbookUnit(ask_price=D(102), bid_price=D(99), ask_size=D(1), bid_size=D(2)),
    OrderbookUnit(ask_price=D(103), bid_price=D(98), ask_size=D(1), bid_size=D(3)),
]


def test_walk_bids_takes_best_bids_first():
    walk = walk_bids(list(reversed(BOOK)), D("2.5"))
    assert walk.gross == D(100) + D("1.5") * D(99)
    assert walk.filled
    assert walk.avg_price == (D(100) + D("148.5")) / D("2.5")


def test_walk_bids_reports_a_thin_book():
    assert not walk_bids(BOOK, D(7)).filled


def test_volume_for_net_lands_at_or_just_under_the_target():
    fee = D("0.0005")
    volume = volume_for_net(BOOK, D(150), fee)
    gross = walk_bids(BOOK, volume).gross
    net = gross * (1 - fee)
    assert net <= D(150)
    assert D(150) - net < D("0.00000001") * 100
    assert volume == round_volume(volume)


def test_volume_for_net_beyond_the_book_is_more_than_the_book():
    assert volume_for_net(BOOK, D(10**9), D("0.0005")) > D(6)


_text = st.one_of(
    st.text(max_size=50),
    st.from_regex(r"-?[0-9]{0,20}(\.[0-9]{0,20})?(%|krw|KRW|usdt)?", fullmatch=True),
    st.sampled_from(
        ["all", "ALL", "NaN", "inf", "-0", "0.00000000", "1e5", "100%", "0.000000001"]
    ),
)


@settings(max_examples=400, deadline=None)
@given(
    asset=st.one_of(st.text(max_size=20), st.sampled_from(["BTC", "krw-eth", "BTC-XRP"])),
    amount=_text,
    balance=st.decimals(min_value=0, max_value=10**6, places=8, allow_nan=False),
)
def test_parser_never_raises_anything_else_and_never_exceeds_the_balance(asset, amount, balance):
    try:
        request = parse_sell_args([asset, amount])
    except SellRefused:
        return
    assert request.value > 0
    if request.kind is AmountKind.PERCENT:
        assert request.value <= 100
        volume = volume_for_percent(balance, request.value)
        assert 0 <= volume <= balance
        assert volume == round_volume(volume)
