"""Connects to an outside service paced through the database: across processes and restarts.

Upbit allows 5 WebSocket connects a second per pocket
(https://docs.upbit.com/kr/reference/rate-limits, ``websocket-connect``). Each process
already paces itself (`bot.upbit.ws.CONNECT_PACER`, one a second), but several processes
on one database, or a process restarted in a loop, share the pocket. `SqlConnectPacer`
hands out connect slots ``gap`` seconds apart (0.25 s: at most 4 a second) from one row per
service, with one conditional UPDATE judged by the database's clock, so processes whose
clocks disagree still agree.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Float, case, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from bot.db.models import ConnectPacerRow

log = logging.getLogger(__name__)

UPBIT_WEBSOCKET = "upbit-websocket"
DEFAULT_GAP = 0.25


def _db_epoch(dialect: str) -> ColumnElement[float]:
    """The database's clock as epoch seconds (fractions included)."""
    if dialect == "sqlite":
        return (func.julianday("now") - 2440587.5) * 86400.0
    return cast(func.extract("epoch", func.clock_timestamp()), Float)


@dataclass(frozen=True, slots=True)
class Slot:
    at: float  # epoch seconds, database clock
    wait: float  # seconds from the reservation until ``at``


class SqlConnectPacer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        name: str = UPBIT_WEBSOCKET,
        gap: float = DEFAULT_GAP,
    ) -> None:
        self._sessions = sessions
        self._name = name
        self._gap = gap

    async def wait_turn(self) -> None:
        """Reserve the next free slot and sleep until it comes."""
        slot = await self.reserve()
        if slot.wait > 0:
            await asyncio.sleep(slot.wait)

    async def reserve(self) -> Slot:
        """Reserve the next free slot."""
        for _ in range(2):
            try:
                return await self._reserve_once()
            except IntegrityError:  # two processes created the row at once: the other won
                continue
        return await self._reserve_once()

    async def _reserve_once(self) -> Slot:
        async with self._sessions.begin() as session:
            now = _db_epoch(session.get_bind().dialect.name)
            row = ConnectPacerRow
            slot = case((row.next_at > now, row.next_at), else_=now)
            stmt = (
                update(row)
                .where(row.name == self._name)
                .values(next_at=slot + self._gap)
                .returning(row.next_at, now)
            )
            found = (await session.execute(stmt)).first()
            if found is not None:
                next_at, at = found
                start = float(next_at) - self._gap
                return Slot(at=start, wait=max(0.0, start - float(at)))
            current = float((await session.execute(select(now))).scalar_one())
            session.add(ConnectPacerRow(name=self._name, next_at=current + self._gap))
            return Slot(at=current, wait=0.0)
