"""Self-checks: the Upbit stand-in follows the rules Upbit documents as of late 2026.

Each test names the public page the rule comes from; when Upbit changes the rule, change the
stand-in and this test first (docs/upbit-notes.md lists them with dates).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.standins.fixtures import upbit_standin  # noqa: F401
from tests.standins.upbit import UpbitStandIn
from tests.test_upbit_standin import SSL_CONTEXT, auth, error_name, post_order, sell_body

D = Decimal
OWN_PRICE = 100_005_000  # above the seeded best bid (100,000,000), below the best ask
# 0.005 BTC at OWN_PRICE locks about 500,000 of the seeded 1,000,000 KRW.


@pytest.fixture
def stand(upbit_standin: UpbitStandIn) -> UpbitStandIn:  # noqa: F811
    return upbit_standin


@pytest.fixture
def client(stand: UpbitStandIn) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stand.url, timeout=5, verify=SSL_CONTEXT) as c:
        yield c


def order_states(stand: UpbitStandIn, uuid: str) -> list[str]:
    return [e["state"] for e in stand.ws_events if e.get("uuid") == uuid]


# ------------------------------------------------------------- self-trade prevention (SMP)
# https://docs.upbit.com/kr/v1.6.4/docs/smp and
# https://docs.upbit.com/kr/changelog/add-smp-type-default (default cancel_maker, 2026-11-09)


def test_own_buy_order_rests_and_shows_in_the_book(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    own = stand.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    assert (own.state, own.side, own.locked) == (
        "wait",
        "bid",
        D(OWN_PRICE) * D("0.005") * D("1.0005"),
    )
    krw = stand.account("KRW")
    assert krw is not None and krw.locked == own.locked
    book = client.get("/v1/orderbook", params={"markets": "KRW-BTC"}).json()[0]
    assert (
        D(str(book["orderbook_units"][0]["bid_price"])),
        D(str(book["orderbook_units"][0]["bid_size"])),
    ) == (
        D(OWN_PRICE),
        D("0.005"),
    )
    params = {"market": "KRW-BTC", "states[]": ["wait", "watch"]}
    listed = client.get("/v1/orders/open", params=params, headers=auth(params)).json()
    assert [(o["uuid"], o["side"], o["smp_type"]) for o in listed] == [
        (own.uuid, "bid", "cancel_maker")
    ]


def test_default_is_cancel_maker_which_cancels_the_own_buy_order(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    own = stand.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    r = post_order(client, sell_body("0.05"))  # no smp_type: Upbit applies cancel_maker
    assert r.status_code == 201, r.text
    assert r.json()["smp_type"] == "cancel_maker"
    sell = stand.order(r.json()["uuid"])
    maker = stand.order(own.uuid)
    assert sell is not None and maker is not None
    assert (sell.state, sell.executed_volume, sell.prevented_volume) == ("done", D("0.05"), D(0))
    assert {t.price for t in sell.trades} == {D(100_000_000)}  # never traded with itself
    assert (maker.state, maker.executed_volume, maker.prevented_volume) == (
        "cancel",
        D(0),
        D("0.005"),
    )
    assert maker.prevented_locked == own.locked and maker.locked == 0
    krw = stand.account("KRW")
    assert krw is not None and krw.locked == 0
    assert order_states(stand, own.uuid)[-1] == "cancel"


def test_cancel_taker_cancels_the_sell_and_keeps_the_buy_order(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    own = stand.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    r = post_order(client, sell_body("0.05", smp_type="cancel_taker"))
    assert r.status_code == 201, r.text
    sell = stand.order(r.json()["uuid"])
    maker = stand.order(own.uuid)
    assert sell is not None and maker is not None
    assert (sell.state, sell.executed_volume, sell.prevented_volume) == ("cancel", D(0), D("0.05"))
    assert (maker.state, maker.remaining_volume) == ("wait", D("0.005"))
    btc = stand.account("BTC")
    assert btc is not None and (btc.balance, btc.locked) == (D("0.1"), D(0))


def test_reduce_shrinks_both_and_prevented_is_not_final(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    own = stand.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    r = post_order(client, sell_body("0.05", smp_type="reduce"))
    sell = stand.order(r.json()["uuid"])
    maker = stand.order(own.uuid)
    assert sell is not None and maker is not None
    assert (sell.executed_volume, sell.prevented_volume, sell.prevented_locked) == (
        D("0.045"),
        D("0.005"),
        D("0.005"),
    )
    assert sell.state == "done"  # what was left after the reduction executed
    assert (maker.state, maker.prevented_volume) == ("cancel", D("0.005"))
    states = order_states(stand, sell.uuid)
    # "prevented" reports the cut while the order goes on; the final state comes after.
    assert "prevented" in states and states[-1] == "done"
    assert states.index("prevented") < states.index("done")
    got = client.get("/v1/order", params={"uuid": sell.uuid}, headers=auth({"uuid": sell.uuid}))
    assert (got.json()["smp_type"], got.json()["prevented_volume"]) == ("reduce", "0.005")


def test_none_trades_with_the_own_buy_order(stand: UpbitStandIn, client: httpx.Client) -> None:
    own = stand.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    r = post_order(client, sell_body("0.05", smp_type="none"))
    sell = stand.order(r.json()["uuid"])
    maker = stand.order(own.uuid)
    assert sell is not None and maker is not None
    assert (sell.state, sell.executed_volume, sell.prevented_volume) == ("done", D("0.05"), D(0))
    assert sell.trades[0].price == D(OWN_PRICE)
    assert (maker.state, maker.executed_volume) == ("done", D("0.005"))


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        ({"smp_type": "cancel_both"}, "validation_error"),
        # post_only cannot be combined with reduce/cancel_maker/cancel_taker.
        (
            {
                "ord_type": "limit",
                "price": "100010000",
                "time_in_force": "post_only",
                "smp_type": "cancel_maker",
            },
            "validation_error",
        ),
        ({"time_in_force": "ioc"}, "invalid_time_in_force"),  # ioc/fok: limit or best only
    ],
)
def test_smp_and_time_in_force_combinations_are_checked(
    stand: UpbitStandIn, client: httpx.Client, extra: dict[str, Any], name: str
) -> None:
    r = post_order(client, {**sell_body("0.05"), **extra})
    assert (r.status_code, error_name(r)) == (400, name), r.text
    assert stand.orders == {}


def test_limit_ioc_sell_meets_own_bid_under_cancel_maker(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    own = stand.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    body = sell_body("0.05", ord_type="limit", price="100000000", time_in_force="ioc")
    r = post_order(client, body)
    assert r.status_code == 201, r.text
    sell = stand.order(r.json()["uuid"])
    assert sell is not None and sell.executed_volume == D("0.05")
    assert {t.price for t in sell.trades} == {D(100_000_000)}
    assert r.json()["time_in_force"] == "ioc"
    maker = stand.order(own.uuid)
    assert maker is not None and (maker.state, maker.prevented_volume) == ("cancel", D("0.005"))


# --------------------------------------------------------------------------- identifiers
# https://docs.upbit.com/kr/reference/new-order: unique among all the user's orders, spent
# by any request that carried it (refused ones included), at most 64 characters.


def test_identifier_is_spent_by_a_refused_order(stand: UpbitStandIn, client: httpx.Client) -> None:
    r = post_order(client, sell_body("0.2", identifier="spent-1"))  # more than the balance
    assert (r.status_code, error_name(r)) == (400, "insufficient_funds_ask")
    r = post_order(client, sell_body("0.05", identifier="spent-1"))
    assert (r.status_code, error_name(r)) == (400, "duplicated_identifier")
    assert stand.orders == {}


def test_identifier_length(stand: UpbitStandIn, client: httpx.Client) -> None:
    r = post_order(client, sell_body("0.01", identifier="x" * 65))
    assert (r.status_code, error_name(r)) == (400, "validation_error")
    assert post_order(client, sell_body("0.01", identifier="y" * 64)).status_code == 201


def test_order_test_creates_nothing_and_checks_everything(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    # https://docs.upbit.com/kr/reference/order-test
    body = sell_body("0.05", identifier="probe-1", smp_type="reduce")
    r = client.post("/v1/orders/test", json=body, headers=auth(body))
    assert r.status_code == 201, r.text
    assert (r.json()["state"], r.json()["smp_type"]) == ("wait", "reduce")
    assert stand.orders == {}
    bad = sell_body("0.2")
    r = client.post("/v1/orders/test", json=bad, headers=auth(bad))
    assert (r.status_code, error_name(r)) == (400, "insufficient_funds_ask")
    assert r.headers["Remaining-Req"].startswith("group=order-test;")


# ------------------------------------------------------------------ markets and consent


def test_btc_and_usdt_markets_need_the_one_time_consent(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    # Upbit notice "[중요] BTC, USDT 마켓 주문 시 1회 동의 필수" (2025-06-11); the name as
    # ccxt's upbit.ts maps it.
    stand.add_market("BTC-XRP", bids=[("0.00000800", 100_000)], asks=[("0.00000801", 100_000)])
    stand.thirdparty_agreed = False
    body = sell_body("1000", market="BTC-XRP", identifier="consent-1")
    r = post_order(client, body)
    assert (r.status_code, error_name(r)) == (403, "thirdparty_agreement_required")
    krw_market = post_order(client, sell_body("100", market="KRW-XRP"))
    assert krw_market.status_code == 201  # KRW markets need no consent
    stand.thirdparty_agreed = True
    r = post_order(client, sell_body("1000", market="BTC-XRP", identifier="consent-2"))
    assert r.status_code == 201, r.text


def test_unknown_and_offline_markets(stand: UpbitStandIn, client: httpx.Client) -> None:
    r = post_order(client, sell_body("0.05", market="KRW-NOPE"))
    assert (r.status_code, error_name(r)) == (400, "notfoundmarket")
    stand.set_market_state("KRW-BTC", "offline")
    r = post_order(client, sell_body("0.05"))
    assert (r.status_code, error_name(r)) == (403, "market_offline")


# ------------------------------------------------------------------------- thin books
# https://docs.upbit.com/kr/changelog/orderbook_expansion (2025-05-07): a market sell larger
# than the bids of levels 1-30 is refused when it is submitted.


def test_market_sell_beyond_thirty_levels_is_refused(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    stand.set_account("BTC", balance=1)
    stand.set_orderbook("KRW-BTC", bids=[(100_000_000 - i * 10_000, "0.01") for i in range(31)])
    r = post_order(client, sell_body("0.30000001"))  # 30 levels hold exactly 0.3
    assert (r.status_code, error_name(r)) == (400, "create_ask_error"), r.text
    assert stand.orders == {}
    assert post_order(client, sell_body("0.3")).status_code == 201
    book = client.get("/v1/orderbook", params={"markets": "KRW-BTC"}).json()[0]
    assert len(book["orderbook_units"]) == 30


def test_orderbook_instruments(client: httpx.Client) -> None:
    # https://docs.upbit.com/kr/reference/호가-정책-조회 (since 2025-07-31)
    r = client.get("/v1/orderbook/instruments", params={"markets": "KRW-BTC,KRW-XRP"})
    assert r.status_code == 200
    rows = {row["market"]: row for row in r.json()}
    assert set(rows) == {"KRW-BTC", "KRW-XRP"}
    assert rows["KRW-BTC"]["quote_currency"] == "KRW" and D(rows["KRW-BTC"]["tick_size"]) > 0
    assert r.headers["Remaining-Req"].startswith("group=orderbook;")


# -------------------------------------------------------------------------------- 418
# https://docs.upbit.com/kr/reference/rate-limits: sending on after 429s gets the IP or the
# account blocked with 418 and the block time; repeated abuse lengthens the block.


def test_repeated_429s_end_in_a_418_block_that_grows(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    stand.rate_limits["default"] = 1
    stand.block_after_429s = 3
    stand.block_seconds = 5

    def hammer() -> list[int]:
        return [client.get("/v1/accounts", headers=auth()).status_code for _ in range(6)]

    statuses = hammer()
    assert 429 in statuses and statuses[-1] == 418, statuses
    r = client.get("/v1/ticker", params={"markets": "KRW-BTC"})  # the block covers every call
    assert r.status_code == 418 and "blocked for 5 seconds" in r.text
    stand.unblock()
    statuses = hammer()
    assert statuses[-1] == 418, statuses
    r = client.get("/v1/accounts", headers=auth())
    assert r.status_code == 418 and "blocked for 10 seconds" in r.text  # doubled
    assert stand.blocked_count >= 3
