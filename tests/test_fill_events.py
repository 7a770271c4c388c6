"""A final ``myOrder`` event is read at once: the real watcher, order log, Upbit client and
private WebSocket against the stand-in; only Telegram is replaced by a recording notifier."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from bot.db.repository import SqlOrderRepository
from bot.domain import OrderRecord
from bot.services.fills import FillWatcher
from bot.services.upbit_answers import created
from bot.upbit.client import UpbitClient
from bot.upbit.ws import MyOrderStream
from tests.factories import new_order
from tests.standins.upbit import UpbitStandIn

# The sweep in progress is held up this long by one slow lookup; the event's own read must
# not wait for it.
STALL = 60.0
NOTICE_WAIT = 20.0


class RecordingNotifier:
    def __init__(self) -> None:
        self.announced: list[str | None] = []
        self.changed = asyncio.Event()

    async def announce(self, order: OrderRecord) -> None:
        self.announced.append(order.uuid)
        self.changed.set()


async def test_a_final_event_is_read_and_announced_without_waiting_for_the_sweep(
    db_sessions, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    upbit.slow_seconds = STALL
    repo = SqlOrderRepository(db_sessions)
    async with UpbitClient(upbit.access_key, upbit.secret_key, base_url=upbit.url) as client:
        placed = []
        for name in ("usb-stalled", "usb-evented"):
            await repo.record_submitting(new_order(name))
            order = await client.sell_market("KRW-BTC", Decimal("0.01"), name)
            await repo.update_order(name, created(order))
            placed.append(order)
        stalled, evented = placed
        # The first lookup of the watcher's first sweep hangs: the sweep holds its lock.
        upbit.fail_next("GET", "/v1/order", "slow")
        notifier = RecordingNotifier()
        watcher = FillWatcher(
            client,
            repo,
            notifier,
            events=MyOrderStream(upbit.access_key, upbit.secret_key, upbit.ws_url),
            poll_interval=STALL,
            safety_interval=STALL,
        )
        task = asyncio.create_task(watcher.run())
        try:
            assert await asyncio.to_thread(upbit.wait_for_ws_subscribers, 1, 10.0)
            upbit.fill_order(evented.uuid)
            async with asyncio.timeout(NOTICE_WAIT):
                while evented.uuid not in notifier.announced:
                    await notifier.changed.wait()
                    notifier.changed.clear()
            # The stalled lookup has still not been answered: nothing waited for it.
            lookups = upbit.requests_to("GET", "/v1/order")
            assert all(stalled.uuid not in r.query_string for r in lookups)
            assert notifier.announced == [evented.uuid]
        finally:
            watcher.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
