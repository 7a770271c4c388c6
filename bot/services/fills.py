"""The fill watcher: follows every order that is not final, and announces each final one once.

WebSocket ``myOrder`` events only wake the watcher; the figures always come from
``GET /v1/order``. A final event (``done``, ``cancel``) reads that one order at once, beside
any sweep in progress, and announces it; only when that read cannot settle it (a failed
lookup or send, an order not yet in the log) does it wake a sweep. Other events wake a sweep.
While the socket is down (or off) the watcher polls every ``poll_interval``; while it is up
it still sweeps every ``safety_interval`` in case an event was lost. Each final order is
announced through `bot.services.announce` (the one announce-once protocol), so two watchers
in two processes never both send.

Orders Upbit already numbered are read a hundred at a time (``GET /v1/orders/uuids``, no
trades); only an order whose state or executed volume moved (or that the batch did not
return) is then read alone with ``GET /v1/order`` for its figures, so 500 resting limit orders
cost five calls a sweep, and polling sweeps are spaced so that the watcher stays within
``ORDER_CALLS_PER_SECOND``. Lookups run concurrently (at most ``LOOKUP_CONCURRENCY`` at
once), each within ``lookup_timeout``, so one slow order never holds the others. A process
follows only the orders of its own mode (paper or live); the other mode's wait for a
process of theirs.

An order whose submission is in doubt (no uuid) is declared never created only after
``NOT_FOUND_ANSWERS`` of Upbit's own JSON ``order_not_found`` answers spread over
``unknown_grace`` or more (by the database's clock); anything else (an HTML page, a proxy's
bare 404, a time-out) proves nothing. Such an order is still looked up every
``recheck_interval`` for ``RECHECK_WINDOW``; if it turns up it is followed and announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from bot.domain import OrderRecord, OrderState
from bot.services.announce import Announcer, Delivery
from bot.services.clock import Clock
from bot.services.ports import Exchange, OrderRepository
from bot.services.upbit_answers import order_fill
from bot.upbit.errors import OrderNotFound, UpbitError
from bot.upbit.models import MyOrderEvent

log = logging.getLogger(__name__)

LOOKUP_CONCURRENCY = 8
BATCH = 100  # GET /v1/orders/uuids takes up to 100 uuids
# The watcher's share of Upbit's calls while polling (the whole bot aims at <= 5 a second).
ORDER_CALLS_PER_SECOND = 4.0
NOT_FOUND_ANSWERS = 3
RECHECK_WINDOW = timedelta(hours=24)

# myOrder states after which the order changes no more; ``prevented`` and ``trade`` are not
# final (https://docs.upbit.com/kr/reference/websocket-myorder).
FINAL_EVENT_STATES = frozenset({"done", "cancel"})


class Notifier(Protocol):
    async def announce(self, order: OrderRecord) -> None:
        """Tell the user about a final order; raise if the message did not go out."""
        ...


class OrderEventSource(Protocol):
    async def run(
        self,
        on_event: Callable[[MyOrderEvent], Awaitable[None]],
        on_state_change: Callable[[bool], Awaitable[None]],
        stop_event: asyncio.Event,
    ) -> None: ...


class FillWatcher:
    def __init__(
        self,
        exchange: Exchange,
        repo: OrderRepository,
        notifier: Notifier,
        *,
        events: OrderEventSource | None = None,
        poll_interval: float = 1.0,
        safety_interval: float = 15.0,
        unknown_grace: timedelta = timedelta(minutes=5),
        recheck_interval: float = 300.0,
        lookup_timeout: float = 10.0,
        announcer: Announcer | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._exchange = exchange
        self._repo = repo
        self._notifier = notifier
        self._events = events
        self._poll_interval = poll_interval
        self._safety_interval = safety_interval
        self._unknown_grace = unknown_grace
        self._recheck_interval = recheck_interval
        self._last_recheck: float | None = None
        self._lookup_timeout = lookup_timeout
        self._lookups = asyncio.Semaphore(LOOKUP_CONCURRENCY)
        self._paper = exchange.is_paper
        self._announcer = announcer or Announcer(repo, clock=clock)
        self._clock = clock  # None: the database's clock (production)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._ws_connected = False
        self._watching = 0
        self._undelivered = False  # a notice failed at the last sweep: retry at poll pace
        self._sweep_lock = asyncio.Lock()
        self._event_reads: set[asyncio.Task[None]] = set()

    @property
    def ws_enabled(self) -> bool:
        return self._events is not None

    @property
    def ws_connected(self) -> bool:
        return self._ws_connected

    @property
    def watching(self) -> int:
        """Orders not final at the last sweep."""
        return self._watching

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Sweep until `stop()`; never raises for exchange or Telegram trouble."""
        ws_task = None
        if self._events is not None:
            ws_task = asyncio.create_task(
                self._events.run(self._on_event, self._on_ws_state, self._stop)
            )
            ws_task.add_done_callback(self._ws_ended)
        try:
            while not self._stop.is_set():
                try:
                    await self.sweep()
                except Exception:
                    log.exception("fill watcher sweep failed")
                # A notice Telegram refused is retried at poll pace, not at the 15 s safety
                # pace the socket allows for orders.
                relaxed = self._ws_connected and not self._undelivered
                interval = self._safety_interval if relaxed else self._polling_interval()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
                self._wake.clear()
        finally:
            for task in list(self._event_reads):
                task.cancel()
            if ws_task is not None:
                ws_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ws_task

    def _polling_interval(self) -> float:
        """The poll interval, stretched when the orders need more batch calls a sweep than
        ``ORDER_CALLS_PER_SECOND`` allows in it."""
        batches = -(-self._watching // BATCH)
        return max(self._poll_interval, batches / ORDER_CALLS_PER_SECOND)

    def _ws_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._stop.is_set():
            log.error("order WebSocket task died; polling only", exc_info=task.exception())
        self._ws_connected = False
        self.wake()

    async def _on_event(self, event: MyOrderEvent) -> None:
        log.debug("myOrder event uuid=%s state=%s", event.uuid, event.state)
        if event.state in FINAL_EVENT_STATES:
            # The event's own read announces the order; it wakes the sweep only when it
            # could not (a sweep beside it would read every open order again, hundreds of
            # them, and hold up this very notice).
            task = asyncio.create_task(self._read_final(event))
            self._event_reads.add(task)
            task.add_done_callback(self._event_reads.discard)
            return
        self.wake()

    async def _read_final(self, event: MyOrderEvent) -> None:
        """Read the order an event says is final now, without waiting for a sweep; wake
        the sweep unless the order was announced here (or is not this process's)."""
        settled = False
        try:
            record = await self._repo.get_order_by_uuid(event.uuid) if event.uuid else None
            if record is None and event.identifier:
                record = await self._repo.get_order_by_identifier(event.identifier)
            if record is not None and record.paper != self._paper:
                settled = True  # the other mode's processes follow it
                return
            if record is None or record.state.is_final:
                return  # not in the log yet, or final already: the sweep looks
            refreshed = await self._refresh_bounded(record)
            if refreshed is None or not refreshed.state.is_final:
                return
            settled = await self._announce(refreshed)
            if not settled:
                self._undelivered = True  # retried by the sweeps, at poll pace
        except Exception:
            log.exception("reading a final order failed uuid=%s", event.uuid)
        finally:
            if not settled:
                self.wake()

    async def _on_ws_state(self, connected: bool) -> None:
        if connected != self._ws_connected:
            log.info("order WebSocket %s", "connected" if connected else "down; polling")
        self._ws_connected = connected
        # Anything may have happened while the socket was down: look now.
        self.wake()

    async def sweep(self) -> None:
        """One pass: refresh every order not final (concurrently, each within its time
        limit), look again at orders declared never created, then announce the final ones
        not yet announced."""
        async with self._sweep_lock:
            open_orders = await self._repo.list_not_final(paper=self._paper)
            self._watching = len(open_orders)
            numbered = [r for r in open_orders if r.uuid is not None]
            moved = [r for r in open_orders if r.uuid is None]
            batches = [numbered[i : i + BATCH] for i in range(0, len(numbered), BATCH)]
            for found in await asyncio.gather(*(self._moved_in(b) for b in batches)):
                moved += found
            await asyncio.gather(*(self._refresh_bounded(r) for r in moved))
            await self._recheck_not_created()
            unannounced = await self._repo.list_final_unannounced(paper=self._paper)
            results = await asyncio.gather(*(self._announce_quietly(r) for r in unannounced))
            self._undelivered = not all(results)

    async def _moved_in(self, records: list[OrderRecord]) -> list[OrderRecord]:
        """The orders of one batch that need a full read: state or executed volume moved
        since the log's last look, or not in Upbit's answer (the full read judges that)."""
        async with self._lookups:
            try:
                async with asyncio.timeout(self._lookup_timeout):
                    answer = await self._exchange.orders_by_uuids([r.uuid or "" for r in records])
            except TimeoutError:
                log.warning("batched order lookup timed out (%d orders)", len(records))
                return []
            except UpbitError as exc:
                log.warning("batched order lookup failed (%d orders): %s", len(records), exc.name)
                return []
        seen = {order.uuid: order for order in answer}
        moved: list[OrderRecord] = []
        for record in records:
            order = seen.get(record.uuid or "")
            if (
                order is None
                or OrderState.from_upbit(order.state) is not record.state
                or order.executed_volume != record.executed_volume
            ):
                moved.append(record)
        return moved

    async def _refresh_bounded(self, record: OrderRecord) -> OrderRecord | None:
        """The order as the log now holds it after a lookup; None when the lookup (or the
        write) failed or timed out."""
        async with self._lookups:
            try:
                async with asyncio.timeout(self._lookup_timeout):
                    return await self._refresh(record)
            except TimeoutError:
                log.warning("order lookup timed out identifier=%s", record.identifier)
            except Exception:  # one odd order must not hold up the others
                log.exception("refreshing order failed identifier=%s", record.identifier)
        return None

    async def _announce_quietly(self, record: OrderRecord) -> bool:
        try:
            return await self._announce(record)
        except Exception:
            log.exception("announcing order failed order=%s", record.id)
            return False

    async def _refresh(self, record: OrderRecord) -> OrderRecord | None:
        try:
            if record.uuid is not None:
                order = await self._exchange.get_order(uuid=record.uuid)
            else:
                order = await self._exchange.get_order(identifier=record.identifier)
        except OrderNotFound:  # Upbit's own JSON answer, not a proxy's bare 404
            if record.uuid is None and record.state is OrderState.SUBMITTING:
                after = await self._repo.record_not_found(
                    record.identifier,
                    declare_after=NOT_FOUND_ANSWERS,
                    spread=self._unknown_grace,
                )
                if after is not None and after.state is OrderState.FAILED:
                    log.warning("order never created identifier=%s", record.identifier)
            return None
        except UpbitError as exc:
            log.warning("order lookup failed identifier=%s: %s", record.identifier, exc.name)
            return None
        return await self._repo.update_order(record.identifier, order_fill(order))

    async def _recheck_not_created(self) -> None:
        """Now and then, for a day, ask again about orders declared never created."""
        pace = asyncio.get_running_loop().time()
        if self._last_recheck is not None and pace - self._last_recheck < self._recheck_interval:
            return
        self._last_recheck = pace
        now = self._clock() if self._clock is not None else await self._repo.now()
        for record in await self._repo.list_not_created_since(now - RECHECK_WINDOW, self._paper):
            try:
                async with self._lookups, asyncio.timeout(self._lookup_timeout):
                    order = await self._exchange.get_order(identifier=record.identifier)
            except (UpbitError, TimeoutError):
                continue
            if await self._repo.revive_order(record.identifier, order_fill(order)) is not None:
                log.warning("order declared never created turned up uuid=%s", order.uuid)

    async def _announce(self, record: OrderRecord) -> bool:
        """False when the notice could not be sent (and should be retried soon)."""

        async def send() -> None:
            await self._notifier.announce(record)

        delivery = await self._announcer.announce(record.id, send)
        if delivery is Delivery.SENT:
            log.info("order announced uuid=%s state=%s", record.uuid, record.state.value)
        if delivery is Delivery.UNDELIVERABLE:
            log.warning("fill notice undeliverable order=%s (recorded)", record.id)
            await self._repo.mark_undeliverable(record.id)
        return delivery is not Delivery.FAILED
