"""StrangerLane: once an hour per stranger and per chat, one worker, a bounded backlog."""

from __future__ import annotations

import asyncio

from bot.telegram.strangers import StrangerLane


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_one_reply_an_hour_per_stranger_and_one_leave_per_chat() -> None:
    clock = Clock()
    lane = StrangerLane(calls_per_second=1000, clock=clock)
    done: list[str] = []
    finished = asyncio.Event()

    def call(name: str):
        async def run() -> None:
            done.append(name)
            if name == "last":
                finished.set()

        return run

    assert lane.reply(1, call("a1"))
    assert not lane.reply(1, call("a2"))
    assert lane.reply(2, call("b1"))
    assert lane.leave(-5, call("leave-5"))
    assert not lane.leave(-5, call("leave-5 again"))
    assert lane.leave(-5, call("leave-5 re-added"), again=True)  # added back: leave again
    clock.now += 3599
    assert not lane.reply(1, call("a3"))
    clock.now += 2
    assert lane.reply(1, call("last"))
    await asyncio.wait_for(finished.wait(), 5)
    assert done == ["a1", "b1", "leave-5", "leave-5 re-added", "last"]
    await lane.aclose()


async def test_a_full_backlog_drops_and_does_not_count_as_replied() -> None:
    lane = StrangerLane(calls_per_second=1000, backlog=1)
    gate = asyncio.Event()

    async def blocked() -> None:
        await gate.wait()

    async def quick() -> None:
        return None

    assert lane.reply(1, blocked)
    await asyncio.sleep(0)  # the worker takes the first call
    assert lane.reply(2, quick)  # fills the backlog of one
    assert not lane.reply(3, quick)  # dropped ...
    gate.set()
    await asyncio.sleep(0.05)
    assert lane.reply(3, quick)  # ... so stranger 3 may still be answered later
    await lane.aclose()
