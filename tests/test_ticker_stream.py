"""The public ticker WebSocket: the real `TickerStream` against the Upbit stand-in."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from decimal import Decimal

from websockets.asyncio.client import connect

from bot.upbit.ticker_ws import TickerStream
from bot.upbit.ws import ConnectPacer

D = Decimal


async def _until(check: Callable[[], bool], timeout: float = 10) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_snapshot_then_realtime_for_the_watched_codes(upbit_standin) -> None:
    seen: list[tuple[str, Decimal]] = []

    async def on_price(code: str, price: Decimal) -> None:
        seen.append((code, price))

    stream = TickerStream(upbit_standin.ws_url, pacer=ConnectPacer(0.0))
    stop = asyncio.Event()
    task = asyncio.create_task(stream.run(on_price, stop))
    try:
        assert not stream.connected and stream.price("KRW-BTC") is None
        stream.watch(["KRW-BTC"])
        await _until(lambda: stream.price("KRW-BTC") == D(100_000_000))
        upbit_standin.set_ticker("KRW-ETH", trade_price=D(6_000_000))  # not watched
        upbit_standin.set_ticker("KRW-BTC", trade_price=D("100500000"))
        await _until(lambda: stream.price("KRW-BTC") == D(100_500_000))
        assert ("KRW-ETH", D(6_000_000)) not in seen

        stream.watch(["KRW-BTC", "KRW-ETH"])  # a new set: resubscribed
        await _until(lambda: stream.price("KRW-ETH") == D(6_000_000))
        assert {"KRW-BTC", "KRW-ETH"} in upbit_standin.ws_ticker_codes()

        stream.watch([])  # nothing to watch: no connection kept
        await _until(lambda: upbit_standin.ws_ticker_codes() == [])
        assert stream.price("KRW-BTC") is None
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert upbit_standin.ws_connections_made == 0  # no private connection was involved


async def test_standin_refuses_what_upbit_refuses(upbit_standin) -> None:
    async with connect(upbit_standin.ws_url) as ws:
        await ws.send(json.dumps([{"ticket": "t"}, {"type": "ticker", "codes": ["krw-btc"]}]))
        assert json.loads(await ws.recv())["error"]["name"] == "INVALID_PARAM"
        await ws.send(json.dumps([{"ticket": "t"}, {"type": "ticker"}]))
        assert json.loads(await ws.recv())["error"]["name"] == "NO_CODES"
        await ws.send(json.dumps([{"ticket": "t"}, {"type": "myOrder"}]))
        assert json.loads(await ws.recv())["error"]["name"] == "INVALID_PARAM"
        request = [{"ticket": "t"}, {"type": "ticker", "codes": ["KRW-BTC"]}]
        await ws.send(json.dumps(request))
        snapshot = json.loads(await ws.recv(), parse_float=Decimal)
        assert snapshot["type"] == "ticker" and snapshot["stream_type"] == "SNAPSHOT"
        assert snapshot["code"] == "KRW-BTC" and snapshot["trade_price"] == 100_000_000
