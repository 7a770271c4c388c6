"""A failure that is not Upbit's while the claim and the order row are written (the database, say):
nothing was sent, so the preview is freed (a second press says it was cancelled, not
"already confirmed"), the day's limit gets its amount back, and the user is told to start
again.

Real sell service, guards, order log (SQLite and PostgreSQL) and Upbit client against the
stand-in; the one failure is injected into the order log's write of the order row."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.guards import SqlGuardRepository
from bot.db.repository import SqlOrderRepository
from bot.domain import (
    ClaimGuard,
    ClaimOutcome,
    FailureKind,
    NewOrder,
    OrderRecord,
    OrderState,
    PendingSell,
    PendingStatus,
)
from bot.services.guards import GuardService, GuardSettings
from bot.services.sell import ConfirmStatus, SellService
from bot.telegram import render
from bot.upbit.client import UpbitClient
from tests.standins.upbit import UpbitStandIn

OWNER = 1001
LIMIT = Decimal(1_000_000)


class OrderRowWriteFails(SqlOrderRepository):
    """The real order log, except that storing the next order row fails once: inside the
    claim's transaction, after the claim was written, so the whole transaction rolls back."""

    failures = 1

    async def claim_and_record(
        self,
        pending_id: str,
        user_id: int,
        order_for: Callable[[PendingSell], NewOrder],
        now: datetime | None = None,
        guard_for: Callable[[datetime], ClaimGuard] | None = None,
    ) -> tuple[ClaimOutcome, PendingSell | None, OrderRecord | None]:
        def failing(pending: PendingSell) -> NewOrder:
            if self.failures:
                self.failures -= 1
                raise OperationalError("INSERT INTO orders", None, Exception("connection lost"))
            return order_for(pending)

        return await super().claim_and_record(pending_id, user_id, failing, now, guard_for)


@pytest.fixture
async def client(upbit_standin: UpbitStandIn) -> AsyncIterator[UpbitClient]:
    upbit_standin.add_market("KRW-TST", bids=[(1000, 10), (990, 20)], asks=[(1001, 10)])
    upbit_standin.set_account("TST", balance=40, avg_buy_price=900)
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as upbit:
        yield upbit


def guarded_sell(
    db_sessions: async_sessionmaker[AsyncSession], client: UpbitClient, repo: SqlOrderRepository
) -> tuple[SellService, GuardService]:
    """The sell service on ``repo`` with a daily limit of `LIMIT` (the claim counts)."""
    guards = GuardService(
        SqlGuardRepository(db_sessions),
        GuardSettings(daily_limit_krw=LIMIT),
        lambda: datetime.now(UTC),
    )
    sell = SellService(
        client, repo, confirm_timeout=timedelta(seconds=60), lookup_delays=(0,), guards=guards
    )
    return sell, guards


async def test_database_failure_before_sending_frees_the_preview_and_says_start_again(
    db_sessions: async_sessionmaker[AsyncSession],
    client: UpbitClient,
    upbit_standin: UpbitStandIn,
) -> None:
    repo = OrderRowWriteFails(db_sessions)
    sell, guards = guarded_sell(db_sessions, client, repo)
    preview = await sell.preview(["tst", "5"], user_id=OWNER, chat_id=OWNER, lang="en")

    result = await sell.confirm(preview.pending_id, OWNER)

    assert result.status is ConfirmStatus.REFUSED and result.order is None
    assert result.reason == "err_not_sent_retry"
    assert "Start again with /sell" in render.confirm_outcome("en", result)
    assert upbit_standin.requests_to("POST", "/v1/orders") == []
    assert await repo.list_all() == []
    pending = await repo.get_pending(preview.pending_id)
    assert pending is not None and pending.status is PendingStatus.CANCELLED
    assert await sell.press_refusal(preview.pending_id, OWNER) == "claim_cancelled"
    assert (await guards.status()).left_today_krw == LIMIT  # the claim no longer counts

    # Starting again works: one order, for the new preview.
    again = await sell.preview(["tst", "5"], user_id=OWNER, chat_id=OWNER, lang="en")
    placed = await sell.confirm(again.pending_id, OWNER)
    assert placed.status is ConfirmStatus.PLACED
    assert len(upbit_standin.requests_to("POST", "/v1/orders")) == 1


class CommitOutcomeLost(SqlOrderRepository):
    """The real order log whose next claim transaction commits, then reports a failure (a
    connection lost while the COMMIT's answer was on its way)."""

    lost = 1

    async def claim_and_record(
        self,
        pending_id: str,
        user_id: int,
        order_for: Callable[[PendingSell], NewOrder],
        now: datetime | None = None,
        guard_for: Callable[[datetime], ClaimGuard] | None = None,
    ) -> tuple[ClaimOutcome, PendingSell | None, OrderRecord | None]:
        answer = await super().claim_and_record(pending_id, user_id, order_for, now, guard_for)
        if self.lost:
            self.lost -= 1
            raise OperationalError("COMMIT", None, Exception("connection lost"))
        return answer


async def test_a_commit_reported_lost_marks_the_unsent_order_and_says_nothing_was_sold(
    db_sessions: async_sessionmaker[AsyncSession],
    client: UpbitClient,
    upbit_standin: UpbitStandIn,
) -> None:
    repo = CommitOutcomeLost(db_sessions)
    sell, guards = guarded_sell(db_sessions, client, repo)
    preview = await sell.preview(["tst", "5"], user_id=OWNER, chat_id=OWNER, lang="en")

    result = await sell.confirm(preview.pending_id, OWNER)

    # The row was committed but never sent: it says so, and is this reply's to announce.
    assert result.status is ConfirmStatus.FAILED and result.reason == "err_not_sent"
    assert "Nothing was sold" in render.confirm_outcome("en", result)
    assert upbit_standin.requests_to("POST", "/v1/orders") == []
    (order,) = await repo.list_all()
    assert order.state is OrderState.FAILED and order.failure is FailureKind.NOT_SENT
    # Not "already confirmed": the preview is cancelled, the day's limit is whole again.
    assert await sell.press_refusal(preview.pending_id, OWNER) == "claim_cancelled"
    assert (await guards.status()).left_today_krw == LIMIT
