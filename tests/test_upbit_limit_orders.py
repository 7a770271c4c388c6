"""Limit sells, IOC/FOK, open orders, DELETE /v1/order and tick sizes: the client against
the Upbit stand-in over real HTTP (signatures and nonces checked server-side), and the
stand-in's own rules (a price off the tick is refused, resting orders fill when bids rise).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.upbit import MarketNotFound, OrderNotFound, OrderRejected
from bot.upbit.client import UpbitClient
from tests.standins.upbit import UpbitStandIn


def client_for(stand: UpbitStandIn, **kwargs: Any) -> UpbitClient:
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_cap", 0.05)
    return UpbitClient(stand.access_key, stand.secret_key, base_url=stand.url, **kwargs)


async def test_tick_size_read_once_then_cached(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.set_tick_size("KRW-XRP", "0.1")
    async with client_for(upbit_standin) as client:
        assert await client.tick_size("KRW-BTC") == Decimal(1000)
        assert await client.tick_size("KRW-XRP") == Decimal("0.1")
        assert await client.tick_size("KRW-BTC") == Decimal(1000)
        with pytest.raises(MarketNotFound):
            await client.tick_size("KRW-NOPE")
    calls = upbit_standin.requests_to("GET", "/v1/orderbook/instruments")
    assert [c.query["markets"] for c in calls[:2]] == [["KRW-BTC"], ["KRW-XRP"]]
    assert len(calls) == 3  # BTC and XRP once each, then the unknown market


async def test_limit_sell_rests_then_fills_when_bids_rise(upbit_standin: UpbitStandIn) -> None:
    async with client_for(upbit_standin) as client:
        placed = await client.limit_sell("KRW-XRP", Decimal(100), Decimal(810), "usb-lim-1")
        assert placed.ord_type == "limit"
        assert placed.price == Decimal(810)
        order = await client.get_order(uuid=placed.uuid)
        assert order.state == "wait"
        assert order.executed_volume == 0
        assert upbit_standin.account("XRP").locked == Decimal(100)  # type: ignore[union-attr]

        (listed,) = await client.open_orders()
        assert listed.uuid == placed.uuid

        # Bids reach 812 for 60 XRP, then 805 below the limit: 60 execute at 812.
        upbit_standin.set_orderbook("KRW-XRP", bids=[(812, 60), (805, 1000)])
        order = await client.get_order(uuid=placed.uuid)
        assert order.state == "wait"
        assert order.executed_volume == Decimal(60)
        assert order.gross_funds == Decimal(60 * 812)

        upbit_standin.set_orderbook("KRW-XRP", bids=[(810, 1000)])
        order = await client.get_order(uuid=placed.uuid)
        assert order.state == "done"
        assert order.executed_volume == Decimal(100)
        assert await client.open_orders() == []


async def test_ioc_executes_what_the_book_takes_and_cancels_the_rest(
    upbit_standin: UpbitStandIn,
) -> None:
    upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 30), (799, 20), (790, 1000)])
    async with client_for(upbit_standin) as client:
        placed = await client.limit_sell(
            "KRW-XRP", Decimal(100), Decimal(799), "usb-ioc-1", time_in_force="ioc"
        )
        order = await client.get_order(uuid=placed.uuid)
    assert order.state == "cancel"
    assert order.executed_volume == Decimal(50)
    assert order.gross_funds == Decimal(30 * 800 + 20 * 799)
    assert order.raw["time_in_force"] == "ioc"
    xrp = upbit_standin.account("XRP")
    assert xrp is not None and xrp.balance == Decimal(1950) and xrp.locked == 0
    body = upbit_standin.requests_to("POST", "/v1/orders")[0].body
    assert body is not None and body["time_in_force"] == "ioc" and body["price"] == "799"


async def test_fok_executes_nothing_when_the_book_is_short(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 30), (790, 1000)])
    async with client_for(upbit_standin) as client:
        placed = await client.limit_sell(
            "KRW-XRP", Decimal(100), Decimal(800), "usb-fok-1", time_in_force="fok"
        )
        order = await client.get_order(uuid=placed.uuid)
    assert order.state == "cancel"
    assert order.executed_volume == 0


async def test_price_off_the_tick_is_refused(upbit_standin: UpbitStandIn) -> None:
    async with client_for(upbit_standin) as client:
        with pytest.raises(OrderRejected) as caught:
            await client.limit_sell("KRW-BTC", Decimal("0.01"), Decimal(101_000_500), "usb-t1")
    assert caught.value.name == "invalid_price_ask"
    assert upbit_standin.orders == {}


async def test_open_orders_paged_and_cancel(upbit_standin: UpbitStandIn) -> None:
    async with client_for(upbit_standin) as client:
        uuids = []
        for i in range(3):
            placed = await client.limit_sell(
                "KRW-XRP", Decimal(10), Decimal(900 + i), f"usb-page-{i}"
            )
            uuids.append(placed.uuid)
        first = await client.open_orders(page=1, limit=2)
        second = await client.open_orders(page=2, limit=2)
        assert [o.uuid for o in first + second] == list(reversed(uuids))  # newest first
        query = upbit_standin.requests_to("GET", "/v1/orders/open")[0].query
        assert query["states[]"] == ["wait", "watch"]

        answer = await client.cancel_order(uuid=uuids[0])
        assert answer.uuid == uuids[0]
        assert (await client.get_order(uuid=uuids[0])).state == "cancel"
        assert len(await client.open_orders()) == 2
        with pytest.raises(OrderNotFound):
            await client.cancel_order(uuid="00000000-0000-0000-0000-000000000000")
    xrp = upbit_standin.account("XRP")
    assert xrp is not None and xrp.locked == Decimal(20) and xrp.balance == Decimal(1980)
