"""What a claim checks, inside its own transaction, for /lock and the daily sell limit.

`touch_guard_row` runs first in the claim's transaction: its write serialises claims across
processes. `claim_checks` then adds up the day's counted claims; a claim that would take the
day above `DAILY_SELL_LIMIT_KRW` is refused in the same transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GUARD_STATE_ID, GuardStateRow, OrderRow, PendingSellRow
from bot.domain import ClaimGuard, DayWindow, OrderState, PendingStatus

__all__ = ["ClaimVerdict", "claim_checks", "day_total", "ensure_guard_row", "touch_guard_row"]


def new_guard_row() -> GuardStateRow:
    return GuardStateRow(id=GUARD_STATE_ID, locked=False, wrong_codes=0, claims=0)


async def ensure_guard_row(session: AsyncSession) -> None:
    """The migration inserts the row; recreate it if someone deleted it."""
    if await session.get(GuardStateRow, GUARD_STATE_ID) is None:
        try:
            async with session.begin_nested():
                session.add(new_guard_row())
        except IntegrityError:  # another process inserted it first
            pass


async def touch_guard_row(session: AsyncSession) -> bool:
    """Update the guard row first thing in a claim's transaction and return the lock.

    The write serialises claims across processes: PostgreSQL holds the row lock, SQLite
    the database write lock, until the transaction ends.
    """
    stmt = (
        update(GuardStateRow)
        .where(GuardStateRow.id == GUARD_STATE_ID)
        .values(claims=GuardStateRow.claims + 1)
        .returning(GuardStateRow.locked)
        .execution_options(synchronize_session=False)
    )
    locked = await session.scalar(stmt)
    if locked is None:
        await ensure_guard_row(session)
        locked = await session.scalar(stmt)
    return bool(locked)


def _counted_claims(day: DayWindow) -> Any:
    """Previews claimed in ``day`` that still count: not released, and no FAILED order."""
    failed = exists().where(
        and_(OrderRow.pending_id == PendingSellRow.id, OrderRow.state == OrderState.FAILED.value)
    )
    return select(PendingSellRow.est_krw).where(
        PendingSellRow.status == PendingStatus.CLAIMED.value,
        PendingSellRow.claimed_at >= day.start,
        PendingSellRow.claimed_at < day.end,
        PendingSellRow.released_at.is_(None),
        ~failed,
    )


async def day_total(session: AsyncSession, day: DayWindow) -> Decimal:
    # Summed here, not in SQL: amounts are exact decimal TEXT.
    values = (await session.scalars(_counted_claims(day))).all()
    return sum((Decimal(v) for v in values if v is not None), Decimal(0))


class ClaimVerdict:
    """What `claim_checks` decided: None (go ahead), or why not and what is left today."""

    __slots__ = ("left_krw", "reason")

    def __init__(self, reason: str, left_krw: Decimal | None = None) -> None:
        self.reason = reason  # "locked" or "over_daily_limit"
        self.left_krw = left_krw


async def claim_checks(
    session: AsyncSession, row: PendingSellRow, guard: ClaimGuard
) -> ClaimVerdict | None:
    """Inside the claim's transaction, after `touch_guard_row` (which said ``locked``)."""
    limit = guard.daily_limit_krw
    if limit is None:
        return None
    used = await day_total(session, guard.day)
    left = max(limit - used, Decimal(0))
    value = row.est_krw
    if value is None or used + value > limit:
        return ClaimVerdict("over_daily_limit", left)
    return None
