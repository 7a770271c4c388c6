"""`SqlPaperBalances`: the simulated account of paper trading, kept in the database.

It holds the balances and the orders the paper exchange filled (their JSON, as
``GET /v1/order`` would answer), so both survive restarts.

Amounts are stored as exact decimal text, so SQL cannot do the arithmetic; a sell instead
reads a balance, computes in `Decimal`, and writes with a conditional UPDATE that only
matches if the balance is still the one it read (compare-and-swap). A lost race simply
re-reads, so concurrent sells never overdraw and never lose a credit, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Context, Decimal, Inexact, InvalidOperation
from typing import Any, cast

from sqlalchemy import CursorResult, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import PaperBalanceRow, PaperOrderRow
from bot.upbit.models import Account

_ZERO = Decimal(0)


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


# Balances never get rounded: an inexact sum raises instead of losing a digit.
_EXACT = Context(prec=200, traps=[Inexact, InvalidOperation])


class _Lost(Exception):
    """A compare-and-swap lost its race: roll the whole transaction back."""


class SqlPaperBalances:
    """Balances of the paper account, seeded once and then changed only by sells."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def seed_if_empty(
        self, balances: Mapping[str, Decimal], unit_currency: str = "KRW"
    ) -> bool:
        """Store ``balances`` if the account has no rows yet; False (no change) otherwise."""
        now = datetime.now(UTC)
        rows = [
            {
                "currency": currency.upper(),
                "balance": amount,
                "locked": _ZERO,
                "avg_buy_price": _ZERO,
                "unit_currency": unit_currency,
                "updated_at": now,
            }
            for currency, amount in balances.items()
        ]
        try:
            async with self._sessions() as session, session.begin():
                count = await session.scalar(select(func.count()).select_from(PaperBalanceRow))
                if count or not rows:
                    return False
                await session.execute(insert(PaperBalanceRow), rows)
        except IntegrityError:  # another process seeded at the same moment
            return False
        return True

    async def get_all(self) -> list[Account]:
        """Every holding, as ``GET /v1/accounts`` would list it (sold-out coins left out)."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.scalars(select(PaperBalanceRow).order_by(PaperBalanceRow.currency))
            ).all()
            return [
                Account(
                    currency=row.currency,
                    balance=row.balance,
                    locked=row.locked,
                    avg_buy_price=row.avg_buy_price,
                    avg_buy_price_modified=False,
                    unit_currency=row.unit_currency,
                )
                for row in rows
                if row.balance or row.locked or row.currency == row.unit_currency
            ]

    async def apply_market_sell(
        self, currency: str, volume: Decimal, quote_currency: str, net_proceeds: Decimal
    ) -> bool:
        """Take ``volume`` of ``currency`` and credit ``net_proceeds`` of ``quote_currency``.

        One transaction: both changes or neither. False, with nothing changed, when the
        balance is smaller than ``volume`` (or the currency is not held).
        """
        async with self._sessions() as session, session.begin():
            return await self._sell(session, currency, volume, quote_currency, net_proceeds)

    async def execute_sell(
        self,
        currency: str,
        volume: Decimal,
        quote_currency: str,
        net_proceeds: Decimal,
        *,
        uuid: str,
        identifier: str,
        order_json: str,
    ) -> bool:
        """`apply_market_sell` and store the filled order, atomically.

        False (nothing stored) if the balance is short; a reused ``identifier`` or ``uuid``
        raises `sqlalchemy.exc.IntegrityError` and changes nothing.
        """
        async with self._sessions() as session, session.begin():
            if not await self._sell(session, currency, volume, quote_currency, net_proceeds):
                return False
            session.add(
                PaperOrderRow(
                    uuid=uuid,
                    identifier=identifier,
                    order_json=order_json,
                    created_at=datetime.now(UTC),
                )
            )
            await session.flush()
            return True

    async def settle(
        self,
        *,
        currency: str,
        quote_currency: str,
        balance_delta: Decimal,
        locked_delta: Decimal,
        credit: Decimal,
        uuid: str,
        identifier: str,
        old_json: str | None,
        new_json: str,
    ) -> bool:
        """One step of a paper limit order, atomically: move ``currency`` between balance
        and locked (neither may go below zero), credit ``quote_currency``, and store the
        order's new JSON — inserted when ``old_json`` is None, else replaced only if it is
        still ``old_json`` (so two processes never apply the same step twice).

        False, with nothing changed, when a balance would go negative or the order changed
        meanwhile; a reused ``identifier`` raises `sqlalchemy.exc.IntegrityError`.
        """
        currency, quote_currency = currency.upper(), quote_currency.upper()
        now = datetime.now(UTC)
        try:
            async with self._sessions() as session, session.begin():
                if balance_delta or locked_delta:
                    asset = await self._read(session, currency)
                    if asset is None:
                        return False
                    balance = _EXACT.add(asset.balance, balance_delta)
                    locked = _EXACT.add(asset.locked, locked_delta)
                    if balance < 0 or locked < 0:
                        return False
                    stmt = (
                        update(PaperBalanceRow)
                        .where(
                            PaperBalanceRow.currency == currency,
                            PaperBalanceRow.balance == asset.balance,
                            PaperBalanceRow.locked == asset.locked,
                        )
                        .values(balance=balance, locked=locked, updated_at=now)
                        .execution_options(synchronize_session=False)
                    )
                    if _rowcount(await session.execute(stmt)) != 1:
                        raise _Lost
                if credit:
                    asset_row = await self._read(session, currency)
                    unit = asset_row.unit_currency if asset_row else quote_currency
                    await self._ensure_row(session, quote_currency, unit, now)
                    while True:
                        quote = await self._read(session, quote_currency)
                        if quote is None:
                            raise RuntimeError(f"paper balance row for {quote_currency} vanished")
                        if await self._swap(session, quote_currency, quote.balance, credit, now):
                            break
                if old_json is None:
                    session.add(
                        PaperOrderRow(
                            uuid=uuid, identifier=identifier, order_json=new_json, created_at=now
                        )
                    )
                    await session.flush()
                else:
                    stmt2 = (
                        update(PaperOrderRow)
                        .where(PaperOrderRow.uuid == uuid, PaperOrderRow.order_json == old_json)
                        .values(order_json=new_json)
                        .execution_options(synchronize_session=False)
                    )
                    if _rowcount(await session.execute(stmt2)) != 1:
                        raise _Lost
        except _Lost:
            return False
        return True

    async def order_jsons(self) -> list[str]:
        """Every paper order's JSON, oldest first (the paper account is small)."""
        async with self._sessions() as session, session.begin():
            stmt = select(PaperOrderRow.order_json).order_by(PaperOrderRow.created_at)
            return list((await session.scalars(stmt)).all())

    async def get_order_json(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> str | None:
        """The stored JSON of a paper order, by ``uuid`` or ``identifier``."""
        if (uuid is None) == (identifier is None):
            raise ValueError("give exactly one of uuid and identifier")
        column = PaperOrderRow.uuid if uuid is not None else PaperOrderRow.identifier
        key = uuid if uuid is not None else identifier
        async with self._sessions() as session, session.begin():
            return await session.scalar(select(PaperOrderRow.order_json).where(column == key))

    async def _sell(
        self,
        session: AsyncSession,
        currency: str,
        volume: Decimal,
        quote_currency: str,
        net_proceeds: Decimal,
    ) -> bool:
        if volume <= 0 or net_proceeds < 0:
            raise ValueError("a sell needs a positive volume and non-negative proceeds")
        currency, quote_currency = currency.upper(), quote_currency.upper()
        now = datetime.now(UTC)
        while True:
            asset = await self._read(session, currency)
            if asset is None or asset.balance < volume:
                return False
            if await self._swap(session, currency, asset.balance, -volume, now):
                break
        await self._ensure_row(session, quote_currency, asset.unit_currency, now)
        while True:
            quote = await self._read(session, quote_currency)
            if quote is None:  # created just above and never deleted
                raise RuntimeError(f"paper balance row for {quote_currency} vanished")
            if await self._swap(session, quote_currency, quote.balance, net_proceeds, now):
                return True

    @staticmethod
    async def _read(session: AsyncSession, currency: str) -> PaperBalanceRow | None:
        stmt = select(PaperBalanceRow).where(PaperBalanceRow.currency == currency)
        return await session.scalar(stmt.execution_options(populate_existing=True))

    @staticmethod
    async def _swap(
        session: AsyncSession, currency: str, seen: Decimal, delta: Decimal, now: datetime
    ) -> bool:
        """Set the balance to ``seen + delta`` only if it is still ``seen``."""
        stmt = (
            update(PaperBalanceRow)
            .where(PaperBalanceRow.currency == currency, PaperBalanceRow.balance == seen)
            .values(balance=_EXACT.add(seen, delta), updated_at=now)
            .execution_options(synchronize_session=False)
        )
        result = cast(CursorResult[Any], await session.execute(stmt))
        return result.rowcount == 1

    @staticmethod
    async def _ensure_row(
        session: AsyncSession, currency: str, unit_currency: str, now: datetime
    ) -> None:
        values = {
            "currency": currency,
            "balance": _ZERO,
            "locked": _ZERO,
            "avg_buy_price": _ZERO,
            "unit_currency": unit_currency,
            "updated_at": now,
        }
        dialect = (await session.connection()).dialect.name
        if dialect in ("postgresql", "sqlite"):
            maker = _insert_for(dialect)
            await session.execute(maker(PaperBalanceRow).values(values).on_conflict_do_nothing())
        elif await SqlPaperBalances._read(session, currency) is None:
            await session.execute(insert(PaperBalanceRow).values(values))


def _insert_for(dialect: str) -> Any:
    """The dialect's INSERT (with ON CONFLICT), imported on first use: the other
    dialect's module is never loaded (start-up time)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
