"""Join identical reads that are already under way instead of asking the exchange again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    """While a read for ``key`` is in flight, later callers await the same result.

    Nothing is cached: once the read finishes, the next caller starts a new one.
    """

    def __init__(self) -> None:
        self._in_flight: dict[Hashable, asyncio.Future[T]] = {}

    async def run(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        future = self._in_flight.get(key)
        if future is None:
            future = asyncio.ensure_future(read())
            self._in_flight[key] = future
            future.add_done_callback(lambda _f: self._in_flight.pop(key, None))
        # shield: one caller being cancelled must not cancel the read for the others.
        return await asyncio.shield(future)
