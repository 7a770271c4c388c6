"""The client keeps under Upbit's per-second limits by itself (the stand-in enforces them)."""

from __future__ import annotations

import asyncio
import time

from bot.upbit.client import RateLimiter, UpbitClient


async def test_a_burst_of_reads_gets_no_429(upbit_standin):
    async with UpbitClient(
        upbit_standin.access_key,
        upbit_standin.secret_key,
        base_url=upbit_standin.url,
        max_read_retries=0,
    ) as client:
        results = await asyncio.gather(
            *(client.tickers(["KRW-BTC"]) for _ in range(25)),
            *(client.accounts() for _ in range(40)),
        )
    assert len(results) == 65
    assert upbit_standin.rate_limited_count == 0
    assert len(upbit_standin.requests_to("GET", "/v1/ticker")) == 25


async def test_without_the_limiter_the_same_burst_is_refused(upbit_standin):
    # The control: the stand-in does refuse such a burst when nothing holds it back.
    async with UpbitClient(
        upbit_standin.access_key,
        upbit_standin.secret_key,
        base_url=upbit_standin.url,
        max_read_retries=0,
    ) as client:
        client._limiters.clear()
        client._limiters["default"] = RateLimiter(10_000)  # effectively none
        await asyncio.gather(
            *(client.tickers(["KRW-BTC"]) for _ in range(25)), return_exceptions=True
        )
    assert upbit_standin.rate_limited_count > 0


async def test_rate_limiter_window():
    limiter = RateLimiter(3, window=0.3)
    start = time.monotonic()
    for _ in range(7):
        async with limiter.slot():
            pass
    # 7 calls at 3 per 0.3 s need at least two full windows.
    assert time.monotonic() - start >= 0.6


async def test_rate_limiter_counts_calls_in_flight():
    limiter = RateLimiter(2, window=0.2)
    entered = 0

    async def call() -> None:
        nonlocal entered
        async with limiter.slot():
            entered += 1
            await asyncio.sleep(0.3)

    tasks = [asyncio.create_task(call()) for _ in range(3)]
    await asyncio.sleep(0.15)
    assert entered == 2  # the third waits while two are in flight
    await asyncio.gather(*tasks)
    assert entered == 3
