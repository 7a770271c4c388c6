"""`SqlAlertRepository`: price alerts. A firing is claimed by one conditional UPDATE whose
row count names the single winner, so several processes fire each alert once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.base import DecimalText
from bot.db.models import PriceAlertRow
from bot.db.repository import db_now
from bot.services.alerts import AlertStatus, Direction, NewAlert, PriceAlert

_ACTIVE = AlertStatus.ACTIVE.value


def _alert(row: PriceAlertRow) -> PriceAlert:
    return PriceAlert(
        id=row.id,
        user_id=row.user_id,
        chat_id=row.chat_id,
        language_code=row.language_code,
        market=row.market,
        direction=Direction(row.direction),
        target_price=row.target_price,
        percent=row.percent,
        basis_price=row.basis_price,
        status=AlertStatus(row.status),
        created_at=row.created_at,
        fire_claimed_at=row.fire_claimed_at,
        triggered_price=row.triggered_price,
    )


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


class SqlAlertRepository:
    """Implements `bot.services.alerts.AlertRepository`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add_alert(self, alert: NewAlert, cap: int) -> PriceAlert | None:
        async with self._sessions() as session, session.begin():
            count = await session.scalar(
                select(func.count())
                .select_from(PriceAlertRow)
                .where(PriceAlertRow.user_id == alert.user_id, PriceAlertRow.status == _ACTIVE)
            )
            if (count or 0) >= cap:
                return None
            row = PriceAlertRow(
                user_id=alert.user_id,
                chat_id=alert.chat_id,
                language_code=alert.language_code,
                market=alert.market,
                direction=alert.direction.value,
                target_price=alert.target_price,
                percent=alert.percent,
                basis_price=alert.basis_price,
                status=_ACTIVE,
                created_at=alert.created_at,
            )
            session.add(row)
            await session.flush()
            return _alert(row)

    async def count_active(self, user_id: int) -> int:
        async with self._sessions() as session, session.begin():
            count = await session.scalar(
                select(func.count())
                .select_from(PriceAlertRow)
                .where(PriceAlertRow.user_id == user_id, PriceAlertRow.status == _ACTIVE)
            )
            return int(count or 0)

    async def list_active(self, user_id: int | None) -> list[PriceAlert]:
        stmt = select(PriceAlertRow).where(PriceAlertRow.status == _ACTIVE)
        if user_id is not None:
            stmt = stmt.where(PriceAlertRow.user_id == user_id)
        async with self._sessions() as session, session.begin():
            rows: Sequence[PriceAlertRow] = (
                await session.scalars(stmt.order_by(PriceAlertRow.id))
            ).all()
            return [_alert(r) for r in rows]

    async def get_alert(self, alert_id: int) -> PriceAlert | None:
        async with self._sessions() as session, session.begin():
            row = await session.get(PriceAlertRow, alert_id)
            return None if row is None else _alert(row)

    async def delete_alert(self, alert_id: int, user_id: int) -> PriceAlert | None:
        stmt = (
            update(PriceAlertRow)
            .where(
                PriceAlertRow.id == alert_id,
                PriceAlertRow.user_id == user_id,
                PriceAlertRow.status == _ACTIVE,
                # One being fired right now is no longer the user's to take back.
                PriceAlertRow.fire_claimed_at.is_(None),
            )
            .values(status=AlertStatus.DELETED.value)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            if _rowcount(await session.execute(stmt)) != 1:
                return None
            row = await session.get(PriceAlertRow, alert_id)
            return None if row is None else _alert(row)

    async def trigger(self, alert_id: int, price: Decimal) -> PriceAlert | None:
        stmt = (
            update(PriceAlertRow)
            .where(PriceAlertRow.id == alert_id, PriceAlertRow.status == _ACTIVE)
            .values(
                triggered_price=func.coalesce(
                    PriceAlertRow.triggered_price, literal(price, DecimalText())
                )
            )
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            if _rowcount(await session.execute(stmt)) != 1:
                return None
            row = await session.get(PriceAlertRow, alert_id)
            return None if row is None else _alert(row)

    # -- announce-once (`bot.services.announce.AnnouncementClaims`) --------------------------

    async def claim_announcement(
        self, item_id: int, now: datetime | None, lease: timedelta, /
    ) -> datetime | None:
        async with self._sessions() as session, session.begin():
            if now is None:
                now = await db_now(session)
            stmt = (
                update(PriceAlertRow)
                .where(
                    PriceAlertRow.id == item_id,
                    PriceAlertRow.status == _ACTIVE,
                    PriceAlertRow.triggered_price.is_not(None),
                    (PriceAlertRow.fire_claimed_at.is_(None))
                    | (PriceAlertRow.fire_claimed_at < now - lease),
                )
                .values(fire_claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            return now if _rowcount(await session.execute(stmt)) == 1 else None

    async def release_announcement(self, item_id: int, claimed_at: datetime, /) -> None:
        stmt = (
            update(PriceAlertRow)
            .where(
                PriceAlertRow.id == item_id,
                PriceAlertRow.status == _ACTIVE,
                # Only our own claim: a late release must not free someone else's.
                PriceAlertRow.fire_claimed_at == claimed_at,
            )
            .values(fire_claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions() as session, session.begin():
            await session.execute(stmt)

    async def mark_announced(self, item_id: int, now: datetime | None, /) -> None:
        async with self._sessions() as session, session.begin():
            if now is None:
                now = await db_now(session)
            stmt = (
                update(PriceAlertRow)
                .where(PriceAlertRow.id == item_id, PriceAlertRow.status == _ACTIVE)
                .values(status=AlertStatus.FIRED.value, fired_at=now)
                .execution_options(synchronize_session=False)
            )
            await session.execute(stmt)
