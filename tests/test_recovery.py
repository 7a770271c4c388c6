"""Crash recovery at the service level: the real fill watcher, the real order log (SQLite and
PostgreSQL), the real Upbit client against the Upbit stand-in. Only Telegram is replaced, by
a notifier that records what it was asked to send (the boundary, not the thing under test).

The states a crash can leave behind (an order row is written before its POST; an
announcement is claimed before it is sent and marked after):
* an order row SUBMITTING whose POST did reach Upbit before the process died;
* an order row SUBMITTING whose POST never left (Upbit has no such order);
* a final order whose announcement was claimed, maybe sent, but never marked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.db.models import OrderRow
from bot.db.repository import SqlOrderRepository
from bot.domain import FailureKind, OrderRecord, OrderState
from bot.services.announce import Announcer
from bot.services.fills import FillWatcher
from bot.services.upbit_answers import order_fill
from bot.telegram import render
from bot.upbit.client import UpbitClient
from tests.factories import new_order

pytestmark = pytest.mark.usefixtures("upbit_standin")


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[OrderRecord] = []

    async def announce(self, order: OrderRecord) -> None:
        self.sent.append(order)


@pytest.fixture
async def client(upbit_standin):
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as upbit:
        yield upbit


async def test_submitting_order_that_reached_upbit_is_adopted_and_announced_once(
    db_sessions, client, upbit_standin
):
    repo = SqlOrderRepository(db_sessions)
    now = datetime.now(UTC)
    await repo.record_submitting(new_order("usb-crashed-after-post", created_at=now))
    # The POST went out just before the crash: Upbit has the order (and filled it).
    await client.sell_market("KRW-BTC", Decimal("0.01"), "usb-crashed-after-post")

    notifier = RecordingNotifier()
    watcher = FillWatcher(client, repo, notifier, clock=lambda: now + timedelta(seconds=5))
    await watcher.sweep()
    await watcher.sweep()  # a second sweep (or a second start) announces nothing more

    record = await repo.get_order_by_identifier("usb-crashed-after-post")
    assert record is not None
    assert record.state is OrderState.DONE
    assert record.uuid == upbit_standin.order_by_identifier("usb-crashed-after-post").uuid
    assert record.announced_at is not None
    assert [o.identifier for o in notifier.sent] == ["usb-crashed-after-post"]
    assert len(upbit_standin.requests_to("POST", "/v1/orders")) == 1  # never re-sent


async def _age_not_found_evidence(db_sessions, identifier: str, by: timedelta) -> None:
    """Let time pass for the not-found evidence (its first answer moves back by ``by``)."""
    async with db_sessions() as session, session.begin():
        row = await session.scalar(select(OrderRow).where(OrderRow.identifier == identifier))
        assert row is not None and row.first_not_found_at is not None
        row.first_not_found_at -= by


async def test_submitting_order_unknown_to_upbit_is_declared_only_on_repeated_evidence(
    db_sessions, client, upbit_standin
):
    repo = SqlOrderRepository(db_sessions)
    await repo.record_submitting(new_order("usb-crashed-before-post"))
    notifier = RecordingNotifier()
    watcher = FillWatcher(client, repo, notifier, unknown_grace=timedelta(minutes=5))

    # Three of Upbit's JSON order_not_found answers within moments prove nothing yet: the
    # order may not have propagated.
    for _ in range(3):
        await watcher.sweep()
    record = await repo.get_order_by_identifier("usb-crashed-before-post")
    assert record is not None and record.state is OrderState.SUBMITTING
    assert record.not_found_count == 3
    assert notifier.sent == []

    # The same answers spread over five minutes or more do.
    await _age_not_found_evidence(db_sessions, "usb-crashed-before-post", timedelta(minutes=5))
    await watcher.sweep()
    record = await repo.get_order_by_identifier("usb-crashed-before-post")
    assert record is not None and record.state is OrderState.FAILED
    assert record.failure is FailureKind.NOT_CREATED
    assert [o.state for o in notifier.sent] == [OrderState.FAILED]
    assert upbit_standin.requests_to("POST", "/v1/orders") == []  # nothing was ever sent
    # What the user reads never claims that nothing was sold.
    text = render.fill_notice("en", notifier.sent[0])
    assert "Nothing was sold" not in text and "keep looking" in text


async def test_html_or_bare_404_is_no_evidence_that_an_order_does_not_exist(
    db_sessions, client, upbit_standin
):
    repo = SqlOrderRepository(db_sessions)
    await repo.record_submitting(new_order("usb-behind-a-proxy"))
    watcher = FillWatcher(client, repo, RecordingNotifier(), unknown_grace=timedelta(0))
    # A proxy's HTML 404 page, three times: an order is never declared on those.
    upbit_standin.fail_next("GET", "/v1/order", "502", times=3, status=404)
    for _ in range(3):
        await watcher.sweep()
    record = await repo.get_order_by_identifier("usb-behind-a-proxy")
    assert record is not None and record.state is OrderState.SUBMITTING
    assert record.not_found_count == 0


async def test_order_declared_never_created_that_turns_up_is_followed_and_announced(
    db_sessions, client, upbit_standin
):
    repo = SqlOrderRepository(db_sessions)
    await repo.record_submitting(new_order("usb-late-order"))
    notifier = RecordingNotifier()
    watcher = FillWatcher(
        client, repo, notifier, unknown_grace=timedelta(minutes=5), recheck_interval=0
    )
    for _ in range(3):
        await watcher.sweep()
    await _age_not_found_evidence(db_sessions, "usb-late-order", timedelta(minutes=6))
    await watcher.sweep()
    assert [o.state for o in notifier.sent] == [OrderState.FAILED]

    # Upbit had it after all (a lagging replica): the next look finds it, filled.
    await client.sell_market("KRW-BTC", Decimal("0.01"), "usb-late-order")
    await watcher.sweep()
    record = await repo.get_order_by_identifier("usb-late-order")
    assert record is not None and record.state is OrderState.DONE
    assert record.failure is None and record.announced_at is not None
    assert [o.state for o in notifier.sent] == [OrderState.FAILED, OrderState.DONE]


async def test_claimed_but_unmarked_announcement_is_taken_over_after_the_lease(
    db_sessions, client
):
    repo = SqlOrderRepository(db_sessions)
    t0 = datetime.now(UTC)
    order = await client.sell_market("KRW-BTC", Decimal("0.01"), "usb-announce-crash")
    await repo.record_submitting(new_order("usb-announce-crash", created_at=t0))
    filled = await client.get_order(uuid=order.uuid)
    record = await repo.update_order("usb-announce-crash", order_fill(filled))
    lease = timedelta(seconds=60)
    # A process claimed the announcement, (maybe) sent it, and died before marking it.
    assert await repo.claim_announcement(record.id, t0, lease)

    notifier = RecordingNotifier()
    clock_now = t0 + timedelta(seconds=10)
    watcher = FillWatcher(
        client,
        repo,
        notifier,
        announcer=Announcer(repo, lease=lease, clock=lambda: clock_now),
        clock=lambda: clock_now,
    )
    await watcher.sweep()
    assert notifier.sent == []  # the claim is still live: someone may be sending right now

    clock_now = t0 + timedelta(seconds=61)
    await watcher.sweep()
    await watcher.sweep()
    assert [o.identifier for o in notifier.sent] == ["usb-announce-crash"]  # at most one repeat
    final = await repo.get_order(record.id)
    assert final is not None and final.announced_at is not None
