"""Order log: limit terms are kept on previews and orders; an order placed elsewhere is
adopted once (a second adoption of the same uuid returns the first row)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.db.repository import SqlOrderRepository
from bot.domain import NewPendingSell, OrderState
from tests.factories import new_order


async def test_limit_terms_round_trip(db_sessions):
    repo = SqlOrderRepository(db_sessions)
    now = datetime.now(UTC)
    pending = await repo.create_pending(
        NewPendingSell(
            "pending-lim-1",
            1001,
            1001,
            "KRW-BTC",
            Decimal("0.05"),
            "en",
            now,
            now + timedelta(seconds=60),
            ord_type="limit",
            price=Decimal("101000000"),
            time_in_force="ioc",
            slip_percent=Decimal("1.5"),
        )
    )
    stored = await repo.get_pending(pending.id)
    assert stored is not None
    assert (stored.ord_type, stored.price, stored.time_in_force, stored.slip_percent) == (
        "limit",
        Decimal("101000000"),
        "ioc",
        Decimal("1.5"),
    )
    record = await repo.record_submitting(
        new_order("usb-lim", ord_type="limit", price=Decimal("0.00000873"), time_in_force="ioc")
    )
    assert record.price == Decimal("0.00000873")
    assert record.time_in_force == "ioc"


async def test_adopting_an_outside_order_once(db_sessions):
    repo = SqlOrderRepository(db_sessions)
    first = await repo.adopt_order(new_order("ext-u1", ord_type="limit"), "u1")
    again = await repo.adopt_order(new_order("ext-u1-again", ord_type="limit"), "u1")
    assert first.state is OrderState.WAIT
    assert again.id == first.id
    assert [o.uuid for o in await repo.list_not_final()] == ["u1"]


async def test_holding_an_announcement_while_cancelling(db_sessions):
    from bot.domain import OrderFill

    repo = SqlOrderRepository(db_sessions)
    order = await repo.adopt_order(new_order("ext-u2", ord_type="limit"), "u2")
    now = datetime.now(UTC)
    lease = timedelta(seconds=60)
    assert await repo.hold_announcement(order.id, now, lease)  # not final yet: still held
    await repo.update_order("ext-u2", OrderFill(state=OrderState.CANCEL))
    # The watcher, seeing the final state, cannot announce while the hold lasts.
    assert not await repo.claim_announcement(order.id, now + timedelta(seconds=1), lease)
    assert not await repo.hold_announcement(order.id, now + timedelta(seconds=1), lease)
    await repo.release_announcement(order.id, now)
    assert await repo.claim_announcement(order.id, now + timedelta(seconds=2), lease)
