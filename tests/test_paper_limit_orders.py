"""Paper limit sells on the stand-in's live book and the paper account in the database:
IOC executes what the bids give, FOK all or nothing, a plain limit rests (locked) until the
book reaches it, a cancel returns the rest; open orders list what rests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.paper import SqlPaperBalances
from bot.paper import PaperExchange
from bot.upbit import OrderNotFound, OrderRejected
from tests.standins.upbit import UpbitStandIn

D = Decimal


@pytest.fixture
async def paper(db_sessions: async_sessionmaker[AsyncSession], upbit_standin: UpbitStandIn):
    exchange = PaperExchange.create(
        upbit_standin.url, SqlPaperBalances(db_sessions), {"KRW": D(0), "XRP": D(1000)}
    )
    try:
        yield exchange
    finally:
        await exchange.aclose()


async def holdings(paper: PaperExchange) -> dict[str, tuple[Decimal, Decimal]]:
    return {a.currency: (a.balance, a.locked) for a in await paper.accounts()}


async def test_ioc_sells_what_the_bids_give(paper: PaperExchange, upbit_standin) -> None:
    upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 30), (799, 20), (790, 1000)])
    placed = await paper.limit_sell("KRW-XRP", D(100), D(799), "usb-p-ioc", time_in_force="ioc")
    assert placed.state == "cancel"
    assert placed.executed_volume == D(50)
    gross = D(30 * 800 + 20 * 799)
    assert (await paper.get_order(uuid=placed.uuid)).gross_funds == gross
    assert await holdings(paper) == {
        "KRW": (gross - gross * D("0.0005"), D(0)),
        "XRP": (D(950), D(0)),
    }


async def test_fok_sells_nothing_when_the_bids_are_short(paper, upbit_standin) -> None:
    upbit_standin.set_orderbook("KRW-XRP", bids=[(800, 30), (790, 1000)])
    placed = await paper.limit_sell("KRW-XRP", D(100), D(800), "usb-p-fok", time_in_force="fok")
    assert placed.state == "cancel"
    assert placed.executed_volume == 0
    assert (await holdings(paper))["XRP"] == (D(1000), D(0))


async def test_resting_limit_fills_when_the_book_reaches_it(paper, upbit_standin) -> None:
    placed = await paper.limit_sell("KRW-XRP", D(100), D(810), "usb-p-rest")
    assert placed.state == "wait"
    assert (await holdings(paper))["XRP"] == (D(900), D(100))
    assert [o.uuid for o in await paper.open_orders()] == [placed.uuid]

    upbit_standin.set_orderbook("KRW-XRP", bids=[(812, 60), (805, 1000)])
    partly = await paper.get_order(uuid=placed.uuid)
    assert (partly.state, partly.executed_volume) == ("wait", D(60))
    assert (await holdings(paper))["XRP"] == (D(900), D(40))

    upbit_standin.set_orderbook("KRW-XRP", bids=[(810, 1000)])
    done = await paper.get_order(uuid=placed.uuid)
    assert (done.state, done.executed_volume) == ("done", D(100))
    assert done.gross_funds == D(60 * 812 + 40 * 810)
    assert await paper.open_orders() == []
    assert "XRP" in await holdings(paper)


async def test_cancel_returns_the_rest(paper) -> None:
    placed = await paper.limit_sell("KRW-XRP", D(100), D(900), "usb-p-cancel")
    answer = await paper.cancel_order(uuid=placed.uuid)
    assert answer.state == "wait"  # the answer is the order as it was when accepted
    assert (await paper.get_order(uuid=placed.uuid)).state == "cancel"
    assert (await holdings(paper))["XRP"] == (D(1000), D(0))
    with pytest.raises(OrderNotFound):
        await paper.cancel_order(uuid=placed.uuid)


async def test_price_off_the_tick_is_refused(paper, upbit_standin) -> None:
    upbit_standin.set_tick_size("KRW-XRP", "1")
    with pytest.raises(OrderRejected) as caught:
        await paper.limit_sell("KRW-XRP", D(100), D("810.5"), "usb-p-tick")
    assert caught.value.name == "invalid_price_ask"
    assert (await holdings(paper))["XRP"] == (D(1000), D(0))
