"""Fill watcher rules at the service level: the real watcher and order log (SQLite and
PostgreSQL), the real Upbit client against the stand-in; only Telegram is replaced by a
notifier double (the boundary)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.db.repository import SqlOrderRepository
from bot.domain import OrderRecord, OrderState
from bot.services.announce import Announcer, NoticeUndeliverable
from bot.services.fills import FillWatcher
from bot.services.upbit_answers import created, order_fill
from bot.telegram import render
from bot.upbit.client import UpbitClient
from bot.upbit.models import Order
from tests.factories import new_order


@pytest.fixture
async def client(upbit_standin):
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as upbit:
        yield upbit


async def _filled_order(repo: SqlOrderRepository, client: UpbitClient, identifier: str) -> int:
    await repo.record_submitting(new_order(identifier, user_id=1, chat_id=1))
    order = await client.sell_market("KRW-BTC", Decimal("0.01"), identifier)
    record = await repo.update_order(
        identifier, order_fill(await client.get_order(uuid=order.uuid))
    )
    assert record.state is OrderState.DONE
    return record.id


class SlowNotifier:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = 0

    async def announce(self, order: OrderRecord) -> None:
        self.started += 1
        await asyncio.sleep(self.seconds)


class BlockedNotifier:
    def __init__(self) -> None:
        self.attempts = 0

    async def announce(self, order: OrderRecord) -> None:
        self.attempts += 1
        raise NoticeUndeliverable("Forbidden")


async def test_a_send_that_outlives_half_the_lease_is_given_up_and_released(db_sessions, client):
    repo = SqlOrderRepository(db_sessions)
    order_id = await _filled_order(repo, client, "usb-slow-send")
    notifier = SlowNotifier(seconds=5)
    watcher = FillWatcher(
        client, repo, notifier, announcer=Announcer(repo, lease=timedelta(seconds=1))
    )
    started = asyncio.get_running_loop().time()
    await watcher.sweep()
    assert asyncio.get_running_loop().time() - started < 2  # not the 5 s of the send
    record = await repo.get_order(order_id)
    assert record is not None and record.announced_at is None
    # Released at once: the next claim need not wait for the lease to run out.
    assert await repo.claim_announcement(order_id, datetime.now(UTC), timedelta(minutes=5))


async def test_an_undeliverable_notice_is_given_up_not_retried_forever(db_sessions, client):
    repo = SqlOrderRepository(db_sessions)
    order_id = await _filled_order(repo, client, "usb-blocked-chat")
    notifier = BlockedNotifier()
    watcher = FillWatcher(client, repo, notifier)
    await watcher.sweep()
    await watcher.sweep()
    assert notifier.attempts == 1
    record = await repo.get_order(order_id)
    assert record is not None and record.announced_at is not None
    # Recorded as undeliverable (not silently "announced"), and /orders says so.
    assert record.undeliverable
    assert "notice not delivered" in render.orders("en", [record], UTC)


class StuckLookups:
    """The real client, except that looking up one identifier never gets an answer."""

    def __init__(self, client: UpbitClient, stuck: str) -> None:
        self._client = client
        self._stuck = stuck
        self.is_paper = False

    async def get_order(self, *, uuid: str | None = None, identifier: str | None = None) -> Order:
        if identifier == self._stuck:
            await asyncio.Event().wait()
        return await self._client.get_order(uuid=uuid, identifier=identifier)

    async def orders_by_uuids(self, uuids: list[str]) -> list[Order]:
        return await self._client.orders_by_uuids(uuids)


async def test_one_stuck_lookup_never_holds_the_other_orders(db_sessions, client, upbit_standin):
    repo = SqlOrderRepository(db_sessions)
    await repo.record_submitting(new_order("usb-stuck"))
    await repo.record_submitting(new_order("usb-fine"))
    await client.sell_market("KRW-BTC", Decimal("0.01"), "usb-fine")
    notifier = RecordingNotifier()
    watcher = FillWatcher(
        StuckLookups(client, "usb-stuck"),  # type: ignore[arg-type]
        repo,
        notifier,
        lookup_timeout=0.5,
    )
    # Bounded only against a hang of the test itself; the per-order limit ends it sooner.
    await asyncio.wait_for(watcher.sweep(), 30)
    fine = await repo.get_order_by_identifier("usb-fine")
    stuck = await repo.get_order_by_identifier("usb-stuck")
    assert fine is not None and fine.state is OrderState.DONE
    assert [o.identifier for o in notifier.sent] == ["usb-fine"]
    assert stuck is not None and stuck.state is OrderState.SUBMITTING


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[OrderRecord] = []

    async def announce(self, order: OrderRecord) -> None:
        self.sent.append(order)


def test_the_answer_to_the_post_never_makes_an_order_final():
    # Upbit's 201 carries no trades: even a "done" must wait for GET /v1/order's figures.
    answer = Order.from_json(
        {
            "uuid": "u-1",
            "identifier": "usb-1",
            "market": "KRW-BTC",
            "side": "ask",
            "ord_type": "market",
            "state": "done",
            "volume": "0.1",
            "remaining_volume": "0",
            "executed_volume": "0.1",
            "paid_fee": "0",
            "locked": "0",
            "trades_count": 0,
            "created_at": "2026-12-02T17:00:00+09:00",
        }
    )
    fill = created(answer)
    assert fill.state is OrderState.WAIT
    assert fill.uuid == "u-1"
    assert fill.executed_volume is None and fill.gross_funds is None


class TradesLateOnce:
    """The real client, except that the first lookup answers "done" without its trades
    (as a lagging replica might)."""

    def __init__(self, client: UpbitClient) -> None:
        self._client = client
        self.is_paper = False
        self.lookups = 0

    async def get_order(self, *, uuid: str | None = None, identifier: str | None = None) -> Order:
        order = await self._client.get_order(uuid=uuid, identifier=identifier)
        self.lookups += 1
        if self.lookups == 1:
            raw = {**order.raw, "trades": [], "trades_count": 0}
            return Order.from_json(raw)
        return order

    async def orders_by_uuids(self, uuids: list[str]) -> list[Order]:
        return await self._client.orders_by_uuids(uuids)


async def test_done_without_trades_is_read_again_never_announced_as_zero(db_sessions, client):
    repo = SqlOrderRepository(db_sessions)
    await repo.record_submitting(new_order("usb-trades-late"))
    await client.sell_market("KRW-BTC", Decimal("0.01"), "usb-trades-late")
    notifier = RecordingNotifier()
    exchange = TradesLateOnce(client)
    watcher = FillWatcher(exchange, repo, notifier)  # type: ignore[arg-type]
    await watcher.sweep()
    record = await repo.get_order_by_identifier("usb-trades-late")
    assert record is not None and not record.state.is_final
    assert notifier.sent == []
    await watcher.sweep()
    assert [o.state for o in notifier.sent] == [OrderState.DONE]
    assert notifier.sent[0].gross_funds is not None and notifier.sent[0].gross_funds > 0


def test_unknown_upbit_states_keep_an_order_watched():
    assert OrderState.from_upbit("trade") is OrderState.WAIT
    assert OrderState.from_upbit("something_new") is OrderState.WAIT
    # "prevented": self-trade prevention cut part of the order, which goes on (not final).
    assert OrderState.from_upbit("prevented") is OrderState.WAIT
    assert OrderState.from_upbit("done") is OrderState.DONE


async def test_resting_orders_are_read_a_hundred_at_a_time(db_sessions, client, upbit_standin):
    # 150 resting limit sells: one sweep asks Upbit with two batched calls, and only the
    # orders that moved are then read alone (for their trades) and announced.
    upbit_standin.set_account("BTC", balance=Decimal(10), avg_buy_price=Decimal(90_000_000))
    upbit_standin.rate_limits["order"] = 10_000  # placing the 150 is not what is measured
    repo = SqlOrderRepository(db_sessions)
    price = Decimal(200_000_000)
    uuids: list[str] = []
    for i in range(150):
        identifier = f"usb-rest-{i}"
        await repo.record_submitting(new_order(identifier, ord_type="limit", price=price))
        order = await client.limit_sell("KRW-BTC", Decimal("0.001"), price, identifier)
        await repo.update_order(identifier, created(order))
        uuids.append(order.uuid)
    notifier = RecordingNotifier()
    watcher = FillWatcher(client, repo, notifier)
    upbit_standin.clear_requests()
    await watcher.sweep()
    assert len(upbit_standin.requests_to("GET", "/v1/orders/uuids")) == 2
    assert upbit_standin.requests_to("GET", "/v1/order") == []
    assert notifier.sent == []

    upbit_standin.cancel_order(uuids[3])  # e.g. cancelled in Upbit's app
    upbit_standin.cancel_order(uuids[120])
    upbit_standin.clear_requests()
    await watcher.sweep()
    assert len(upbit_standin.requests_to("GET", "/v1/orders/uuids")) == 2
    singles = upbit_standin.requests_to("GET", "/v1/order")
    assert sorted(r.query["uuid"][0] for r in singles) == sorted([uuids[3], uuids[120]])
    assert sorted(o.uuid or "" for o in notifier.sent) == sorted([uuids[3], uuids[120]])
    assert all(o.state is OrderState.CANCEL for o in notifier.sent)
