"""A final ``myOrder`` event is read at once: the real watcher, order log, Upbit client and
private WebSocket against the stand-in; only Telegram is replaced by a recording notifier."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from bot.db.repository import SqlOrderRepository
from bot.domain import OrderRecord
from bot.services.fills import FillWatcher
from bot.services.press import BalanceBook, BalanceTap
from bot.services.upbit_answers import created
from bot.upbit.client import UpbitClient
from bot.upbit.models import Order
from bot.upbit.ws import MyOrderStream
from tests.factories import new_order
from tests.standins.upbit import UpbitStandIn

# The sweep in progress is held up this long by one slow lookup; the event's own read must
# not wait for it.
STALL = 60.0
NOTICE_WAIT = 20.0


def tapped_stream(upbit: UpbitStandIn) -> BalanceTap:
    """The private stream as the bot wires it: myAsset to a balance book, myOrder on."""
    return BalanceTap(
        MyOrderStream(upbit.access_key, upbit.secret_key, upbit.ws_url), BalanceBook()
    )


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
            events=tapped_stream(upbit),
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


async def _place(
    repo: SqlOrderRepository, client: UpbitClient, names: tuple[str, ...]
) -> list[Order]:
    placed = []
    for name in names:
        await repo.record_submitting(new_order(name))
        order = await client.sell_market("KRW-BTC", Decimal("0.01"), name)
        await repo.update_order(name, created(order))
        placed.append(order)
    return placed


async def _first_sweeps(upbit: UpbitStandIn) -> None:
    """Wait until the watcher's start-up sweep and the one its socket's connect wakes have
    both read the resting orders (one batch call each)."""
    async with asyncio.timeout(NOTICE_WAIT):
        while len(upbit.requests_to("GET", "/v1/orders/uuids")) < 2:
            await asyncio.sleep(0.01)


async def test_a_final_event_reads_only_its_own_order_not_every_resting_one(
    db_sessions, upbit_standin: UpbitStandIn
) -> None:
    """With hundreds of resting orders a sweep beside the event's read costs a batch call per
    hundred and holds the notice up: the event's own read settles it, no sweep follows."""
    upbit = upbit_standin
    upbit.auto_fill = False
    repo = SqlOrderRepository(db_sessions)
    async with UpbitClient(upbit.access_key, upbit.secret_key, base_url=upbit.url) as client:
        resting, evented = await _place(repo, client, ("usb-resting", "usb-evented"))
        notifier = RecordingNotifier()
        watcher = FillWatcher(
            client,
            repo,
            notifier,
            events=tapped_stream(upbit),
            poll_interval=STALL,
            safety_interval=STALL,
        )
        task = asyncio.create_task(watcher.run())
        try:
            assert await asyncio.to_thread(upbit.wait_for_ws_subscribers, 1, 10.0)
            await _first_sweeps(upbit)
            upbit.cancel_order(evented.uuid)
            async with asyncio.timeout(NOTICE_WAIT):
                while evented.uuid not in notifier.announced:
                    await notifier.changed.wait()
                    notifier.changed.clear()
        finally:
            watcher.stop()
            async with asyncio.timeout(NOTICE_WAIT):
                await task  # a sweep woken meanwhile runs to its end first
        assert notifier.announced == [evented.uuid]
        assert len(upbit.requests_to("GET", "/v1/orders/uuids")) == 2  # the first sweeps only
        reads = [r.query_string for r in upbit.requests_to("GET", "/v1/order")]
        assert [q for q in reads if evented.uuid in q] == [reads[0]]  # read once, by the event
        assert all(resting.uuid not in q for q in reads)


async def test_a_final_event_whose_read_fails_wakes_the_sweep_which_announces_it(
    db_sessions, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    upbit.auto_fill = False
    repo = SqlOrderRepository(db_sessions)
    async with UpbitClient(upbit.access_key, upbit.secret_key, base_url=upbit.url) as client:
        (evented,) = await _place(repo, client, ("usb-evented",))
        notifier = RecordingNotifier()
        watcher = FillWatcher(
            client,
            repo,
            notifier,
            events=tapped_stream(upbit),
            poll_interval=STALL,
            safety_interval=STALL,
        )
        task = asyncio.create_task(watcher.run())
        try:
            assert await asyncio.to_thread(upbit.wait_for_ws_subscribers, 1, 10.0)
            await _first_sweeps(upbit)
            # The event's own read is refused (Upbit's JSON error, which is not retried).
            upbit.fail_next("GET", "/v1/order", "order_not_found")
            upbit.cancel_order(evented.uuid)
            async with asyncio.timeout(NOTICE_WAIT):
                while evented.uuid not in notifier.announced:
                    await notifier.changed.wait()
                    notifier.changed.clear()
        finally:
            watcher.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert notifier.announced == [evented.uuid]
        # The refused read, then the woken sweep's batch call and its own read of the order.
        assert len(upbit.requests_to("GET", "/v1/orders/uuids")) == 3
        assert [r.status for r in upbit.requests_to("GET", "/v1/order")] == [404, 200]
