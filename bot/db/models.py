"""ORM tables. The schema itself is created and changed only by the Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, DecimalText, UTCDateTime

__all__ = [
    "GUARD_STATE_ID",
    "Base",
    "ConnectPacerRow",
    "GuardStateRow",
    "OrderRow",
    "PaperBalanceRow",
    "PaperOrderRow",
    "PendingSellRow",
    "PriceAlertRow",
    "UserSettingsRow",
]

GUARD_STATE_ID = 1  # the one row of `guard_state`


class OrderRow(Base):
    """One order of the log, written before it is sent to Upbit."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identifier: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    uuid: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    # One order per preview, ever: backs the claim (several processes, one database).
    pending_id: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    lang: Mapped[str] = mapped_column(String(16), nullable=False)
    market: Mapped[str] = mapped_column(String(32), nullable=False)
    side: Mapped[str] = mapped_column(String(8), nullable=False)
    ord_type: Mapped[str] = mapped_column(String(16), nullable=False)
    requested_volume: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    executed_volume: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    avg_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    gross_funds: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    paid_fee: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    # The holding's average buy price when the sell was confirmed (realised profit).
    avg_buy_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    paper: Mapped[bool] = mapped_column(Boolean, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # `bot.domain.FailureKind` of a FAILED order.
    failure: Mapped[str | None] = mapped_column(String(16), nullable=True)
    raw_response: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    announce_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    time_in_force: Mapped[str | None] = mapped_column(String(8), nullable=True)
    slip_percent: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    # Upbit's own JSON ``order_not_found`` answers for an order in doubt, and the first one's
    # time (by the database's clock): "never created" needs several, minutes apart.
    not_found_count: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    first_not_found_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Telegram refused the final notice for good (the user blocked the bot).
    undeliverable: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=sa_false()
    )

    __table_args__ = (
        Index(None, "state"),
        Index(None, "announced_at"),
        Index(None, "user_id", "created_at"),
    )


class PendingSellRow(Base):
    """A sell preview that its owner may confirm once, before it expires."""

    __tablename__ = "pending_sells"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    market: Mapped[str] = mapped_column(String(32), nullable=False)
    volume: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    lang: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ord_type: Mapped[str] = mapped_column(String(16), nullable=False, server_default="market")
    price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    time_in_force: Mapped[str | None] = mapped_column(String(8), nullable=True)
    slip_percent: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    # Guards (bot.services.guards): the estimated KRW value counted toward the daily limit,
    # when it was claimed (the day it counts for), and when a claim placed no order after all.
    est_krw: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    # The preview's estimated net proceeds: Confirm compares a fresh estimate with it.
    est_net: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when Confirm asked for a one-time code; wrong codes sent for this preview.
    code_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    code_failures: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )

    __table_args__ = (Index(None, "user_id", "status"), Index(None, "claimed_at"))


class PaperBalanceRow(Base):
    """One currency of the simulated account used by paper trading."""

    __tablename__ = "paper_balances"

    currency: Mapped[str] = mapped_column(String(32), primary_key=True)
    balance: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    locked: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    avg_buy_price: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    unit_currency: Mapped[str] = mapped_column(String(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PaperOrderRow(Base):
    """An order the paper exchange filled, as the JSON ``GET /v1/order`` would return."""

    __tablename__ = "paper_orders"

    uuid: Mapped[str] = mapped_column(String(255), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    order_json: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class UserSettingsRow(Base):
    """One user's choices from /settings; a user without a row has the defaults."""

    __tablename__ = "user_settings"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    quick_sell_percents: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class PriceAlertRow(Base):
    """A price alert; fired once, claimed in the database like a fill announcement."""

    __tablename__ = "price_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    language_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    market: Mapped[str] = mapped_column(String(32), nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    target_price: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    percent: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    basis_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    fire_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    triggered_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index(None, "status"), Index(None, "user_id", "status"))


class GuardStateRow(Base):
    """The one row (id 1) of bot-wide guard state: the lock and one-time-code bookkeeping.

    Claims update this row first, which serialises them across processes (a row lock on
    PostgreSQL, the write lock on SQLite), so the lock and the daily limit are decided in
    the claim's own transaction.
    """

    __tablename__ = "guard_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False)
    locked_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The newest TOTP time step accepted: a code of that step or an older one is refused.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Wrong codes in a row (any preview or /unlock) and the pause they earned.
    wrong_codes: Mapped[int] = mapped_column(Integer, nullable=False)
    codes_blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # `/unlock` without a code waits for the code as the next message of this user.
    unlock_requested_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    unlock_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claims: Mapped[int] = mapped_column(BigInteger, nullable=False)  # touched by every claim


class ConnectPacerRow(Base):
    """When the next connect to an outside service may be made (epoch seconds by the
    database's clock), shared by every process on this database and kept across restarts."""

    __tablename__ = "connect_pacers"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, nullable=False)
