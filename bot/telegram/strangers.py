"""Strangers cost nothing: one short reply an hour at most, groups left, a lane of their own.

The access gate never waits on Telegram for a stranger or a group. It hands the one call it
may want (a refusal, an alert answer, ``leaveChat``) to `StrangerLane`, which

* remembers, per stranger and per chat, when it last spoke or left (`REPEAT_AFTER`, an hour),
  so a flood from one account costs one call an hour;
* sends from a single background worker at `CALLS_PER_SECOND`, so a flood of many accounts
  takes a thin slice of Telegram's ~30 messages a second and never queues ahead of an
  allowed user's messages in the shared rate limiter;
* keeps a short backlog (`BACKLOG`) and drops what does not fit: a refusal nobody gets is
  no loss.

The memory is per process and bounded (`REMEMBERED` entries): several processes may each
answer a stranger once an hour, which is still nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

REPEAT_AFTER = 3600.0
CALLS_PER_SECOND = 3.0
BACKLOG = 50
REMEMBERED = 10_000
CALL_TIMEOUT = 10.0

Call = Callable[[], Awaitable[object]]


class _Recent:
    """Keys seen within ``window`` seconds; the oldest are forgotten beyond ``size``."""

    def __init__(self, window: float, size: int, clock: Callable[[], float]) -> None:
        self._window = window
        self._size = size
        self._clock = clock
        self._seen: OrderedDict[int, float] = OrderedDict()

    def __contains__(self, key: int) -> bool:
        last = self._seen.get(key)
        return last is not None and self._clock() - last < self._window

    def add(self, key: int) -> None:
        self._seen[key] = self._clock()
        self._seen.move_to_end(key)
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)


class StrangerLane:
    def __init__(
        self,
        *,
        repeat_after: float = REPEAT_AFTER,
        calls_per_second: float = CALLS_PER_SECOND,
        backlog: int = BACKLOG,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._replied = _Recent(repeat_after, REMEMBERED, clock)
        self._left = _Recent(repeat_after, REMEMBERED, clock)
        self._gap = 1.0 / calls_per_second
        self._queue: asyncio.Queue[tuple[str, Call]] = asyncio.Queue(maxsize=backlog)
        self._worker: asyncio.Task[None] | None = None

    def reply(self, user_id: int, call: Call) -> bool:
        """Queue ``call`` (a refusal to ``user_id``) unless they had one within the hour."""
        return self._once(self._replied, user_id, "refusal", call)

    def leave(self, chat_id: int, call: Call, *, again: bool = False) -> bool:
        """Queue ``call`` (``leaveChat``) unless this chat was left within the hour (``again``:
        the bot was added back, leave anyway)."""
        return self._once(self._left, chat_id, "leaveChat", call, again=again)

    def _once(
        self, recent: _Recent, key: int, what: str, call: Call, *, again: bool = False
    ) -> bool:
        if key in recent and not again:
            return False
        try:
            self._queue.put_nowait((what, call))
        except asyncio.QueueFull:
            log.info("stranger lane full; %s dropped", what)
            return False
        recent.add(key)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="stranger-lane")
        return True

    async def _drain(self) -> None:
        while True:
            what, call = await self._queue.get()
            try:
                async with asyncio.timeout(CALL_TIMEOUT):
                    await call()
            except Exception as exc:  # a stranger's refusal is worth no retry
                log.info("stranger lane: %s not delivered (%s)", what, type(exc).__name__)
            await asyncio.sleep(self._gap)

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
