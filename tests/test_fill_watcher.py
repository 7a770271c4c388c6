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


def test_unknown_upbit_states_keep_an_order_watched():
    assert OrderState.from_upbit("trade") is OrderState.WAIT
    assert OrderState.from_upbit("something_new") is OrderState.WAIT
    # "prevented": self-trade prevention cut part of the order, which goes on (not final).
    assert OrderState.from_upbit("prevented") is OrderState.WAIT
    assert OrderState.from_upbit("done") is OrderState.DONE
