"""Order log rules added by the sell flow: a final state never moves back, and a refusal can
be recorded and marked announced in one write."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.db.repository import SqlOrderRepository
from bot.domain import OrderFill, OrderState
from tests.factories import new_order


async def test_a_final_state_never_moves_back(db_sessions):
    repo = SqlOrderRepository(db_sessions)
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


async def test_failure_and_announcement_in_one_write(db_sessions):
    repo = SqlOrderRepository(db_sessions)
    await repo.record_submitting(new_order("usb-b"))
    now = datetime.now(UTC)
    failed = await repo.update_order(
        "usb-b", OrderFill(state=OrderState.FAILED, error="insufficient", announced_at=now)
    )
    assert failed.announced_at == now
    assert [o.identifier for o in await repo.list_final_unannounced()] == []


async def test_only_an_order_still_submitting_can_fail(db_sessions):
    repo = SqlOrderRepository(db_sessions)
    await repo.record_submitting(new_order("usb-c"))
    await repo.update_order("usb-c", OrderFill(state=OrderState.DONE, uuid="u-c"))
    # A sweep that saw the row while it was still submitting, and then a 404, comes late.
    late = await repo.update_order("usb-c", OrderFill(state=OrderState.FAILED, error="late"))
    assert late.state is OrderState.DONE
    assert late.last_error is None


async def test_claim_returns_the_claimed_preview_once(db_sessions):
    from datetime import timedelta

    from bot.domain import ClaimOutcome, NewPendingSell, PendingStatus

    repo = SqlOrderRepository(db_sessions)
    now = datetime.now(UTC)
    await repo.create_pending(
        NewPendingSell(
            "pending-row-1",
            7,
            70,
            "KRW-ETH",
            Decimal("0.5"),
            "ko",
            now,
            now + timedelta(seconds=60),
        )
    )
    outcome, pending = await repo.claim_pending_row("pending-row-1", 7, now)
    assert outcome is ClaimOutcome.CLAIMED
    assert pending is not None
    assert (pending.market, pending.volume, pending.chat_id, pending.lang) == (
        "KRW-ETH",
        Decimal("0.5"),
        70,
        "ko",
    )
    assert pending.status is PendingStatus.CLAIMED
    again, none = await repo.claim_pending_row("pending-row-1", 7, now)
    assert (again, none) == (ClaimOutcome.ALREADY_CONFIRMED, None)
