"""Cancelling from /open and the announcement: an order the log declared never created
(and announced as "nothing sold") that turns up open at Upbit has what it sold announced,
once; the hold that keeps the watcher quiet while cancelling is judged by the database's
clock.

Real `OpenOrdersService`, fill watcher, order log (SQLite and PostgreSQL) and Upbit client
against the stand-in; only Telegram is replaced by a recording notifier (the boundary)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.repository import SqlOrderRepository
from bot.domain import FailureKind, OrderFill, OrderRecord, OrderState
from bot.services.announce import ANNOUNCE_LEASE
from bot.services.fills import FillWatcher
from bot.services.open_orders import CancelStatus, OpenOrdersService
from bot.services.upbit_answers import order_fill
from bot.upbit.client import UpbitClient
from bot.upbit.models import Order
from tests.factories import new_order
from tests.standins.upbit import UpbitStandIn


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[OrderRecord] = []

    async def announce(self, order: OrderRecord) -> None:
        self.sent.append(order)


async def _declared_never_created(repo: SqlOrderRepository, identifier: str) -> int:
    record = await repo.record_submitting(
        new_order(
            identifier,
            market="KRW-TST",
            ord_type="limit",
            requested_volume=Decimal(20),
            price=Decimal(1000),
        )
    )
    # Upbit answered order_not_found (eventual consistency) until the watcher gave up...
    after = await repo.record_not_found(identifier, declare_after=1, spread=timedelta(0))
    assert after is not None and after.state is OrderState.FAILED
    assert after.failure is FailureKind.NOT_CREATED
    await repo.mark_announced(record.id)  # ..."Order not found at Upbit" was sent
    return record.id


async def test_cancelling_an_order_declared_never_created_announces_its_fills(
    db_sessions: async_sessionmaker[AsyncSession], upbit_standin: UpbitStandIn
) -> None:
    upbit_standin.add_market("KRW-TST", bids=[(1000, 10), (990, 20)], asks=[(1001, 10)])
    upbit_standin.set_account("TST", balance=40, avg_buy_price=900)
    repo = SqlOrderRepository(db_sessions)
    order_id = await _declared_never_created(repo, "usb-turned-up")
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as client:
        # ...yet the order exists at Upbit: 10 sold at once, 10 resting.
        placed = await client.limit_sell("KRW-TST", Decimal(20), Decimal(1000), "usb-turned-up")
        result = await OpenOrdersService(client, repo).cancel(
            placed.uuid, user_id=1001, chat_id=1001, lang="en"
        )
        assert result.status is CancelStatus.CANCELLED
        notifier = RecordingNotifier()
        watcher = FillWatcher(client, repo, notifier)
        await watcher.sweep()
        await watcher.sweep()
    record = await repo.get_order(order_id)
    assert record is not None
    assert record.state is OrderState.CANCEL and record.failure is None
    assert record.uuid == placed.uuid and record.executed_volume == Decimal(10)
    # The fills were announced, once, by the watcher.
    assert [o.id for o in notifier.sent] == [order_id]
    assert notifier.sent[0].executed_volume == Decimal(10)
    assert record.announced_at is not None


async def test_a_failed_order_is_not_overwritten_by_a_fill(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Writing fills over a FAILED row would keep its "nothing sold" announcement: only
    # revive_order (which clears it) may bring such an order back.
    repo = SqlOrderRepository(db_sessions)
    order_id = await _declared_never_created(repo, "usb-failed-stays")
    fill = OrderFill(state=OrderState.CANCEL, uuid="u-late", executed_volume=Decimal(5))
    kept = await repo.update_order("usb-failed-stays", fill)
    assert kept.state is OrderState.FAILED and kept.executed_volume == 0
    revived = await repo.revive_order("usb-failed-stays", fill)
    assert revived is not None and revived.id == order_id
    assert revived.state is OrderState.CANCEL and revived.executed_volume == Decimal(5)
    assert revived.announced_at is None


class CancelSeenByTheWatcher:
    """The real client; when the DELETE is accepted, the fill watcher (another process, by
    the database's clock) stores the cancel and tries to announce it, as Upbit's cancel
    event makes it do."""

    def __init__(self, client: UpbitClient, repo: SqlOrderRepository, identifier: str) -> None:
        self._client = client
        self._repo = repo
        self._identifier = identifier
        self.is_paper = False
        self.watcher_claimed: datetime | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def cancel_order(self, *, uuid: str) -> Order:
        order = await self._client.cancel_order(uuid=uuid)
        record = await self._repo.update_order(
            self._identifier, order_fill(await self._client.get_order(uuid=uuid))
        )
        self.watcher_claimed = await self._repo.claim_announcement(record.id, None, ANNOUNCE_LEASE)
        return order


async def test_cancel_holds_the_announcement_by_the_databases_clock(
    db_sessions: async_sessionmaker[AsyncSession], upbit_standin: UpbitStandIn
) -> None:
    # This machine's clock runs ten minutes behind the database's: a hold stamped by it
    # would look long expired to every other process, which would announce the cancel too.
    upbit_standin.add_market("KRW-TST", bids=[(1000, 10), (990, 20)], asks=[(1001, 10)])
    upbit_standin.set_account("TST", balance=40, avg_buy_price=900)
    repo = SqlOrderRepository(db_sessions)
    await repo.record_submitting(
        new_order("usb-held", market="KRW-TST", ord_type="limit", price=Decimal(2000))
    )
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as client:
        placed = await client.limit_sell("KRW-TST", Decimal(10), Decimal(2000), "usb-held")
        exchange = CancelSeenByTheWatcher(client, repo, "usb-held")
        behind = datetime.now(UTC) - timedelta(minutes=10)
        service = OpenOrdersService(exchange, repo, clock=lambda: behind)
        result = await service.cancel(placed.uuid, user_id=1001, chat_id=1001, lang="en")
    assert result.status is CancelStatus.CANCELLED
    assert exchange.watcher_claimed is None  # the hold stood: the watcher stayed quiet
    record = await repo.get_order_by_identifier("usb-held")
    assert record is not None and record.state is OrderState.CANCEL
    assert record.announced_at is not None  # nothing sold: the /open reply said it all
