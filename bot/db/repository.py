"""`SqlOrderRepository`: the order log and pending previews on SQLAlchemy.

Every method is one short transaction and returns `bot.domain` dataclasses, never ORM rows.
The exactly-once rules live in the database: a confirmation and an announcement are each
claimed by one conditional UPDATE whose row count names the single winner, so several
processes sharing the database behave like one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.guard_checks import claim_checks, touch_guard_row
from bot.db.models import OrderRow, PendingSellRow
from bot.domain import (
    ClaimGuard,
    ClaimOutcome,
    FailureKind,
    NewOrder,
    NewPendingSell,
    OrderFill,
    OrderRecord,
    OrderState,
    PendingSell,
    PendingStatus,
)

FINAL_STATES = tuple(s.value for s in OrderState if s.is_final)
NOT_FINAL_STATES = tuple(s.value for s in OrderState if not s.is_final)


class DuplicateIdentifier(Exception):
    """An order with this client ``identifier`` is already in the log."""

    def __init__(self, identifier: str) -> None:
        super().__init__(f"order identifier already recorded: {identifier}")
        self.identifier = identifier


class DuplicatePreviewOrder(DuplicateIdentifier):
    """This preview already has an order: one order per preview, ever."""


class OrderNotFound(LookupError):
    """No order in the log has this identifier."""


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _pending(row: PendingSellRow) -> PendingSell:
    return PendingSell(
        id=row.id,
        user_id=row.user_id,
        chat_id=row.chat_id,
        market=row.market,
        volume=row.volume,
        lang=row.lang,
        created_at=row.created_at,
        expires_at=row.expires_at,
        status=PendingStatus(row.status),
        message_id=row.message_id,
        ord_type=row.ord_type,
        price=row.price,
        time_in_force=row.time_in_force,
        slip_percent=row.slip_percent,
        est_krw=row.est_krw,
        code_requested_at=row.code_requested_at,
        est_net=row.est_net,
        claimed_at=row.claimed_at,
    )


def _order(row: OrderRow) -> OrderRecord:
    return OrderRecord(
        id=row.id,
        identifier=row.identifier,
        uuid=row.uuid,
        pending_id=row.pending_id,
        user_id=row.user_id,
        chat_id=row.chat_id,
        lang=row.lang,
        market=row.market,
        side=row.side,
        ord_type=row.ord_type,
        requested_volume=row.requested_volume,
        state=OrderState(row.state),
        executed_volume=row.executed_volume,
        avg_price=row.avg_price,
        gross_funds=row.gross_funds,
        paid_fee=row.paid_fee,
        paper=row.paper,
        last_error=row.last_error,
        raw_response=row.raw_response,
        created_at=row.created_at,
        updated_at=row.updated_at,
        announced_at=row.announced_at,
        price=row.price,
        time_in_force=row.time_in_force,
        slip_percent=row.slip_percent,
        avg_buy_price=row.avg_buy_price,
        failure=None if row.failure is None else FailureKind(row.failure),
        not_found_count=row.not_found_count,
        first_not_found_at=row.first_not_found_at,
        undeliverable=row.undeliverable,
    )


def _why_not_claimed(row: PendingSellRow | None, user_id: int, now: datetime) -> ClaimOutcome:
    if row is None:
        return ClaimOutcome.NOT_FOUND
    if row.user_id != user_id:
        return ClaimOutcome.NOT_OWNER
    if row.status == PendingStatus.CLAIMED:
        return ClaimOutcome.ALREADY_CONFIRMED
    if row.status == PendingStatus.CANCELLED and row.expires_at > now:
        return ClaimOutcome.CANCELLED
    # Pending past its time, or cancelled by the expiry job: to the user it expired.
    return ClaimOutcome.EXPIRED


async def db_now(session: AsyncSession) -> datetime:
    """The database's clock, in UTC: every deadline shared by processes is judged by it, so
    processes whose clocks disagree still agree (SQLite: the one process's own clock)."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's "now" is the clock of the process running it, this one: no statement.
        return datetime.now(UTC)
    value = await session.scalar(select(func.now()))
    if not isinstance(value, datetime):  # pragma: no cover - driver contract
        raise TypeError(f"now() returned {value!r}")
    return value.astimezone(UTC)


def _new_order_row(order: NewOrder, *, uuid: str | None, state: OrderState) -> OrderRow:
    """The log row for ``order`` as first written (nothing executed yet)."""
    return OrderRow(
        identifier=order.identifier,
        uuid=uuid,
        pending_id=order.pending_id,
        user_id=order.user_id,
        chat_id=order.chat_id,
        lang=order.lang,
        market=order.market,
        side=order.side,
        ord_type=order.ord_type,
        requested_volume=order.requested_volume,
        state=state.value,
        executed_volume=0,
        avg_buy_price=order.avg_buy_price,
        paper=order.paper,
        created_at=order.created_at,
        updated_at=order.created_at,
        price=order.price,
        time_in_force=order.time_in_force,
        slip_percent=order.slip_percent,
    )


class SqlOrderRepository:
    """Implements `bot.services.ports.OrderRepository`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def now(self) -> datetime:
        async with self._sessions() as session, session.begin():
            return await db_now(session)

    # -- pending previews -------------------------------------------------------------

    async def create_pending(self, pending: NewPendingSell) -> PendingSell:
        row = PendingSellRow(
            id=pending.id,
            user_id=pending.user_id,
            chat_id=pending.chat_id,
            market=pending.market,
            volume=pending.volume,
            lang=pending.lang,
            created_at=pending.created_at,
            expires_at=pending.expires_at,
            status=PendingStatus.PENDING.value,
            message_id=None,
            ord_type=pending.ord_type,
            price=pending.price,
            time_in_force=pending.time_in_force,
            slip_percent=pending.slip_percent,
            est_krw=pending.est_krw,
            est_net=pending.est_net,
            code_failures=0,
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
        return _pending(row)

    async def get_pending(self, pending_id: str) -> PendingSell | None:
        async with self._sessions() as session, session.begin():
            row = await session.get(PendingSellRow, pending_id)
            return None if row is None else _pending(row)

    async def set_pending_message(self, pending_id: str, message_id: int) -> PendingStatus | None:
        """Store the message that shows a preview; the preview's status (None: no such
        preview), read in the same statement."""
        stmt = (
            update(PendingSellRow)
            .where(PendingSellRow.id == pending_id)
            .values(message_id=message_id)
            .returning(PendingSellRow.status)
        )
        async with self._sessions() as session, session.begin():
            status = await session.scalar(stmt)
        return None if status is None else PendingStatus(status)

    async def claim_pending(
        self, pending_id: str, user_id: int, now: datetime | None = None
    ) -> ClaimOutcome:
        return (await self.claim_pending_row(pending_id, user_id, now))[0]

    async def claim_pending_row(
        self,
        pending_id: str,
        user_id: int,
        now: datetime | None = None,
        guard: ClaimGuard | None = None,
    ) -> tuple[ClaimOutcome, PendingSell | None]:
        """With ``guard``, /lock and the daily limit are decided in the same transaction: a
        preview they refuse is cancelled (LOCKED / OVER_DAILY_LIMIT). ``now`` defaults to the
        database's clock (tests may pin it)."""
        async with self._sessions() as session, session.begin():
            return await self._claim(
                session, pending_id, user_id, now, None if guard is None else lambda _: guard
            )

    async def claim_and_record(
        self,
        pending_id: str,
        user_id: int,
        order_for: Callable[[PendingSell], NewOrder],
        now: datetime | None = None,
        guard_for: Callable[[datetime], ClaimGuard] | None = None,
    ) -> tuple[ClaimOutcome, PendingSell | None, OrderRecord | None]:
        """Claim a preview and store its order row (SUBMITTING, with the identifier the POST
        will carry) in ONE transaction: either both are written or neither is. The order is
        built from the claimed row by ``order_for``; the guards' day comes from the claim's
        own clock reading (``guard_for``)."""
        try:
            async with self._sessions() as session, session.begin():
                outcome, pending = await self._claim(session, pending_id, user_id, now, guard_for)
                if pending is None:
                    return outcome, None, None
                row = _new_order_row(order_for(pending), uuid=None, state=OrderState.SUBMITTING)
                session.add(row)
                await session.flush()
        except IntegrityError as exc:
            if "pending_id" in str(exc.orig):
                raise DuplicatePreviewOrder(pending_id) from exc
            raise DuplicateIdentifier(pending_id) from exc
        return outcome, pending, _order(row)

    async def _claim(
        self,
        session: AsyncSession,
        pending_id: str,
        user_id: int,
        now: datetime | None,
        guard_for: Callable[[datetime], ClaimGuard] | None,
    ) -> tuple[ClaimOutcome, PendingSell | None]:
        if now is None:
            now = await db_now(session)
        if guard_for is not None:
            refused = await self._guard_refusal(session, pending_id, user_id, now, guard_for(now))
            if refused is not None:
                return refused, None
        stmt = (
            update(PendingSellRow)
            .where(
                PendingSellRow.id == pending_id,
                PendingSellRow.status == PendingStatus.PENDING.value,
                PendingSellRow.user_id == user_id,
                PendingSellRow.expires_at > now,
            )
            .values(status=PendingStatus.CLAIMED.value, claimed_at=now)
            .returning(PendingSellRow)
            .execution_options(synchronize_session=False)
        )
        claimed = await session.scalar(stmt)
        if claimed is not None:
            return ClaimOutcome.CLAIMED, _pending(claimed)
        row = await session.get(PendingSellRow, pending_id)
        return _why_not_claimed(row, user_id, now), None

    @staticmethod
    async def _guard_refusal(
        session: AsyncSession, pending_id: str, user_id: int, now: datetime, guard: ClaimGuard
    ) -> ClaimOutcome | None:
        locked = await touch_guard_row(session)  # first: serialises claims (see there)
        if not locked and guard.daily_limit_krw is None:
            return None  # nothing here can refuse it: the claim decides
        row = await session.get(PendingSellRow, pending_id, populate_existing=True)
        claimable = (
            row is not None
            and row.status == PendingStatus.PENDING.value
            and row.user_id == user_id
            and row.expires_at > now
        )
        if row is None or not claimable:
            return None  # the claim below refuses it and says why
        if locked:
            outcome = ClaimOutcome.LOCKED
        else:
            verdict = await claim_checks(session, row, guard)
            if verdict is None:
                return None
            outcome = ClaimOutcome.OVER_DAILY_LIMIT
        row.status = PendingStatus.CANCELLED.value
        return outcome

    async def cancel_pending(self, pending_id: str, user_id: int) -> bool:
        stmt = (
            update(PendingSellRow)
            .where(
                PendingSellRow.id == pending_id,
                PendingSellRow.user_id == user_id,
                PendingSellRow.status == PendingStatus.PENDING.value,
            )
            .values(status=PendingStatus.CANCELLED.value)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            return _rowcount(await session.execute(stmt)) == 1

    async def drop_claim(self, pending_id: str) -> bool:
        # An order row marked never sent does not hold the claim; any other one does.
        has_order = (
            select(OrderRow.id)
            .where(
                OrderRow.pending_id == pending_id,
                ~and_(
                    OrderRow.state == OrderState.FAILED.value,
                    OrderRow.failure == FailureKind.NOT_SENT.value,
                ),
            )
            .exists()
        )
        stmt = (
            update(PendingSellRow)
            .where(
                PendingSellRow.id == pending_id,
                PendingSellRow.status == PendingStatus.CLAIMED.value,
                ~has_order,
            )
            .values(status=PendingStatus.CANCELLED.value)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            return _rowcount(await session.execute(stmt)) == 1

    async def cancel_pending_for_user(self, user_id: int) -> list[PendingSell]:
        stmt = (
            update(PendingSellRow)
            .where(
                PendingSellRow.user_id == user_id,
                PendingSellRow.status == PendingStatus.PENDING.value,
            )
            .values(status=PendingStatus.CANCELLED.value)
            .returning(PendingSellRow)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            rows = (await session.scalars(stmt)).all()
            return sorted((_pending(r) for r in rows), key=lambda p: (p.created_at, p.id))

    # -- orders -----------------------------------------------------------------------

    async def record_submitting(self, order: NewOrder) -> OrderRecord:
        row = _new_order_row(order, uuid=None, state=OrderState.SUBMITTING)
        try:
            async with self._sessions() as session, session.begin():
                session.add(row)
                await session.flush()
        except IntegrityError as exc:
            if "pending_id" in str(exc.orig):
                raise DuplicatePreviewOrder(order.identifier) from exc
            raise DuplicateIdentifier(order.identifier) from exc
        return _order(row)

    async def adopt_order(self, order: NewOrder, uuid: str) -> OrderRecord:
        """Put an order Upbit already has (placed elsewhere, e.g. in Upbit's app) into the
        log, in state WAIT, so the fill watcher follows and announces it like our own. When
        the uuid is already in the log (another process adopted it first) that row wins."""
        row = _new_order_row(order, uuid=uuid, state=OrderState.WAIT)
        try:
            async with self._sessions() as session, session.begin():
                session.add(row)
                await session.flush()
                return _order(row)
        except IntegrityError:
            existing = await self.get_order_by_uuid(uuid)
            if existing is None:
                raise
            return existing

    async def update_order(self, identifier: str, fill: OrderFill) -> OrderRecord:
        values: dict[str, Any] = {"state": fill.state.value, "updated_at": datetime.now(UTC)}
        optional = {
            "uuid": fill.uuid,
            "executed_volume": fill.executed_volume,
            "avg_price": fill.avg_price,
            "gross_funds": fill.gross_funds,
            "paid_fee": fill.paid_fee,
            "raw_response": fill.raw_response,
            "last_error": fill.error,
            "failure": None if fill.failure is None else fill.failure.value,
            "announced_at": fill.announced_at,
        }
        values.update({k: v for k, v in optional.items() if v is not None})
        stmt = update(OrderRow).where(OrderRow.identifier == identifier)
        if not fill.state.is_final:
            # A late, stale answer (e.g. the POST's "wait" after a lookup already saw "done")
            # must never move a final order back.
            stmt = stmt.where(OrderRow.state.not_in(FINAL_STATES))
        elif fill.state is OrderState.FAILED:
            # FAILED means "Upbit never had it": only an order still being submitted can
            # become one, never an order Upbit has reported on (a stale sweep's verdict).
            stmt = stmt.where(OrderRow.state == OrderState.SUBMITTING.value)
        else:
            # A FAILED order has been announced as "nothing sold": only `revive_order` may
            # bring it back (it clears the announcement so its fills are told afresh).
            stmt = stmt.where(OrderRow.state != OrderState.FAILED.value)
        stmt = stmt.values(values).returning(OrderRow).execution_options(synchronize_session=False)
        async with self._sessions() as session, session.begin():
            row = await session.scalar(stmt)
            if row is None:
                row = await session.scalar(
                    select(OrderRow).where(OrderRow.identifier == identifier)
                )
            if row is None:
                raise OrderNotFound(identifier)
            return _order(row)

    async def get_order(self, order_id: int) -> OrderRecord | None:
        return await self._one(select(OrderRow).where(OrderRow.id == order_id))

    async def get_order_by_uuid(self, uuid: str) -> OrderRecord | None:
        return await self._one(select(OrderRow).where(OrderRow.uuid == uuid))

    async def get_order_by_identifier(self, identifier: str) -> OrderRecord | None:
        return await self._one(select(OrderRow).where(OrderRow.identifier == identifier))

    async def list_recent(
        self, user_id: int | None, limit: int, paper: bool | None = None
    ) -> list[OrderRecord]:
        stmt = select(OrderRow).order_by(OrderRow.created_at.desc(), OrderRow.id.desc())
        if user_id is not None:
            stmt = stmt.where(OrderRow.user_id == user_id)
        if paper is not None:
            stmt = stmt.where(OrderRow.paper == paper)
        return await self._many(stmt.limit(limit))

    async def list_all(self) -> list[OrderRecord]:
        return await self._many(select(OrderRow).order_by(OrderRow.created_at, OrderRow.id))

    async def list_not_final(self, paper: bool | None = None) -> list[OrderRecord]:
        stmt = select(OrderRow).where(OrderRow.state.in_(NOT_FINAL_STATES)).order_by(OrderRow.id)
        if paper is not None:
            stmt = stmt.where(OrderRow.paper == paper)
        return await self._many(stmt)

    async def list_final_unannounced(self, paper: bool | None = None) -> list[OrderRecord]:
        stmt = (
            select(OrderRow)
            .where(OrderRow.state.in_(FINAL_STATES), OrderRow.announced_at.is_(None))
            .order_by(OrderRow.id)
        )
        if paper is not None:
            stmt = stmt.where(OrderRow.paper == paper)
        return await self._many(stmt)

    async def list_not_created_since(self, since: datetime, paper: bool) -> list[OrderRecord]:
        """Orders declared never created after ``since``: still looked up now and then."""
        stmt = (
            select(OrderRow)
            .where(
                OrderRow.state == OrderState.FAILED.value,
                OrderRow.failure == FailureKind.NOT_CREATED.value,
                OrderRow.created_at > since,
                OrderRow.paper == paper,
            )
            .order_by(OrderRow.id)
        )
        return await self._many(stmt)

    # -- orders in doubt --------------------------------------------------------------

    async def record_not_found(
        self, identifier: str, *, declare_after: int, spread: timedelta
    ) -> OrderRecord | None:
        """Count one authoritative "no such order" for a SUBMITTING order; it becomes FAILED
        (never created) once ``declare_after`` answers span ``spread`` or more, by the
        database's clock. The order as it now stands (None if not in the log)."""
        async with self._sessions() as session, session.begin():
            now = await db_now(session)
            row = await session.scalar(
                select(OrderRow).where(OrderRow.identifier == identifier).with_for_update()
            )
            if row is None or row.state != OrderState.SUBMITTING.value:
                return None if row is None else _order(row)
            row.not_found_count += 1
            if row.first_not_found_at is None:
                row.first_not_found_at = now
            if row.not_found_count >= declare_after and now - row.first_not_found_at >= spread:
                row.state = OrderState.FAILED.value
                row.failure = FailureKind.NOT_CREATED.value
                row.last_error = f"not_created: {row.not_found_count} x order_not_found"
            row.updated_at = now
            await session.flush()
            return _order(row)

    async def revive_order(self, identifier: str, fill: OrderFill) -> OrderRecord | None:
        """An order the log holds as FAILED (declared never created, or taken for refused)
        has turned up at Upbit: follow it again and announce it afresh. The one way back
        from FAILED. None when it was not such an order."""
        values: dict[str, Any] = {
            "state": fill.state.value,
            "uuid": fill.uuid,
            "executed_volume": fill.executed_volume,
            "avg_price": fill.avg_price,
            "gross_funds": fill.gross_funds,
            "paid_fee": fill.paid_fee,
            "raw_response": fill.raw_response,
            "failure": None,
            "last_error": None,
            "announced_at": None,
            "announce_claimed_at": None,
            "undeliverable": False,
            "updated_at": datetime.now(UTC),
        }
        if values["executed_volume"] is None:
            values["executed_volume"] = 0
        stmt = (
            update(OrderRow)
            .where(
                OrderRow.identifier == identifier,
                OrderRow.state == OrderState.FAILED.value,
            )
            .values(values)
            .returning(OrderRow)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            row = await session.scalar(stmt)
            return None if row is None else _order(row)

    # -- announcements ----------------------------------------------------------------

    async def claim_announcement(
        self, order_id: int, now: datetime | None, lease: timedelta
    ) -> datetime | None:
        """The claim's stamp (the database's time unless ``now`` is given), or None."""
        async with self._sessions() as session, session.begin():
            if now is None:
                now = await db_now(session)
            stmt = (
                update(OrderRow)
                .where(
                    OrderRow.id == order_id,
                    OrderRow.announced_at.is_(None),
                    OrderRow.state.in_(FINAL_STATES),
                    (OrderRow.announce_claimed_at.is_(None))
                    | (OrderRow.announce_claimed_at < now - lease),
                )
                .values(announce_claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            return now if _rowcount(await session.execute(stmt)) == 1 else None

    async def hold_announcement(
        self, order_id: int, now: datetime | None, lease: timedelta
    ) -> datetime | None:
        """The hold's stamp (the database's time unless ``now`` is given), or None."""
        async with self._sessions() as session, session.begin():
            if now is None:
                now = await db_now(session)
            stmt = (
                update(OrderRow)
                .where(
                    OrderRow.id == order_id,
                    OrderRow.announced_at.is_(None),
                    (OrderRow.announce_claimed_at.is_(None))
                    | (OrderRow.announce_claimed_at < now - lease),
                )
                .values(announce_claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            return now if _rowcount(await session.execute(stmt)) == 1 else None

    async def release_announcement(self, order_id: int, claimed_at: datetime) -> None:
        stmt = (
            update(OrderRow)
            .where(
                OrderRow.id == order_id,
                OrderRow.announced_at.is_(None),
                # Only our own claim: a late release must not free someone else's.
                OrderRow.announce_claimed_at == claimed_at,
            )
            .values(announce_claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            await session.execute(stmt)

    async def mark_announced(self, order_id: int, now: datetime | None = None) -> None:
        async with self._sessions() as session, session.begin():
            if now is None:
                now = await db_now(session)
            stmt = (
                update(OrderRow)
                .where(OrderRow.id == order_id, OrderRow.announced_at.is_(None))
                .values(announced_at=now)
                .execution_options(synchronize_session=False)
            )
            await session.execute(stmt)

    async def mark_undeliverable(self, order_id: int) -> None:
        """Telegram refused this order's notice for good (the user blocked the bot)."""
        stmt = (
            update(OrderRow)
            .where(OrderRow.id == order_id)
            .values(undeliverable=True)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            await session.execute(stmt)

    async def expire_pending(
        self, pending_id: str, now: datetime | None = None
    ) -> PendingSell | None:
        """Cancel a PENDING preview whose time is up by the database's clock (unless ``now``
        is given); the preview if this call cancelled it."""
        async with self._sessions() as session, session.begin():
            if now is None:
                now = await db_now(session)
            stmt = (
                update(PendingSellRow)
                .where(
                    PendingSellRow.id == pending_id,
                    PendingSellRow.status == PendingStatus.PENDING.value,
                    PendingSellRow.expires_at <= now,
                )
                .values(status=PendingStatus.CANCELLED.value)
                .returning(PendingSellRow)
                .execution_options(synchronize_session=False)
            )
            row = await session.scalar(stmt)
            return None if row is None else _pending(row)

    # -- helpers ----------------------------------------------------------------------

    async def _one(self, stmt: Select[OrderRow]) -> OrderRecord | None:
        async with self._sessions() as session, session.begin():
            row = await session.scalar(stmt)
            return None if row is None else _order(row)

    async def _many(self, stmt: Select[OrderRow]) -> list[OrderRecord]:
        async with self._sessions() as session, session.begin():
            rows: Sequence[OrderRow] = (await session.scalars(stmt)).all()
            return [_order(r) for r in rows]
