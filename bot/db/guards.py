"""`SqlGuardRepository`: the guard row (`guard_state`) and the guard columns of previews.

Every method is one short transaction. What must hold across processes is one conditional
UPDATE whose row count decides: a time step is accepted once, the lock flips once, a code
request belongs to one preview. What the claim itself checks is in `bot.db.guard_checks`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import UTCDateTime
from bot.db.guard_checks import day_total, ensure_guard_row, new_guard_row
from bot.db.models import GUARD_STATE_ID, GuardStateRow, PendingSellRow
from bot.db.repository import _pending
from bot.domain import DayWindow, GuardState, PendingSell, PendingStatus

__all__ = ["SqlGuardRepository"]


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _state(row: GuardStateRow) -> GuardState:
    return GuardState(
        locked=row.locked,
        locked_by=row.locked_by,
        locked_at=row.locked_at,
        totp_last_step=row.totp_last_step,
        wrong_codes=row.wrong_codes,
        codes_blocked_until=row.codes_blocked_until,
        unlock_requested_by=row.unlock_requested_by,
        unlock_requested_at=row.unlock_requested_at,
    )


class SqlGuardRepository:
    """Implements `bot.services.guards.GuardRepository`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def guard_state(self) -> GuardState:
        async with self._sessions() as session, session.begin():
            row = await session.get(GuardStateRow, GUARD_STATE_ID)
            return _state(row if row is not None else new_guard_row())

    async def _update_state(self, stmt: Any) -> int:
        async with self._sessions() as session, session.begin():
            count = _rowcount(await session.execute(stmt))
            if count == 0 and await session.get(GuardStateRow, GUARD_STATE_ID) is None:
                await ensure_guard_row(session)
                count = _rowcount(await session.execute(stmt))
            return count

    async def set_locked(self, locked: bool, user_id: int, now: datetime) -> bool:
        stmt = (
            update(GuardStateRow)
            .where(GuardStateRow.id == GUARD_STATE_ID, GuardStateRow.locked != locked)
            .values(
                locked=locked,
                locked_by=user_id if locked else None,
                locked_at=now if locked else None,
                unlock_requested_by=None,
                unlock_requested_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        return await self._update_state(stmt) == 1

    async def accept_totp_step(self, step: int) -> bool:
        stmt = (
            update(GuardStateRow)
            .where(
                GuardStateRow.id == GUARD_STATE_ID,
                GuardStateRow.totp_last_step.is_(None) | (GuardStateRow.totp_last_step < step),
            )
            .values(totp_last_step=step, wrong_codes=0)
            .execution_options(synchronize_session=False)
        )
        return await self._update_state(stmt) == 1

    async def record_wrong_code(
        self, now: datetime, max_in_a_row: int, pause: timedelta
    ) -> GuardState:
        reached = GuardStateRow.wrong_codes + 1 >= max_in_a_row
        stmt = (
            update(GuardStateRow)
            .where(GuardStateRow.id == GUARD_STATE_ID)
            .values(
                wrong_codes=case((reached, 0), else_=GuardStateRow.wrong_codes + 1),
                codes_blocked_until=case(
                    (reached, literal(now + pause, UTCDateTime)),
                    else_=GuardStateRow.codes_blocked_until,
                ),
            )
            .returning(GuardStateRow)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        async with self._sessions() as session, session.begin():
            await ensure_guard_row(session)
            row = await session.scalar(stmt)
            if row is None:  # pragma: no cover - ensure_guard_row just made sure
                raise RuntimeError("guard_state row missing")
            return _state(row)

    async def day_total_krw(self, day: DayWindow) -> Decimal:
        async with self._sessions() as session, session.begin():
            return await day_total(session, day)

    async def request_unlock(self, user_id: int, now: datetime) -> None:
        stmt = (
            update(GuardStateRow)
            .where(GuardStateRow.id == GUARD_STATE_ID)
            .values(unlock_requested_by=user_id, unlock_requested_at=now)
            .execution_options(synchronize_session=False)
        )
        await self._update_state(stmt)

    async def take_unlock_request(self, user_id: int, since: datetime) -> bool:
        stmt = (
            update(GuardStateRow)
            .where(
                GuardStateRow.id == GUARD_STATE_ID,
                GuardStateRow.unlock_requested_by == user_id,
                GuardStateRow.unlock_requested_at > since,
            )
            .values(unlock_requested_by=None, unlock_requested_at=None)
            .execution_options(synchronize_session=False)
        )
        return await self._update_state(stmt) == 1

    async def request_code(self, pending_id: str, user_id: int, now: datetime) -> bool:
        stmt = (
            update(PendingSellRow)
            .where(
                PendingSellRow.id == pending_id,
                PendingSellRow.user_id == user_id,
                PendingSellRow.status == PendingStatus.PENDING.value,
                PendingSellRow.expires_at > now,
            )
            .values(code_requested_at=now)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            return _rowcount(await session.execute(stmt)) == 1

    async def awaiting_code(self, user_id: int, now: datetime) -> PendingSell | None:
        stmt = (
            select(PendingSellRow)
            .where(
                PendingSellRow.user_id == user_id,
                PendingSellRow.status == PendingStatus.PENDING.value,
                PendingSellRow.code_requested_at.is_not(None),
                PendingSellRow.expires_at > now,
            )
            .order_by(PendingSellRow.code_requested_at.desc(), PendingSellRow.id)
            .limit(1)
        )
        async with self._sessions() as session, session.begin():
            row = await session.scalar(stmt)
            return None if row is None else _pending(row)

    async def add_code_failure(self, pending_id: str) -> int:
        stmt = (
            update(PendingSellRow)
            .where(PendingSellRow.id == pending_id)
            .values(code_failures=PendingSellRow.code_failures + 1)
            .returning(PendingSellRow.code_failures)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            count = await session.scalar(stmt)
            return int(count or 0)

    async def release_claim(self, pending_id: str, now: datetime) -> None:
        stmt = (
            update(PendingSellRow)
            .where(
                PendingSellRow.id == pending_id,
                PendingSellRow.status == PendingStatus.CLAIMED.value,
                PendingSellRow.released_at.is_(None),
            )
            .values(released_at=now)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            await session.execute(stmt)
