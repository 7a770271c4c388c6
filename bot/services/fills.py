"""The fill watcher: follows every order that is not final, and announces each final one once.

WebSocket ``myOrder`` events only wake the watcher; the figures always come from
``GET /v1/order``. A final event (``done``, ``cancel``) reads that one order at once, beside
any sweep in progress, and announces it. While the socket is down (or off) the watcher polls
every ``poll_interval``; while it is up it still sweeps every ``safety_interval`` in case an
event was lost. Each final order is announced through `bot.services.announce` (the one
announce-once protocol), so two watchers in two processes never both send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Protocol

from bot.domain import FailureKind, OrderFill, OrderRecord, OrderState
from bot.services.announce import Announcer, Delivery
from bot.services.clock import Clock, utc_now
from bot.services.ports import Exchange, OrderRepository
from bot.services.upbit_answers import order_fill
from bot.upbit.errors import OrderNotFound, UpbitError
from bot.upbit.models import MyOrderEvent

log = logging.getLogger(__name__)

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
        announcer: Announcer | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._exchange = exchange
        self._repo = repo
        self._notifier = notifier
        self._events = events
        self._poll_interval = poll_interval
        self._safety_interval = safety_interval
        self._unknown_grace = unknown_grace
        self._announcer = announcer or Announcer(repo, clock=clock)
        self._clock = clock
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
                interval = self._safety_interval if relaxed else self._poll_interval
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

    def _ws_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None and not self._stop.is_set():
            log.error("order WebSocket task died; polling only", exc_info=task.exception())
        self._ws_connected = False
        self.wake()

    async def _on_event(self, event: MyOrderEvent) -> None:
        log.debug("myOrder event uuid=%s state=%s", event.uuid, event.state)
        if event.state in FINAL_EVENT_STATES:
            task = asyncio.create_task(self._read_final(event))
            self._event_reads.add(task)
            task.add_done_callback(self._event_reads.discard)
        self.wake()

    async def _read_final(self, event: MyOrderEvent) -> None:
        """Read the order an event says is final now, without waiting for a sweep."""
        try:
            record = await self._repo.get_order_by_uuid(event.uuid) if event.uuid else None
            if record is None and event.identifier:
                record = await self._repo.get_order_by_identifier(event.identifier)
            if record is None or record.state.is_final:
                return
            await self._refresh(record)
            refreshed = await self._repo.get_order(record.id)
            if (
                refreshed is not None
                and refreshed.state.is_final
                and not await self._announce(refreshed)
            ):
                self._undelivered = True  # retried by the sweeps, at poll pace
                self.wake()
        except Exception:
            log.exception("reading a final order failed uuid=%s", event.uuid)

    async def _on_ws_state(self, connected: bool) -> None:
        if connected != self._ws_connected:
            log.info("order WebSocket %s", "connected" if connected else "down; polling")
        self._ws_connected = connected
        # Anything may have happened while the socket was down: look now.
        self.wake()

    async def sweep(self) -> None:
        """One pass: refresh every order not final, then announce the final unannounced."""
        async with self._sweep_lock:
            open_orders = await self._repo.list_not_final()
            self._watching = len(open_orders)
            for record in open_orders:
                try:
                    await self._refresh(record)
                except Exception:  # one odd order must not hold up the others
                    log.exception("refreshing order failed identifier=%s", record.identifier)
            undelivered = False
            for record in await self._repo.list_final_unannounced():
                try:
                    delivered = await self._announce(record)
                except Exception:
                    log.exception("announcing order failed order=%s", record.id)
                    delivered = False
                undelivered = undelivered or not delivered
            self._undelivered = undelivered

    async def _refresh(self, record: OrderRecord) -> None:
        try:
            if record.uuid is not None:
                order = await self._exchange.get_order(uuid=record.uuid)
            else:
                order = await self._exchange.get_order(identifier=record.identifier)
        except OrderNotFound:
            if record.uuid is None and self._clock() - record.created_at > self._unknown_grace:
                log.warning("order never created identifier=%s", record.identifier)
                await self._repo.update_order(
                    record.identifier,
                    OrderFill(
                        state=OrderState.FAILED,
                        error="not_created: unknown to Upbit",
                        failure=FailureKind.NOT_CREATED,
                    ),
                )
            return
        except UpbitError as exc:
            log.warning("order lookup failed identifier=%s: %s", record.identifier, exc.name)
            return
        await self._repo.update_order(record.identifier, order_fill(order))

    async def _announce(self, record: OrderRecord) -> bool:
        """False when the notice could not be sent (and should be retried soon)."""

        async def send() -> None:
            await self._notifier.announce(record)

        delivery = await self._announcer.announce(record.id, send)
        if delivery is Delivery.SENT:
            log.info("order announced uuid=%s state=%s", record.uuid, record.state.value)
        return delivery is not Delivery.FAILED
