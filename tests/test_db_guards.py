"""The guards' database side (SQLite, and PostgreSQL when configured): /lock and the daily
limit decided in the claim's own transaction, a TOTP time step accepted once, across
"processes" (separate engines on one database)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_sessionmaker
from bot.db.guards import SqlGuardRepository
from bot.db.models import GuardStateRow
from bot.db.repository import SqlOrderRepository
from bot.domain import (
    ClaimGuard,
    ClaimOutcome,
    DayWindow,
    NewPendingSell,
    OrderFill,
    OrderState,
    PendingStatus,
)
from bot.services.guards import GuardRepository
from tests.db_fixtures import db_engine, db_sessions, db_url, engine_factory
from tests.factories import new_order

__all__ = ["db_engine", "db_sessions", "db_url", "engine_factory"]

T0 = datetime(2026, 3, 1, 3, 0, 0, tzinfo=UTC)  # 12:00 in Seoul
DAY = DayWindow(
    start=datetime(2026, 2, 28, 15, tzinfo=UTC), end=datetime(2026, 3, 1, 15, tzinfo=UTC)
)
ALICE, BOB = 1001, 2002


def limit(krw: int | None) -> ClaimGuard:
    return ClaimGuard(day=DAY, daily_limit_krw=None if krw is None else Decimal(krw))


@pytest.fixture
def repo(db_sessions: async_sessionmaker[AsyncSession]) -> SqlOrderRepository:
    return SqlOrderRepository(db_sessions)


@pytest.fixture
def guards(db_sessions: async_sessionmaker[AsyncSession]) -> SqlGuardRepository:
    return SqlGuardRepository(db_sessions)


def other_process(
    engine_factory: Callable[[], AsyncEngine],
) -> tuple[SqlOrderRepository, SqlGuardRepository]:
    sessions = create_sessionmaker(engine_factory())
    return SqlOrderRepository(sessions), SqlGuardRepository(sessions)


def pending(pid: str, est_krw: int | None, user_id: int = ALICE, **kw: object) -> NewPendingSell:
    base = NewPendingSell(
        id=pid,
        user_id=user_id,
        chat_id=user_id,
        market="KRW-BTC",
        volume=Decimal("0.01"),
        lang="en",
        created_at=T0,
        expires_at=T0 + timedelta(seconds=60),
        est_krw=None if est_krw is None else Decimal(est_krw),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_implements_the_port(guards: SqlGuardRepository) -> None:
    port: GuardRepository = guards
    assert port is guards


async def test_lock_is_stored_and_flips_once(
    guards: SqlGuardRepository, engine_factory: Callable[[], AsyncEngine]
) -> None:
    assert not (await guards.guard_state()).locked
    assert await guards.set_locked(True, ALICE, T0)
    assert not await guards.set_locked(True, BOB, T0)  # already locked
    _, elsewhere = other_process(engine_factory)
    state = await elsewhere.guard_state()
    assert state.locked and state.locked_by == ALICE and state.locked_at == T0
    assert await elsewhere.set_locked(False, BOB, T0)
    assert not (await guards.guard_state()).locked


async def test_locked_claim_is_refused_and_cancels_the_preview(
    repo: SqlOrderRepository, guards: SqlGuardRepository
) -> None:
    await repo.create_pending(pending("p1", 10_000))
    await guards.set_locked(True, ALICE, T0)
    outcome, claimed = await repo.claim_pending_row("p1", ALICE, T0, limit(None))
    assert (outcome, claimed) == (ClaimOutcome.LOCKED, None)
    row = await repo.get_pending("p1")
    assert row is not None and row.status is PendingStatus.CANCELLED
    # A second press is told the preview is gone.
    assert (await repo.claim_pending_row("p1", ALICE, T0))[0] is ClaimOutcome.CANCELLED


async def test_lock_does_not_hide_why_a_press_is_refused(
    repo: SqlOrderRepository, guards: SqlGuardRepository
) -> None:
    await repo.create_pending(pending("p1", 10_000))
    await guards.set_locked(True, ALICE, T0)
    outcome, _ = await repo.claim_pending_row("p1", BOB, T0, limit(None))
    assert outcome is ClaimOutcome.NOT_OWNER
    row = await repo.get_pending("p1")
    assert row is not None and row.status is PendingStatus.PENDING


async def test_daily_limit_counts_claims_in_flight(
    repo: SqlOrderRepository, guards: SqlGuardRepository
) -> None:
    for pid, krw in (("a", 400_000), ("b", 500_000), ("c", 100_001), ("d", 100_000)):
        await repo.create_pending(pending(pid, krw))
    assert (await repo.claim_pending_row("a", ALICE, T0, limit(1_000_000)))[
        0
    ] is ClaimOutcome.CLAIMED
    # "a" has no order row yet (in flight): it counts.
    assert (await repo.claim_pending_row("b", ALICE, T0, limit(1_000_000)))[
        0
    ] is ClaimOutcome.CLAIMED
    assert await guards.day_total_krw(DAY) == Decimal(900_000)
    outcome, _ = await repo.claim_pending_row("c", ALICE, T0, limit(1_000_000))
    assert outcome is ClaimOutcome.OVER_DAILY_LIMIT
    row = await repo.get_pending("c")
    assert row is not None and row.status is PendingStatus.CANCELLED
    # Exactly up to the limit is allowed.
    assert (await repo.claim_pending_row("d", ALICE, T0, limit(1_000_000)))[
        0
    ] is ClaimOutcome.CLAIMED
    assert await guards.day_total_krw(DAY) == Decimal(1_000_000)


async def test_failed_orders_and_released_claims_do_not_count(
    repo: SqlOrderRepository, guards: SqlGuardRepository
) -> None:
    for pid in ("a", "b", "c"):
        await repo.create_pending(pending(pid, 300_000))
        assert (await repo.claim_pending_row(pid, ALICE, T0, limit(None)))[
            0
        ] is ClaimOutcome.CLAIMED
    await repo.record_submitting(new_order("id-a", pending_id="a"))
    await repo.record_submitting(new_order("id-b", pending_id="b"))
    assert await guards.day_total_krw(DAY) == Decimal(900_000)
    await repo.update_order("id-a", OrderFill(state=OrderState.FAILED, error="refused"))
    assert await guards.day_total_krw(DAY) == Decimal(600_000)
    await repo.update_order("id-b", OrderFill(state=OrderState.DONE, uuid="u-b"))
    await guards.release_claim("c", T0)  # refused after the claim: nothing was sent
    assert await guards.day_total_krw(DAY) == Decimal(300_000)


async def test_the_day_is_the_configured_zones_day(
    repo: SqlOrderRepository, guards: SqlGuardRepository
) -> None:
    before = DAY.start - timedelta(microseconds=1)
    await repo.create_pending(
        pending(
            "old",
            900_000,
            created_at=before - timedelta(seconds=10),
            expires_at=before + timedelta(seconds=50),
        )
    )
    assert (await repo.claim_pending_row("old", ALICE, before, limit(None)))[
        0
    ] is ClaimOutcome.CLAIMED
    await repo.create_pending(pending("new", 900_000))
    # Yesterday's 900,000 does not count today.
    assert (await repo.claim_pending_row("new", ALICE, T0, limit(1_000_000)))[
        0
    ] is ClaimOutcome.CLAIMED
    assert await guards.day_total_krw(DAY) == Decimal(900_000)


async def test_unknown_value_is_refused_under_a_limit(repo: SqlOrderRepository) -> None:
    await repo.create_pending(pending("p1", None))
    outcome, _ = await repo.claim_pending_row("p1", ALICE, T0, limit(1_000_000))
    assert outcome is ClaimOutcome.OVER_DAILY_LIMIT


async def test_concurrent_claims_of_two_processes_respect_the_limit(
    repo: SqlOrderRepository,
    guards: SqlGuardRepository,
    engine_factory: Callable[[], AsyncEngine],
) -> None:
    """Each of ten previews fits under the limit alone; together only three fit."""
    repos = [repo, *(other_process(engine_factory)[0] for _ in range(4))]
    for i in range(10):
        await repo.create_pending(pending(f"r{i}", 300_000))
    outcomes = await asyncio.gather(
        *(
            repos[i % len(repos)].claim_pending_row(f"r{i}", ALICE, T0, limit(1_000_000))
            for i in range(10)
        )
    )
    claimed = [o for o, _ in outcomes if o is ClaimOutcome.CLAIMED]
    assert len(claimed) == 3
    assert [o for o, _ in outcomes if o is not ClaimOutcome.CLAIMED] == [
        ClaimOutcome.OVER_DAILY_LIMIT
    ] * 7
    assert await guards.day_total_krw(DAY) == Decimal(900_000)


async def test_a_time_step_is_accepted_once_across_processes(
    guards: SqlGuardRepository, engine_factory: Callable[[], AsyncEngine]
) -> None:
    _, elsewhere = other_process(engine_factory)
    results = await asyncio.gather(*(g.accept_totp_step(1000) for g in (guards, elsewhere)))
    assert sorted(results) == [False, True]
    assert not await guards.accept_totp_step(999)  # older than the newest accepted
    assert not await guards.accept_totp_step(1000)
    assert await elsewhere.accept_totp_step(1001)
    assert (await guards.guard_state()).totp_last_step == 1001


async def test_wrong_codes_in_a_row_pause_codes(guards: SqlGuardRepository) -> None:
    pause = timedelta(minutes=15)
    for _ in range(2):
        state = await guards.record_wrong_code(T0, 3, pause)
        assert state.codes_blocked_until is None
    state = await guards.record_wrong_code(T0, 3, pause)
    assert state.codes_blocked_until == T0 + pause
    assert state.wrong_codes == 0
    # A right code clears the count.
    await guards.record_wrong_code(T0, 3, pause)
    assert await guards.accept_totp_step(5)
    assert (await guards.guard_state()).wrong_codes == 0


async def test_code_requests_and_failures(
    repo: SqlOrderRepository, guards: SqlGuardRepository
) -> None:
    await repo.create_pending(pending("p1", 10_000))
    await repo.create_pending(pending("p2", 10_000))
    assert await guards.awaiting_code(ALICE, T0) is None
    assert not await guards.request_code("p1", BOB, T0)  # not Bob's
    assert not await guards.request_code("p1", ALICE, T0 + timedelta(seconds=60))  # too late
    assert await guards.request_code("p1", ALICE, T0)
    assert await guards.request_code("p2", ALICE, T0 + timedelta(seconds=1))
    found = await guards.awaiting_code(ALICE, T0 + timedelta(seconds=2))
    assert found is not None and found.id == "p2"  # the newest request
    assert found.code_requested_at == T0 + timedelta(seconds=1)
    assert await guards.awaiting_code(BOB, T0) is None
    assert await guards.awaiting_code(ALICE, T0 + timedelta(seconds=60)) is None  # expired
    assert [await guards.add_code_failure("p2") for _ in range(3)] == [1, 2, 3]


async def test_unlock_request_is_taken_once(guards: SqlGuardRepository) -> None:
    await guards.request_unlock(ALICE, T0)
    assert not await guards.take_unlock_request(BOB, T0 - timedelta(seconds=60))
    assert not await guards.take_unlock_request(ALICE, T0)  # too old
    assert await guards.take_unlock_request(ALICE, T0 - timedelta(seconds=60))
    assert not await guards.take_unlock_request(ALICE, T0 - timedelta(seconds=60))


async def test_a_missing_guard_row_is_recreated(
    repo: SqlOrderRepository,
    guards: SqlGuardRepository,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db_sessions() as session, session.begin():
        await session.execute(delete(GuardStateRow))
    assert not (await guards.guard_state()).locked
    await repo.create_pending(pending("p1", 10_000))
    assert (await repo.claim_pending_row("p1", ALICE, T0, limit(None)))[0] is ClaimOutcome.CLAIMED
    assert await guards.set_locked(True, ALICE, T0)
    assert (await guards.guard_state()).locked
