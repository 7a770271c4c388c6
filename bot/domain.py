"""What the bot remembers: pending sells and orders, as plain frozen dataclasses.

The database layer returns these, never ORM rows; the service layer works only with these.
Amounts are `Decimal`, times are timezone-aware UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class OrderState(StrEnum):
    """An order's state in the log. The last three are final."""

    SUBMITTING = "submitting"  # identifier stored; POST sent or about to be; outcome unknown
    WAIT = "wait"  # Upbit has it, not yet final
    WATCH = "watch"
    DONE = "done"  # fully executed
    CANCEL = "cancel"  # closed by Upbit; executed_volume > 0 means a partial fill
    FAILED = "failed"  # refused by Upbit, or never created

    @property
    def is_final(self) -> bool:
        return self in (OrderState.DONE, OrderState.CANCEL, OrderState.FAILED)

    @classmethod
    def from_upbit(cls, state: str) -> OrderState:
        if state in ("done", "cancel", "wait", "watch"):
            return cls(state)
        # "trade", "prevented" (self-trade prevention cut part of the order, which goes on:
        # https://docs.upbit.com/kr/v1.6.4/docs/smp), or a state Upbit adds later: not
        # final, keep watching.
        return cls.WAIT


class FailureKind(StrEnum):
    """Why an order is FAILED: in every case Upbit has (as far as we know) no such order."""

    NOT_SENT = "not_sent"  # the POST never left this machine
    NOT_CREATED = "not_created"  # sent, but Upbit says it has no such order
    REJECTED = "rejected"  # Upbit refused it with an error (``last_error`` names it)


class PendingStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # Confirm won; an order is (being) placed
    CANCELLED = "cancelled"


class ClaimOutcome(StrEnum):
    """The answer to "may this press place the order?"; only CLAIMED may."""

    CLAIMED = "claimed"
    NOT_FOUND = "not_found"
    NOT_OWNER = "not_owner"
    EXPIRED = "expired"
    ALREADY_CONFIRMED = "already_confirmed"
    CANCELLED = "cancelled"
    LOCKED = "locked"  # /lock is on (the preview is cancelled)
    OVER_DAILY_LIMIT = "over_daily_limit"  # DAILY_SELL_LIMIT_KRW (the preview is cancelled)
    CODE_NEEDED = "code_needed"  # nothing claimed yet: the one-time code must come first


@dataclass(frozen=True, slots=True)
class NewPendingSell:
    """A preview the user may confirm until ``expires_at``."""

    id: str  # random token; travels in callback_data
    user_id: int
    chat_id: int
    market: str
    volume: Decimal
    lang: str
    created_at: datetime
    expires_at: datetime
    # A limit sell rests at `price`; a protected sell is a limit IOC at `price` (the floor).
    ord_type: str = "market"
    price: Decimal | None = None
    time_in_force: str | None = None
    slip_percent: Decimal | None = None
    est_krw: Decimal | None = None  # estimated KRW value, for the guards
    est_net: Decimal | None = None  # estimated net proceeds, checked again at Confirm


@dataclass(frozen=True, slots=True)
class PendingSell:
    id: str
    user_id: int
    chat_id: int
    market: str
    volume: Decimal
    lang: str
    created_at: datetime
    expires_at: datetime
    status: PendingStatus
    message_id: int | None
    ord_type: str = "market"
    price: Decimal | None = None
    time_in_force: str | None = None
    slip_percent: Decimal | None = None
    est_krw: Decimal | None = None
    code_requested_at: datetime | None = None  # Confirm asked for a one-time code
    est_net: Decimal | None = None
    claimed_at: datetime | None = None  # by the database's clock


@dataclass(frozen=True, slots=True)
class NewOrder:
    """What is written before ``POST /v1/orders`` is sent."""

    identifier: str
    pending_id: str | None
    user_id: int
    chat_id: int
    lang: str
    market: str
    side: str
    ord_type: str
    requested_volume: Decimal
    paper: bool
    created_at: datetime
    price: Decimal | None = None  # limit price (the floor of a protected sell)
    time_in_force: str | None = None
    slip_percent: Decimal | None = None  # set for a protected sell
    # The holding's average buy price at Confirm; None or 0 when Upbit did not know it.
    avg_buy_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderFill:
    """Figures from Upbit to store on an order (all optional but the state)."""

    state: OrderState
    uuid: str | None = None
    executed_volume: Decimal | None = None
    avg_price: Decimal | None = None
    gross_funds: Decimal | None = None
    paid_fee: Decimal | None = None
    raw_response: str | None = None
    error: str | None = None
    failure: FailureKind | None = None  # with state FAILED
    # Set when the user already learnt the outcome (the reply to Confirm), in the same write.
    announced_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One row of the order log."""

    id: int
    identifier: str
    uuid: str | None
    pending_id: str | None
    user_id: int
    chat_id: int
    lang: str
    market: str
    side: str
    ord_type: str
    requested_volume: Decimal
    state: OrderState
    executed_volume: Decimal
    avg_price: Decimal | None
    gross_funds: Decimal | None
    paid_fee: Decimal | None
    paper: bool
    last_error: str | None
    raw_response: str | None
    created_at: datetime
    updated_at: datetime
    announced_at: datetime | None
    price: Decimal | None = None
    time_in_force: str | None = None
    slip_percent: Decimal | None = None
    avg_buy_price: Decimal | None = None  # at Confirm
    failure: FailureKind | None = None
    not_found_count: int = 0  # Upbit's JSON order_not_found answers while in doubt
    first_not_found_at: datetime | None = None
    undeliverable: bool = False  # Telegram refused the final notice for good

    @property
    def realised_pnl(self) -> Decimal | None:
        """Net proceeds minus what the sold volume cost at the average buy price, in the
        quote currency; None when nothing was sold or the buy price is unknown."""
        net = self.net_funds
        if net is None or self.executed_volume <= 0 or not self.avg_buy_price:
            return None
        return net - self.executed_volume * self.avg_buy_price

    @property
    def net_funds(self) -> Decimal | None:
        if self.gross_funds is None:
            return None
        return self.gross_funds - (self.paid_fee or Decimal(0))

    @property
    def self_trade_prevented(self) -> tuple[str, Decimal] | None:
        """(smp_type, volume) when Upbit's self-trade prevention cut this order, from the
        ``prevented_volume`` of the last answer stored (https://docs.upbit.com/kr/v1.6.4/docs/smp)."""
        if not self.raw_response:
            return None
        try:
            data = json.loads(self.raw_response, parse_float=Decimal)
            volume = Decimal(str(data.get("prevented_volume") or 0))
        except (ValueError, ArithmeticError, AttributeError):
            return None
        if volume <= 0:
            return None
        return str(data.get("smp_type") or "?"), volume


@dataclass(frozen=True, slots=True)
class GuardState:
    """The bot-wide guard row: the /lock switch and one-time-code bookkeeping."""

    locked: bool
    locked_by: int | None
    locked_at: datetime | None
    totp_last_step: int | None
    wrong_codes: int
    codes_blocked_until: datetime | None
    unlock_requested_by: int | None
    unlock_requested_at: datetime | None


@dataclass(frozen=True, slots=True)
class DayWindow:
    """One calendar day in the configured zone, as a UTC half-open interval [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ClaimGuard:
    """What the claim's transaction checks besides ownership and expiry."""

    day: DayWindow
    daily_limit_krw: Decimal | None  # None: no limit
