"""`SqlOrderRepository` on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_sessionmaker
from bot.db.repository import (
    DuplicateIdentifier,
    DuplicatePreviewOrder,
    OrderNotFound,
    SqlOrderRepository,
)
from bot.domain import (
    ClaimOutcome,
    NewOrder,
    NewPendingSell,
    OrderFill,
    OrderState,
    PendingSell,
    PendingStatus,
)
from bot.services.ports import OrderRepository
from tests.db_fixtures import db_engine, db_sessions, db_url, engine_factory

__all__ = ["db_engine", "db_sessions", "db_url", "engine_factory"]

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
KST = timezone(timedelta(hours=9))
ALICE, BOB = 1001, 2002


@pytest.fixture
def repo(db_sessions: async_sessionmaker[AsyncSession]) -> SqlOrderRepository:
    return SqlOrderRepository(db_sessions)


@pytest.fixture
def second_repo(
    db_engine: AsyncEngine, engine_factory: Callable[[], AsyncEngine]
) -> SqlOrderRepository:
    """The same database seen through another engine, as a second process would."""
    return SqlOrderRepository(create_sessionmaker(engine_factory()))


def pending(pid: str = "p1", user_id: int = ALICE, **kw: object) -> NewPendingSell:
    base = NewPendingSell(
        id=pid,
        user_id=user_id,
        chat_id=user_id + 5,
        market="KRW-BTC",
        volume=Decimal("0.01234567"),
        lang="ko",
        created_at=T0,
        expires_at=T0 + timedelta(seconds=60),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def new_order(identifier: str = "id-1", user_id: int = ALICE, **kw: object) -> NewOrder:
    base = NewOrder(
        identifier=identifier,
        pending_id="p1",
        user_id=user_id,
        chat_id=user_id + 5,
        lang="en",
        market="KRW-BTC",
        side="ask",
        ord_type="market",
        requested_volume=Decimal("0.01234567"),
        paper=False,
        created_at=T0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_implements_the_port(repo: SqlOrderRepository) -> None:
    port: OrderRepository = repo
    assert port is repo


# -- pending previews ---------------------------------------------------------------


async def test_pending_round_trip(repo: SqlOrderRepository) -> None:
    created = await repo.create_pending(pending())
    fetched = await repo.get_pending("p1")
    assert fetched == created
    assert fetched is not None
    assert fetched.status is PendingStatus.PENDING
    assert fetched.message_id is None
    assert fetched.volume == Decimal("0.01234567")
    assert fetched.created_at == T0
    assert fetched.expires_at.tzinfo is UTC
    assert await repo.get_pending("nope") is None


async def test_set_pending_message(repo: SqlOrderRepository) -> None:
    await repo.create_pending(pending())
    assert await repo.set_pending_message("p1", 9_876_543_210) is PendingStatus.PENDING
    fetched = await repo.get_pending("p1")
    assert fetched is not None
    assert fetched.message_id == 9_876_543_210
    await repo.cancel_pending("p1", fetched.user_id)
    assert await repo.set_pending_message("p1", 1) is PendingStatus.CANCELLED
    assert await repo.set_pending_message("nope", 1) is None


async def test_claim_by_owner_once(repo: SqlOrderRepository) -> None:
    await repo.create_pending(pending())
    assert await repo.claim_pending("p1", ALICE, T0) is ClaimOutcome.CLAIMED
    assert await repo.claim_pending("p1", ALICE, T0) is ClaimOutcome.ALREADY_CONFIRMED
    fetched = await repo.get_pending("p1")
    assert fetched is not None
    assert fetched.status is PendingStatus.CLAIMED


async def test_claim_returns_the_claimed_preview_once(repo: SqlOrderRepository) -> None:
    await repo.create_pending(pending("pending-row-1", market="KRW-ETH", volume=Decimal("0.5")))
    outcome, claimed = await repo.claim_pending_row("pending-row-1", ALICE, T0)
    assert outcome is ClaimOutcome.CLAIMED
    assert claimed is not None
    assert (claimed.market, claimed.volume, claimed.chat_id, claimed.lang) == (
        "KRW-ETH",
        Decimal("0.5"),
        ALICE + 5,
        "ko",
    )
    assert claimed.status is PendingStatus.CLAIMED
    again, none = await repo.claim_pending_row("pending-row-1", ALICE, T0)
    assert (again, none) == (ClaimOutcome.ALREADY_CONFIRMED, None)


async def test_claim_by_another_user_changes_nothing(repo: SqlOrderRepository) -> None:
    await repo.create_pending(pending())
    assert await repo.claim_pending("p1", BOB, T0) is ClaimOutcome.NOT_OWNER
    assert await repo.cancel_pending("p1", BOB) is False
    assert await repo.claim_pending("p1", ALICE, T0) is ClaimOutcome.CLAIMED
    assert await repo.claim_pending("p1", BOB, T0) is ClaimOutcome.NOT_OWNER


async def test_claim_after_expiry(repo: SqlOrderRepository) -> None:
    await repo.create_pending(pending())
    expires = T0 + timedelta(seconds=60)
    assert await repo.claim_pending("p1", ALICE, expires) is ClaimOutcome.EXPIRED
    late = (expires + timedelta(microseconds=1)).astimezone(KST)
    assert await repo.claim_pending("p1", ALICE, late) is ClaimOutcome.EXPIRED
    just_in_time = (expires - timedelta(microseconds=1)).astimezone(KST)
    assert await repo.claim_pending("p1", ALICE, just_in_time) is ClaimOutcome.CLAIMED


async def test_claim_missing_and_cancelled(repo: SqlOrderRepository) -> None:
    assert await repo.claim_pending("nope", ALICE, T0) is ClaimOutcome.NOT_FOUND
    await repo.create_pending(pending())
    assert await repo.cancel_pending("p1", ALICE) is True
    assert await repo.cancel_pending("p1", ALICE) is False
    assert await repo.claim_pending("p1", ALICE, T0) is ClaimOutcome.CANCELLED


async def test_cancel_after_claim_is_refused(repo: SqlOrderRepository) -> None:
    await repo.create_pending(pending())
    assert await repo.claim_pending("p1", ALICE, T0) is ClaimOutcome.CLAIMED
    assert await repo.cancel_pending("p1", ALICE) is False
    fetched = await repo.get_pending("p1")
    assert fetched is not None
    assert fetched.status is PendingStatus.CLAIMED


async def test_cancel_pending_for_user(repo: SqlOrderRepository) -> None:
    await repo.create_pending(pending("a1"))
    await repo.create_pending(pending("a2", created_at=T0 + timedelta(seconds=1)))
    await repo.create_pending(pending("a3"))
    await repo.create_pending(pending("b1", user_id=BOB))
    assert await repo.claim_pending("a3", ALICE, T0) is ClaimOutcome.CLAIMED
    cancelled = await repo.cancel_pending_for_user(ALICE)
    assert [p.id for p in cancelled] == ["a1", "a2"]
    assert all(p.status is PendingStatus.CANCELLED for p in cancelled)
    assert all(p.created_at.tzinfo is UTC for p in cancelled)
    statuses = {pid: (await repo.get_pending(pid)) for pid in ("a1", "a2", "a3", "b1")}
    assert {k: v.status if v else None for k, v in statuses.items()} == {
        "a1": PendingStatus.CANCELLED,
        "a2": PendingStatus.CANCELLED,
        "a3": PendingStatus.CLAIMED,
        "b1": PendingStatus.PENDING,
    }
    assert await repo.cancel_pending_for_user(ALICE) == []


@pytest.mark.parametrize("round_", range(3))
async def test_twenty_concurrent_claims_one_winner(
    repo: SqlOrderRepository, second_repo: SqlOrderRepository, round_: int
) -> None:
    await repo.create_pending(pending(f"race{round_}"))
    repos = [repo, second_repo] * 10
    outcomes = await asyncio.gather(*(r.claim_pending(f"race{round_}", ALICE, T0) for r in repos))
    assert outcomes.count(ClaimOutcome.CLAIMED) == 1
    assert outcomes.count(ClaimOutcome.ALREADY_CONFIRMED) == 19


async def test_naive_datetime_is_refused(repo: SqlOrderRepository) -> None:
    naive = datetime(2026, 3, 1, 12, 0, 0)
    with pytest.raises(StatementError, match="timezone-aware"):
        await repo.create_pending(pending(expires_at=naive))
    assert await repo.get_pending("p1") is None


async def test_float_amount_is_refused(repo: SqlOrderRepository) -> None:
    with pytest.raises(StatementError, match="Decimal"):
        await repo.create_pending(pending(volume=0.1))


# -- orders -------------------------------------------------------------------------


async def test_record_submitting(repo: SqlOrderRepository) -> None:
    record = await repo.record_submitting(new_order(paper=True))
    assert record.id > 0
    assert record.state is OrderState.SUBMITTING
    assert record.uuid is None
    assert record.executed_volume == 0
    assert record.avg_price is record.gross_funds is record.paid_fee is None
    assert record.announced_at is None
    assert record.paper is True
    assert record.created_at == record.updated_at == T0
    assert await repo.get_order(record.id) == record
    assert await repo.get_order_by_identifier("id-1") == record
    assert await repo.get_order(record.id + 1000) is None


async def test_duplicate_identifier_is_refused(repo: SqlOrderRepository) -> None:
    first = await repo.record_submitting(new_order())
    with pytest.raises(DuplicateIdentifier) as excinfo:
        await repo.record_submitting(new_order(user_id=BOB))
    assert excinfo.value.identifier == "id-1"
    assert await repo.list_all() == [first]


async def test_one_order_per_preview_is_a_database_rule(
    repo: SqlOrderRepository, second_repo: SqlOrderRepository
) -> None:
    # Two processes that both believed they won the claim: the database still lets only one
    # order of that preview into the log (and so out to Upbit).
    results = await asyncio.gather(
        repo.record_submitting(new_order("id-a", pending_id="p-same")),
        second_repo.record_submitting(new_order("id-b", pending_id="p-same")),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert any(isinstance(r, DuplicatePreviewOrder) for r in results)
    assert len(await repo.list_all()) == 1


async def test_concurrent_duplicate_identifier_only_one_row(
    repo: SqlOrderRepository, second_repo: SqlOrderRepository
) -> None:
    results = await asyncio.gather(
        *(r.record_submitting(new_order("same")) for r in [repo, second_repo] * 5),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, DuplicateIdentifier) for r in results if isinstance(r, Exception))
    assert len(await repo.list_all()) == 1


async def test_update_order_keeps_what_is_not_given(repo: SqlOrderRepository) -> None:
    await repo.record_submitting(new_order())
    opened = await repo.update_order(
        "id-1", OrderFill(state=OrderState.WAIT, uuid="u-1", raw_response='{"state":"wait"}')
    )
    assert opened.state is OrderState.WAIT
    assert opened.uuid == "u-1"
    assert opened.updated_at > T0
    assert opened.updated_at.tzinfo is UTC
    done = await repo.update_order(
        "id-1",
        OrderFill(
            state=OrderState.DONE,
            executed_volume=Decimal("0.01234567"),
            avg_price=Decimal("95000000"),
            gross_funds=Decimal("1172838.65"),
            paid_fee=Decimal("586.419325"),
        ),
    )
    assert done.uuid == "u-1"
    assert done.raw_response == '{"state":"wait"}'
    assert done.executed_volume == Decimal("0.01234567")
    assert done.net_funds == Decimal("1172252.230675")
    assert done.last_error is None
    assert await repo.get_order_by_uuid("u-1") == done
    assert await repo.get_order_by_uuid("u-2") is None


async def test_update_order_records_error(repo: SqlOrderRepository) -> None:
    await repo.record_submitting(new_order())
    failed = await repo.update_order(
        "id-1", OrderFill(state=OrderState.FAILED, error="insufficient_funds_ask")
    )
    assert failed.state is OrderState.FAILED
    assert failed.last_error == "insufficient_funds_ask"
    assert failed.uuid is None


async def test_update_unknown_order(repo: SqlOrderRepository) -> None:
    with pytest.raises(OrderNotFound):
        await repo.update_order("missing", OrderFill(state=OrderState.DONE))


async def test_a_final_state_never_moves_back(repo: SqlOrderRepository) -> None:
    await repo.record_submitting(new_order("usb-a", requested_volume=Decimal("0.1")))
    done = await repo.update_order(
        "usb-a", OrderFill(state=OrderState.DONE, uuid="u-a", executed_volume=Decimal("0.1"))
    )
    assert done.state is OrderState.DONE
    # A stale "wait" (e.g. the POST's 201 arriving after a lookup saw "done") changes nothing.
    stale = await repo.update_order("usb-a", OrderFill(state=OrderState.WAIT, uuid="u-a"))
    assert stale.state is OrderState.DONE
    assert stale.executed_volume == Decimal("0.1")
    # A final state may still be refined by another final answer.
    cancel = await repo.update_order("usb-a", OrderFill(state=OrderState.CANCEL))
    assert cancel.state is OrderState.CANCEL


async def test_failure_and_announcement_in_one_write(repo: SqlOrderRepository) -> None:
    await repo.record_submitting(new_order("usb-b"))
    failed = await repo.update_order(
        "usb-b", OrderFill(state=OrderState.FAILED, error="insufficient", announced_at=T0)
    )
    assert failed.announced_at == T0
    assert [o.identifier for o in await repo.list_final_unannounced()] == []


async def test_only_an_order_still_submitting_can_fail(repo: SqlOrderRepository) -> None:
    await repo.record_submitting(new_order("usb-c"))
    await repo.update_order("usb-c", OrderFill(state=OrderState.DONE, uuid="u-c"))
    # A sweep that saw the row while it was still submitting, and then a 404, comes late.
    late = await repo.update_order("usb-c", OrderFill(state=OrderState.FAILED, error="late"))
    assert late.state is OrderState.DONE
    assert late.last_error is None


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("0.00000001"),
        Decimal("123456789.123456789"),
        Decimal("98765432109876543210.123456789012345678"),
        Decimal("1E-8"),
        Decimal("0.10000000"),
        Decimal(0),
    ],
)
async def test_decimals_round_trip_exactly(
    repo: SqlOrderRepository, db_engine: AsyncEngine, amount: Decimal
) -> None:
    await repo.record_submitting(new_order(requested_volume=amount))
    await repo.update_order(
        "id-1",
        OrderFill(
            state=OrderState.DONE, executed_volume=amount, avg_price=amount, paid_fee=amount
        ),
    )
    record = await repo.get_order_by_identifier("id-1")
    assert record is not None
    for value in (record.requested_volume, record.executed_volume, record.avg_price):
        assert isinstance(value, Decimal)
        assert value == amount
        assert format(value, "f") == format(amount, "f")
    async with db_engine.connect() as conn:
        stored = (await conn.execute(text("SELECT avg_price FROM orders"))).scalar_one()
    assert stored == format(amount, "f")


async def test_timestamps_come_back_aware_utc(repo: SqlOrderRepository) -> None:
    in_seoul = datetime(2026, 3, 1, 21, 0, 0, 654321, tzinfo=KST)
    record = await repo.record_submitting(new_order(created_at=in_seoul))
    fetched = await repo.get_order(record.id)
    assert fetched is not None
    assert fetched.created_at == in_seoul
    assert fetched.created_at.tzinfo is UTC
    assert fetched.created_at.hour == 12
    assert fetched.created_at.microsecond == 654321


async def _orders_in_states(repo: SqlOrderRepository) -> dict[OrderState, int]:
    ids: dict[OrderState, int] = {}
    for n, state in enumerate(OrderState):
        record = await repo.record_submitting(
            new_order(f"id-{state}", pending_id=f"p-{state}", created_at=T0 + timedelta(minutes=n))
        )
        if state is not OrderState.SUBMITTING:
            await repo.update_order(record.identifier, OrderFill(state=state))
        ids[state] = record.id
    return ids


async def test_list_not_final_and_final_unannounced(repo: SqlOrderRepository) -> None:
    ids = await _orders_in_states(repo)
    not_final = await repo.list_not_final()
    assert {o.state for o in not_final} == {
        OrderState.SUBMITTING,
        OrderState.WAIT,
        OrderState.WATCH,
    }
    unannounced = await repo.list_final_unannounced()
    assert {o.state for o in unannounced} == {
        OrderState.DONE,
        OrderState.CANCEL,
        OrderState.FAILED,
    }
    await repo.mark_announced(ids[OrderState.DONE], T0)
    left = await repo.list_final_unannounced()
    assert {o.state for o in left} == {OrderState.CANCEL, OrderState.FAILED}


async def test_list_recent_and_all(repo: SqlOrderRepository) -> None:
    for n in range(5):
        user = ALICE if n % 2 == 0 else BOB
        await repo.record_submitting(
            new_order(
                f"o{n}", user_id=user, pending_id=f"p{n}", created_at=T0 + timedelta(seconds=n)
            )
        )
    assert [o.identifier for o in await repo.list_recent(ALICE, 10)] == ["o4", "o2", "o0"]
    assert [o.identifier for o in await repo.list_recent(ALICE, 2)] == ["o4", "o2"]
    assert [o.identifier for o in await repo.list_recent(None, 3)] == ["o4", "o3", "o2"]
    assert await repo.list_recent(4242, 10) == []
    assert [o.identifier for o in await repo.list_all()] == ["o0", "o1", "o2", "o3", "o4"]


# -- announcements ------------------------------------------------------------------

LEASE = timedelta(seconds=30)


async def _final_order(repo: SqlOrderRepository, state: OrderState = OrderState.DONE) -> int:
    record = await repo.record_submitting(new_order())
    await repo.update_order(record.identifier, OrderFill(state=state, uuid="u-1"))
    return record.id


async def test_announcement_needs_a_final_order(repo: SqlOrderRepository) -> None:
    record = await repo.record_submitting(new_order())
    assert await repo.claim_announcement(record.id, T0, LEASE) is None
    await repo.update_order("id-1", OrderFill(state=OrderState.WAIT))
    assert await repo.claim_announcement(record.id, T0, LEASE) is None
    await repo.update_order("id-1", OrderFill(state=OrderState.CANCEL))
    assert await repo.claim_announcement(record.id, T0, LEASE) is not None
    assert await repo.claim_announcement(record.id + 99, T0, LEASE) is None


async def test_announcement_claim_is_leased(repo: SqlOrderRepository) -> None:
    order_id = await _final_order(repo)
    assert await repo.claim_announcement(order_id, T0, LEASE) is not None
    assert await repo.claim_announcement(order_id, T0 + LEASE, LEASE) is None
    later = T0 + LEASE + timedelta(microseconds=1)
    assert await repo.claim_announcement(order_id, later, LEASE) is not None  # owner died
    assert await repo.claim_announcement(order_id, later + LEASE, LEASE) is None


async def test_announced_order_is_never_claimed_again(repo: SqlOrderRepository) -> None:
    order_id = await _final_order(repo)
    assert await repo.claim_announcement(order_id, T0, LEASE) is not None
    await repo.mark_announced(order_id, T0.astimezone(KST) + timedelta(seconds=1))
    record = await repo.get_order(order_id)
    assert record is not None
    assert record.announced_at == T0 + timedelta(seconds=1)
    assert record.announced_at.tzinfo is UTC
    assert await repo.claim_announcement(order_id, T0 + timedelta(days=1), LEASE) is None
    await repo.mark_announced(order_id, T0 + timedelta(days=1))  # the first mark stays
    again = await repo.get_order(order_id)
    assert again is not None
    assert again.announced_at == T0 + timedelta(seconds=1)


async def test_two_processes_claim_one_announcement(
    repo: SqlOrderRepository, second_repo: SqlOrderRepository
) -> None:
    order_id = await _final_order(repo)
    results = await asyncio.gather(
        *(r.claim_announcement(order_id, T0, LEASE) for r in [repo, second_repo] * 10)
    )
    assert sum(r is not None for r in results) == 1


async def test_released_claim_can_be_taken_at_once(
    repo: SqlOrderRepository, second_repo: SqlOrderRepository
) -> None:
    order_id = await _final_order(repo)
    assert await repo.claim_announcement(order_id, T0, LEASE) is not None
    assert await second_repo.claim_announcement(order_id, T0, LEASE) is None
    await repo.release_announcement(order_id, T0)  # sending failed
    assert await second_repo.claim_announcement(order_id, T0, LEASE) is not None
    await second_repo.mark_announced(order_id, T0)
    await repo.release_announcement(order_id, T0)  # too late: it stays announced
    assert await repo.claim_announcement(order_id, T0 + LEASE * 10, LEASE) is None
    assert await repo.list_final_unannounced() == []


async def test_a_late_release_leaves_a_claim_taken_over_since(
    repo: SqlOrderRepository, second_repo: SqlOrderRepository
) -> None:
    order_id = await _final_order(repo)
    assert await repo.claim_announcement(order_id, T0, LEASE) is not None
    later = T0 + LEASE * 2  # the first claim's lease ran out; another process takes over
    assert await second_repo.claim_announcement(order_id, later, LEASE) is not None
    await repo.release_announcement(order_id, T0)  # the first sender gives up, late
    assert await repo.claim_announcement(order_id, later, LEASE) is None  # still B's


async def test_claim_and_record_under_a_crowd_of_presses_writes_one_claim_one_order(
    repo: SqlOrderRepository, second_repo: SqlOrderRepository
) -> None:
    await repo.create_pending(pending())

    def order_for(i: int) -> Callable[[PendingSell], NewOrder]:
        return lambda row: new_order(f"id-{i}", pending_id=row.id, requested_volume=row.volume)

    presses = [
        (repo if i % 2 else second_repo).claim_and_record("p1", ALICE, order_for(i), T0)
        for i in range(12)
    ]
    answers = await asyncio.gather(*presses, return_exceptions=True)
    won = [a for a in answers if not isinstance(a, BaseException) and a[2] is not None]
    assert len(won) == 1
    outcome, claimed, order = won[0]
    assert outcome is ClaimOutcome.CLAIMED and claimed is not None and order is not None
    assert order.pending_id == "p1" and order.state is OrderState.SUBMITTING
    assert [o.identifier for o in await repo.list_all()] == [order.identifier]
    # The losers were told why, or (SQLite) met the write lock: neither wrote anything.
    for answer in answers:
        if not isinstance(answer, BaseException) and answer[2] is None:
            assert answer[0] is ClaimOutcome.ALREADY_CONFIRMED


async def test_claim_and_record_writes_nothing_when_building_the_order_fails(
    repo: SqlOrderRepository,
) -> None:
    await repo.create_pending(pending())

    def broken(_: PendingSell) -> NewOrder:
        raise RuntimeError("no order for this row")

    with pytest.raises(RuntimeError):
        await repo.claim_and_record("p1", ALICE, broken, T0)
    row = await repo.get_pending("p1")
    assert row is not None and row.status is PendingStatus.PENDING  # the claim rolled back
    assert await repo.list_all() == []
