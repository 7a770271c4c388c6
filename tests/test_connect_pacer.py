"""WebSocket connects paced through the database: slots at least 0.25 s apart (at most 4 a
second, under Upbit's 5) for every process on the database, and kept across a restart."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.db.engine import create_sessionmaker
from bot.db.pacer import DEFAULT_GAP, SqlConnectPacer

SLACK = 1e-6  # float arithmetic; slots are judged by the database's clock


async def _slot(pacer: SqlConnectPacer) -> float:
    return (await pacer.reserve()).at


async def test_slots_are_spaced_across_processes_and_restarts(db_engine, engine_factory) -> None:
    # Two processes on one database reserve eight connects at once.
    first, second = (SqlConnectPacer(create_sessionmaker(engine_factory())) for _ in range(2))
    slots = sorted(await asyncio.gather(*(_slot(p) for p in [first, second] * 4)))
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= DEFAULT_GAP - SLACK, gaps
    # Never more than 4 in any second (Upbit allows 5).
    assert all(
        later - earlier >= 1.0 - SLACK for earlier, later in zip(slots, slots[4:], strict=False)
    ), slots

    # A restarted process (a new engine, nothing in memory) queues behind them.
    restarted = SqlConnectPacer(create_sessionmaker(engine_factory()))
    assert await _slot(restarted) >= slots[-1] + DEFAULT_GAP - SLACK


async def test_wait_turn_sleeps_until_the_slot(db_engine, engine_factory) -> None:
    pacer = SqlConnectPacer(create_sessionmaker(engine_factory()))
    await pacer.wait_turn()  # the first slot is now
    started = time.monotonic()
    await pacer.wait_turn()
    await pacer.wait_turn()
    assert time.monotonic() - started >= 2 * DEFAULT_GAP - 0.05
