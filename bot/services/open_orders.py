"""/open: the account's open orders on Upbit, and cancelling one after a confirmation.

Every market and whatever placed them (this bot, Upbit's app, another bot): the list comes
from ``GET /v1/orders/open``, shown a page at a time. A cancel is ``DELETE /v1/order`` by
uuid. A sell this bot is not yet following (placed elsewhere) is first adopted into the
order log, so the fill watcher follows it to its final state and announces what it sold
once, like any other order. When the order turns out final with nothing executed, the
edited message is its only word (marked announced here), so nobody is told "nothing sold"
about an order they just cancelled.

Knows nothing of Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from bot.domain import NewOrder, OrderFill, OrderRecord, OrderState
from bot.services.announce import ANNOUNCE_LEASE
from bot.services.clock import Clock, utc_now
from bot.services.ports import Exchange, OrderRepository
from bot.services.upbit_answers import error_code, order_fill
from bot.upbit.errors import OrderNotFound, ServerError, UpbitError, UpbitTransportError
from bot.upbit.models import Order

log = logging.getLogger(__name__)

PER_PAGE = 10  # orders per message: 10 cancel buttons + navigation stay far below 100
UPBIT_PAGE = 100  # GET /v1/orders/open returns at most 100 per page


@dataclass(frozen=True, slots=True)
class OpenOrder:
    order: Order
    tick_size: Decimal | None  # None when Upbit could not say: shown with default digits

    @property
    def progress_percent(self) -> Decimal:
        volume = self.order.volume or Decimal(0)
        return self.order.executed_volume / volume * 100 if volume else Decimal(0)


@dataclass(frozen=True, slots=True)
class OpenOrdersPage:
    orders: tuple[OpenOrder, ...]
    page: int
    has_previous: bool
    has_next: bool


class CancelStatus(StrEnum):
    OPEN = "open"  # `look`: still open, so it may be cancelled
    CANCELLED = "cancelled"  # Upbit accepted the cancel
    NOT_OPEN = "not_open"  # already done or cancelled, or unknown to Upbit
    FAILED = "failed"  # Upbit refused or could not be asked; nothing changed


@dataclass(frozen=True, slots=True)
class CancelResult:
    status: CancelStatus
    order: Order | None = None  # Upbit's view after the cancel (or before, when refused)
    tick_size: Decimal | None = None
    reason: str = ""  # catalogue code for FAILED


class OpenOrdersService:
    def __init__(
        self,
        exchange: Exchange,
        repo: OrderRepository,
        *,
        clock: Clock = utc_now,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._exchange = exchange
        self._repo = repo
        self._clock = clock
        self._on_change = on_change

    async def page(self, page: int = 1) -> OpenOrdersPage:
        """Page ``page`` (from 1) of the open orders, newest first, ``PER_PAGE`` at a time.

        Raises `UpbitError` when Upbit cannot be asked.
        """
        page = max(1, page)
        first = (page - 1) * PER_PAGE
        upbit_page, offset = divmod(first, UPBIT_PAGE)
        rows = await self._exchange.open_orders(page=upbit_page + 1, limit=UPBIT_PAGE)
        shown = rows[offset : offset + PER_PAGE]
        ticks = await self._ticks(sorted({o.market for o in shown}))
        return OpenOrdersPage(
            orders=tuple(OpenOrder(o, ticks.get(o.market)) for o in shown),
            page=page,
            has_previous=page > 1,
            # A full Upbit page may be followed by more on its next page.
            has_next=len(rows) > offset + PER_PAGE or len(rows) == UPBIT_PAGE,
        )

    async def look(self, uuid: str) -> CancelResult:
        """The order a cancel button points at, as Upbit has it now (for the confirmation)."""
        try:
            order = await self._exchange.get_order(uuid=uuid)
        except OrderNotFound:
            return CancelResult(CancelStatus.NOT_OPEN)
        except UpbitError as exc:
            return CancelResult(CancelStatus.FAILED, reason=error_code(exc))
        tick = (await self._ticks([order.market])).get(order.market)
        if order.state not in ("wait", "watch"):
            return CancelResult(CancelStatus.NOT_OPEN, order=order, tick_size=tick)
        return CancelResult(CancelStatus.OPEN, order=order, tick_size=tick)

    async def cancel(self, uuid: str, *, user_id: int, chat_id: int, lang: str) -> CancelResult:
        """Cancel an open order (confirmed by the user). Sends at most one DELETE."""
        try:
            before = await self._exchange.get_order(uuid=uuid)
        except OrderNotFound:
            return CancelResult(CancelStatus.NOT_OPEN)
        except UpbitError as exc:
            return CancelResult(CancelStatus.FAILED, reason=error_code(exc))
        tick = (await self._ticks([before.market])).get(before.market)
        if before.state not in ("wait", "watch"):
            return CancelResult(CancelStatus.NOT_OPEN, order=before, tick_size=tick)
        record = await self._follow(before, user_id=user_id, chat_id=chat_id, lang=lang)
        # Hold the announcement while cancelling, so the watcher (woken by Upbit's cancel
        # event) does not say "nothing sold" about an order the user just cancelled.
        held_at: datetime | None = None
        if record is not None:
            # Leases are judged by the database's clock (as the watcher's claims are).
            held_at = await self._repo.hold_announcement(record.id, None, ANNOUNCE_LEASE)
        try:
            result = await self._delete(before, tick)
            if record is not None and result.order is not None:
                await self._record_outcome(record, result, held_at)
                held_at = None
        finally:
            if record is not None and held_at is not None:
                await self._repo.release_announcement(record.id, held_at)
            self._wake()
        return result

    async def _delete(self, before: Order, tick: Decimal | None) -> CancelResult:
        """One DELETE, then Upbit's view of the order."""
        uuid = before.uuid
        try:
            await self._exchange.cancel_order(uuid=uuid)
        except OrderNotFound:
            # Closed meanwhile (filled, or cancelled by another press): the watcher reports.
            return CancelResult(CancelStatus.NOT_OPEN, tick_size=tick)
        except (UpbitTransportError, ServerError) as exc:
            # The DELETE may have reached Upbit: say what Upbit shows now, never "not
            # cancelled" for an order that was.
            log.warning("cancel outcome unknown uuid=%s: %s", uuid, type(exc).__name__)
            try:
                now = await self._exchange.get_order(uuid=uuid)
            except UpbitError:
                return CancelResult(CancelStatus.FAILED, tick_size=tick, reason="err_exchange")
            if now.state in ("wait", "watch"):
                return CancelResult(
                    CancelStatus.FAILED, order=now, tick_size=tick, reason=error_code(exc)
                )
            return CancelResult(CancelStatus.CANCELLED, order=now, tick_size=tick)
        except UpbitError as exc:
            log.warning("cancel refused uuid=%s name=%s", uuid, exc.name)
            return CancelResult(CancelStatus.FAILED, tick_size=tick, reason=error_code(exc))
        log.info("order cancel accepted uuid=%s", uuid)
        after = before
        with contextlib.suppress(UpbitError):  # if not now, the watcher reads it
            after = await self._exchange.get_order(uuid=uuid)
        return CancelResult(CancelStatus.CANCELLED, order=after, tick_size=tick)

    async def _record_outcome(
        self, record: OrderRecord, result: CancelResult, held_at: datetime | None
    ) -> None:
        """Store what Upbit shows after the cancel. A final order with nothing executed has
        had its last word in the edited message (marked announced here); anything else is
        left to the fill watcher, which announces it once (the hold is released)."""
        order = result.order
        if order is None or order.state not in ("done", "cancel", "prevented"):
            if held_at is not None:
                await self._repo.release_announcement(record.id, held_at)
            return
        quiet = result.status is CancelStatus.CANCELLED and order.executed_volume == 0
        fill = order_fill(order)
        if quiet and held_at is not None:
            fill = replace(fill, announced_at=await self._repo.now())
        await self._repo.update_order(record.identifier, fill)
        if held_at is not None and not quiet:
            await self._repo.release_announcement(record.id, held_at)

    async def _follow(
        self, order: Order, *, user_id: int, chat_id: int, lang: str
    ) -> OrderRecord | None:
        """The log row of ``order``, adopting a sell placed elsewhere so its fills are
        announced. Buys are not adopted (this bot announces sells)."""
        record = await self._repo.get_order_by_uuid(order.uuid)
        if record is None and order.identifier:
            # Ours, still "submitting" in the log (its uuid not yet stored): the watcher
            # fills the uuid in; a second row for it would clash.
            record = await self._repo.get_order_by_identifier(order.identifier)
        if record is not None and record.state is OrderState.FAILED:
            # Declared never created (and announced so), yet Upbit has it: follow it again,
            # so what it sold is announced.
            revived = await self._repo.revive_order(record.identifier, order_fill(order))
            if revived is not None:
                log.warning("order declared failed turned up uuid=%s", order.uuid)
                return revived
            return await self._repo.get_order_by_identifier(record.identifier)
        if record is not None or order.side != "ask":
            return record
        record = await self._repo.adopt_order(
            NewOrder(
                identifier=f"ext-{order.uuid}",
                pending_id=None,
                user_id=user_id,
                chat_id=chat_id,
                lang=lang,
                market=order.market,
                side=order.side,
                ord_type=order.ord_type,
                requested_volume=order.volume or order.remaining_volume,
                paper=self._exchange.is_paper,
                created_at=self._clock(),
                price=order.price,
                time_in_force=order.time_in_force,
            ),
            order.uuid,
        )
        await self._repo.update_order(
            record.identifier,
            OrderFill(
                state=OrderState.WAIT,
                raw_response=json.dumps(order.raw, default=str, ensure_ascii=False),
            ),
        )
        log.info("outside order adopted uuid=%s market=%s", order.uuid, order.market)
        return record

    async def _ticks(self, markets: Sequence[str]) -> dict[str, Decimal]:
        results = await asyncio.gather(
            *(self._exchange.tick_size(m) for m in markets), return_exceptions=True
        )
        return {m: r for m, r in zip(markets, results, strict=True) if isinstance(r, Decimal)}

    def _wake(self) -> None:
        if self._on_change is not None:
            self._on_change()
