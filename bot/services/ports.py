"""The small interfaces the service layer talks through.

The live Upbit client and the paper exchange both satisfy `Exchange`; the SQLAlchemy
repository satisfies `OrderRepository`.

The bot sells on Upbit only, so Upbit's own models (`bot.upbit.models`: `Account`, `Order`,
`Orderbook`, ...) and errors (`bot.upbit.errors`: `UpbitError` and its kinds) are this port's
vocabulary on purpose: `Exchange` speaks them, and the paper exchange answers in them too.
They are plain types: importing them loads no transport (`bot.upbit`'s package face
re-exports nothing else; tests/test_layering.py checks), so nothing in ``bot/services``
loads httpx, websockets, python-telegram-bot or SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from bot.domain import (
    ClaimGuard,
    ClaimOutcome,
    NewOrder,
    NewPendingSell,
    OrderFill,
    OrderRecord,
    PendingSell,
    PendingStatus,
)
from bot.upbit.models import (
    Account,
    ApiKey,
    MarketInfo,
    Order,
    Orderbook,
    OrderChance,
    Ticker,
)


class Exchange(Protocol):
    """What the bot needs from an exchange; raises `bot.upbit.errors.UpbitError`s."""

    @property
    def is_paper(self) -> bool: ...

    def rate_blocks(self) -> dict[str, float]:
        """Request groups the exchange has blocked (HTTP 418) and the seconds left of each."""
        ...

    async def accounts(self) -> list[Account]: ...

    async def order_chance(self, market: str) -> OrderChance: ...

    async def tickers(self, markets: Sequence[str]) -> list[Ticker]: ...

    async def orderbooks(self, markets: Sequence[str]) -> list[Orderbook]: ...

    async def markets(self) -> list[MarketInfo]: ...

    async def sell_market(self, market: str, volume: Decimal, identifier: str) -> Order:
        """POST a market sell. Never retried; ambiguity raises `OrderOutcomeUnknown`."""
        ...

    async def limit_sell(
        self,
        market: str,
        volume: Decimal,
        price: Decimal,
        identifier: str,
        *,
        time_in_force: str | None = None,
    ) -> Order:
        """POST a limit sell (``time_in_force`` ``ioc``/``fok`` or resting). Never retried."""
        ...

    async def tick_size(self, market: str) -> Decimal:
        """The market's price step (cached); limit prices must be multiples of it."""
        ...

    async def open_orders(
        self, *, page: int = 1, limit: int = 100, market: str | None = None
    ) -> list[Order]:
        """One page of the account's open orders, newest first."""
        ...

    async def cancel_order(self, *, uuid: str) -> Order:
        """Ask for an open order to be cancelled; the answer may still read ``wait``."""
        ...

    async def get_order(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> Order: ...

    async def orders_by_uuids(self, uuids: Sequence[str]) -> list[Order]:
        """Up to 100 orders in one call, without trades; unknown ones are left out."""
        ...

    async def api_keys(self) -> list[ApiKey]: ...


class OrderRepository(Protocol):
    """The order log and pending previews. Every method is one short transaction."""

    async def now(self) -> datetime:
        """The database's clock: every deadline processes share is judged by it."""
        ...

    async def create_pending(self, pending: NewPendingSell) -> PendingSell: ...

    async def get_pending(self, pending_id: str) -> PendingSell | None: ...

    async def set_pending_message(self, pending_id: str, message_id: int) -> PendingStatus | None:
        """Store the message showing a preview; its status then (None: no such preview)."""
        ...

    async def claim_pending(
        self, pending_id: str, user_id: int, now: datetime | None = None
    ) -> ClaimOutcome:
        """Atomically turn PENDING into CLAIMED for its owner before expiry (by the database's
        clock unless ``now`` is given); one winner."""
        ...

    async def claim_pending_row(
        self,
        pending_id: str,
        user_id: int,
        now: datetime | None = None,
        guard: ClaimGuard | None = None,
    ) -> tuple[ClaimOutcome, PendingSell | None]:
        """`claim_pending`, also returning the claimed preview (in the same statement). With
        ``guard``, /lock and the daily limit are decided in the same transaction."""
        ...

    async def claim_and_record(
        self,
        pending_id: str,
        user_id: int,
        order_for: Callable[[PendingSell], NewOrder],
        now: datetime | None = None,
        guard_for: Callable[[datetime], ClaimGuard] | None = None,
    ) -> tuple[ClaimOutcome, PendingSell | None, OrderRecord | None]:
        """`claim_pending_row` and `record_submitting` of the order ``order_for`` builds
        from the claimed preview, in one transaction: both are written or neither is."""
        ...

    async def cancel_pending(self, pending_id: str, user_id: int) -> bool:
        """PENDING → CANCELLED for its owner; False when it was no longer pending."""
        ...

    async def drop_claim(self, pending_id: str) -> bool:
        """CLAIMED → CANCELLED for a claim that stored no order, or only one marked never
        sent; False when it was not claimed or an order row carries it."""
        ...

    async def cancel_pending_for_user(self, user_id: int) -> list[PendingSell]:
        """Cancel every PENDING preview of a user; returns the ones cancelled."""
        ...

    async def expire_pending(
        self, pending_id: str, now: datetime | None = None
    ) -> PendingSell | None:
        """Cancel a PENDING preview whose time is up by the database's clock."""
        ...

    async def record_submitting(self, order: NewOrder) -> OrderRecord:
        """Insert the order row in state SUBMITTING; ``identifier`` is unique."""
        ...

    async def adopt_order(self, order: NewOrder, uuid: str) -> OrderRecord:
        """Log an order Upbit already has (state WAIT); an already logged uuid wins."""
        ...

    async def update_order(self, identifier: str, fill: OrderFill) -> OrderRecord:
        """Store Upbit's answer (uuid, state, figures, raw JSON, error) on an order."""
        ...

    async def get_order(self, order_id: int) -> OrderRecord | None: ...

    async def get_order_by_uuid(self, uuid: str) -> OrderRecord | None: ...

    async def get_order_by_identifier(self, identifier: str) -> OrderRecord | None: ...

    async def list_recent(
        self, user_id: int | None, limit: int, paper: bool | None = None
    ) -> list[OrderRecord]:
        """Newest first; every user's orders when ``user_id`` is None; of one mode if given."""
        ...

    async def list_all(self) -> list[OrderRecord]:
        """Oldest first, for the CSV export."""
        ...

    async def list_not_final(self, paper: bool | None = None) -> list[OrderRecord]: ...

    async def list_final_unannounced(self, paper: bool | None = None) -> list[OrderRecord]: ...

    async def list_not_created_since(self, since: datetime, paper: bool) -> list[OrderRecord]:
        """Orders declared never created after ``since`` (still looked up now and then)."""
        ...

    async def record_not_found(
        self, identifier: str, *, declare_after: int, spread: timedelta
    ) -> OrderRecord | None:
        """Count one JSON ``order_not_found`` for a SUBMITTING order; FAILED (never created)
        once ``declare_after`` of them span ``spread`` by the database's clock."""
        ...

    async def revive_order(self, identifier: str, fill: OrderFill) -> OrderRecord | None:
        """An order declared never created turned up: store it and announce it afresh."""
        ...

    async def claim_announcement(
        self, order_id: int, now: datetime | None, lease: timedelta
    ) -> datetime | None:
        """Claim the right to announce a final order; its stamp (the database's time unless
        ``now`` is given), or None if announced or leased by another live claim. A claim
        older than ``lease`` may be taken over (its owner died)."""
        ...

    async def hold_announcement(
        self, order_id: int, now: datetime | None, lease: timedelta
    ) -> datetime | None:
        """`claim_announcement` for an order that may not be final yet: nobody else may
        announce it for ``lease`` (released or marked by the holder). The hold's stamp (the
        database's time unless ``now`` is given), or None when it is held or announced."""
        ...

    async def release_announcement(self, order_id: int, claimed_at: datetime) -> None:
        """Give up our claim (made at ``claimed_at``) whose message could not be sent, so the
        next sweep retries; a claim someone else has taken over since is left alone."""
        ...

    async def mark_announced(self, order_id: int, now: datetime | None = None) -> None: ...

    async def mark_undeliverable(self, order_id: int) -> None:
        """Telegram refused this order's notice for good: shown in /orders."""
        ...
