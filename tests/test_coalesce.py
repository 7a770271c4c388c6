"""Coalescer: concurrent identical reads share one call; nothing is cached afterwards."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.coalesce import Coalescer


async def test_concurrent_reads_share_one_call_and_later_reads_start_anew():
    calls = 0

    async def read() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return calls

    coalescer: Coalescer[int] = Coalescer()
    results = await asyncio.gather(*(coalescer.run("k", read) for _ in range(10)))
    assert results == [1] * 10
    assert await coalescer.run("k", read) == 2


async def test_errors_reach_every_waiter_and_are_not_kept():
    attempts = 0

    async def read() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise RuntimeError("boom")
        return 7

    coalescer: Coalescer[int] = Coalescer()
    results = await asyncio.gather(
        *(coalescer.run("k", read) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await coalescer.run("k", read) == 7


async def test_a_cancelled_waiter_does_not_cancel_the_read():
    async def read() -> str:
        await asyncio.sleep(0.05)
        return "ok"

    coalescer: Coalescer[str] = Coalescer()
    first = asyncio.create_task(coalescer.run("k", read))
    second = asyncio.create_task(coalescer.run("k", read))
    await asyncio.sleep(0.01)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second == "ok"
