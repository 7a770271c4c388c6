"""Self-trade prevention as the bot sees it: which own buy orders a sell meets, and what the
fill notice says about them afterwards (against the Upbit stand-in, through the real client)."""

from __future__ import annotations

from decimal import Decimal

from bot.services.self_trade import SelfTradeWatch, own_bids_met
from bot.telegram import render
from bot.upbit.client import UpbitClient
from tests.standins.fixtures import upbit_standin  # noqa: F401
from tests.standins.upbit import UpbitStandIn

D = Decimal


def client(stand: UpbitStandIn) -> UpbitClient:
    return UpbitClient(stand.access_key, stand.secret_key, base_url=stand.url, backoff_base=0.01)


async def test_only_buy_orders_at_or_above_the_lowest_bid_reached_count(
    upbit_standin: UpbitStandIn,  # noqa: F811
) -> None:
    stand = upbit_standin
    stand.place_own_bid("KRW-BTC", 100_005_000, "0.002")
    stand.place_own_bid("KRW-BTC", 99_000_000, "0.002")  # far below: a small sell never gets there
    stand.place_own_bid("KRW-ETH", 4_990_000, "0.01")  # another market
    async with client(stand) as upbit:
        orders = await upbit.open_orders()
    met = own_bids_met(orders, "KRW-BTC", D(100_000_000), "cancel_maker")
    assert met is not None
    assert (met.count, met.volume, met.best_price) == (1, D("0.002"), D(100_005_000))
    assert met.warning_code == "smp_warn_cancel_maker"
    assert own_bids_met(orders, "KRW-XRP", None, "cancel_maker") is None


async def test_watch_reports_what_prevention_did_to_own_buy_orders(
    upbit_standin: UpbitStandIn,  # noqa: F811
) -> None:
    stand = upbit_standin
    own = stand.place_own_bid("KRW-BTC", 100_005_000, "0.002")
    async with client(stand) as upbit:
        watch = SelfTradeWatch(upbit, "cancel_maker")
        watch.remember("usb-1", "KRW-BTC", await upbit.open_orders())
        assert await watch.report("usb-1") is None  # not met yet: nothing to say
        await upbit.sell_market("KRW-BTC", D("0.01"), "usb-1")
        report = await watch.report("usb-1")
        assert report is not None and (report.count, report.volume) == (1, D("0.002"))
        assert await watch.report("usb-1") == report  # a notice sent again says the same
        assert await watch.report("usb-unknown") is None  # e.g. after a restart
    maker = stand.order(own.uuid)
    assert maker is not None and maker.state == "cancel"
    line = render.self_trade_makers("ko", "KRW-BTC", report)
    assert line == (
        "자전거래 체결 방지(cancel_maker)로 이 매도와 만난 KRW-BTC 매수 주문 1건이 취소되거나 "
        "줄었습니다. 매수되지 않을 수량: 0.002 BTC"
    )


async def test_modes_that_leave_resting_orders_alone_remember_nothing(
    upbit_standin: UpbitStandIn,  # noqa: F811
) -> None:
    stand = upbit_standin
    stand.place_own_bid("KRW-BTC", 100_005_000, "0.002")
    async with client(stand) as upbit:
        orders = await upbit.open_orders()
        for mode in ("cancel_taker", "none"):
            watch = SelfTradeWatch(upbit, mode)
            assert not watch.affects_makers
            watch.remember("usb-2", "KRW-BTC", orders)
            assert await watch.report("usb-2") is None
