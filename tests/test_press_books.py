"""`BookKeeper`: the books of markets with an open preview, read in the background.

The reader here is a stand-in for ``GET /v1/orderbook`` that records each call and answers
with a book whose timestamp counts the calls; every wait is on a call, never on a guess."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

from bot.services.press import BookKeeper
from bot.upbit.errors import UpbitTransportError
from bot.upbit.models import Orderbook, OrderbookUnit

INTERVAL = 0.05


class Reader:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.called = asyncio.Event()
        self.fail = False

    async def __call__(self, markets: Sequence[str]) -> list[Orderbook]:
        self.calls.append(tuple(markets))
        self.called.set()
        if self.fail:
            raise UpbitTransportError("down")
        return [book(m, len(self.calls)) for m in markets]

    async def next_call(self) -> tuple[str, ...]:
        self.called.clear()
        await asyncio.wait_for(self.called.wait(), 5)
        return self.calls[-1]


def book(market: str, stamp: int) -> Orderbook:
    unit = OrderbookUnit(Decimal(101), Decimal(100), Decimal(1), Decimal(1))
    return Orderbook(market, stamp, Decimal(1), Decimal(1), (unit,))


async def test_a_watched_book_is_read_again_in_the_background_and_kept_fresh() -> None:
    reader = Reader()
    keeper = BookKeeper(reader, interval=INTERVAL)
    now = asyncio.get_running_loop().time()
    keeper.put(book("KRW-BTC", 0), now)  # the preview's own read
    keeper.watch("p1", "KRW-BTC", 60)
    try:
        assert await reader.next_call() == ("KRW-BTC",)
        await reader.next_call()
        fresh = keeper.fresh("KRW-BTC", 1.0)
        assert fresh is not None and fresh.timestamp >= 1  # a background read, not the preview's
    finally:
        await keeper.aclose()


async def test_the_books_of_several_previews_are_read_in_one_request() -> None:
    reader = Reader()
    keeper = BookKeeper(reader, interval=INTERVAL)
    keeper.watch("p1", "KRW-BTC", 60)
    keeper.watch("p2", "KRW-ETH", 60)
    keeper.watch("p3", "KRW-BTC", 60)  # two previews of one market: read once
    try:
        assert await reader.next_call() == ("KRW-BTC", "KRW-ETH")
    finally:
        await keeper.aclose()


async def test_failed_reads_back_off() -> None:
    reader = Reader()
    reader.fail = True
    keeper = BookKeeper(reader, interval=INTERVAL)
    keeper.watch("p1", "KRW-BTC", 60)
    try:
        started = asyncio.get_running_loop().time()
        for _ in range(4):
            await reader.next_call()
        # 1 + 2 + 4 intervals between them at least (not one read a quarter interval)
        assert asyncio.get_running_loop().time() - started >= 7 * INTERVAL
    finally:
        await keeper.aclose()


async def test_reading_stops_when_no_preview_needs_a_book() -> None:
    reader = Reader()
    keeper = BookKeeper(reader, interval=INTERVAL)
    keeper.watch("p1", "KRW-BTC", 60)
    await reader.next_call()
    keeper.unwatch("p1")
    task = keeper.reader
    assert task is not None
    await asyncio.wait_for(task, 5)  # the reader's loop ends by itself
    calls = len(reader.calls)
    keeper.watch("p2", "KRW-XRP", INTERVAL)  # a preview whose time runs out at once
    await reader.next_call()
    again = keeper.reader
    assert again is not None and again is not task  # a new reader for the new preview
    await asyncio.wait_for(again, 5)
    assert len(reader.calls) == calls + 1
    await keeper.aclose()


async def test_a_failed_read_leaves_no_book_fresher_than_it_was() -> None:
    reader = Reader()
    keeper = BookKeeper(reader, interval=INTERVAL)
    read_at = asyncio.get_running_loop().time()
    keeper.put(book("KRW-BTC", 0), read_at)
    reader.fail = True
    keeper.watch("p1", "KRW-BTC", 60)
    try:
        await reader.next_call()
        await reader.next_call()
        age = asyncio.get_running_loop().time() - read_at
        assert keeper.fresh("KRW-BTC", age + 1) is not None  # still the preview's book
        assert keeper.fresh("KRW-BTC", age - INTERVAL) is None  # and only as fresh as that
    finally:
        await keeper.aclose()


async def test_closing_stops_the_reader() -> None:
    reader = Reader()
    keeper = BookKeeper(reader, interval=INTERVAL)
    keeper.watch("p1", "KRW-BTC", 60)
    await reader.next_call()
    await keeper.aclose()
    assert keeper.reader is not None and keeper.reader.cancelled()
