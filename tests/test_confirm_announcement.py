"""Who announces an order that is already final when Confirm returns: the fill watcher,
with the fill notice, exactly once; the Confirm reply only says the order was placed.

Real sell service, fill watcher, order log and Upbit client against the Upbit stand-in
(or the paper exchange on its public prices); only Telegram is replaced by a recording
notifier (the boundary)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.paper import SqlPaperBalances
from bot.db.repository import SqlOrderRepository
from bot.domain import OrderRecord, OrderState
from bot.paper import PaperExchange
from bot.services.fills import FillWatcher
from bot.services.ports import Exchange
from bot.services.sell import ConfirmStatus, SellService
from bot.telegram import render
from bot.upbit.client import UpbitClient
from tests.standins.upbit import UpbitStandIn

OWNER = 1001


class RecordingNotifier:
    def __init__(self) -> None:
        self.sent: list[OrderRecord] = []

    async def announce(self, order: OrderRecord) -> None:
        self.sent.append(order)


def _market(upbit: UpbitStandIn) -> None:
    upbit.add_market("KRW-TST", bids=[(1000, 10), (990, 20)], asks=[(1001, 10)])
    upbit.set_account("TST", balance=40, avg_buy_price=900)


async def _confirm_and_reply(
    exchange: Exchange, repo: SqlOrderRepository
) -> tuple[OrderRecord, list[str], RecordingNotifier]:
    """Preview, Confirm and the Confirm reply, then two of the fill watcher's sweeps."""
    sell = SellService(exchange, repo, confirm_timeout=timedelta(seconds=60), lookup_delays=(0,))
    preview = await sell.preview(["tst", "25%"], user_id=OWNER, chat_id=OWNER, lang="en")
    result = await sell.confirm(preview.pending_id, OWNER)
    assert result.status is ConfirmStatus.PLACED and result.order is not None
    replies: list[str] = []

    async def reply() -> None:
        replies.append(render.confirm_outcome("en", result))

    await sell.deliver_outcome(result, reply)
    notifier = RecordingNotifier()
    watcher = FillWatcher(exchange, repo, notifier)
    await watcher.sweep()
    await watcher.sweep()
    record = await repo.get_order(result.order.id)
    assert record is not None
    return record, replies, notifier


async def test_order_found_done_after_a_lost_answer_gets_its_fill_notice(
    db_sessions: async_sessionmaker[AsyncSession], upbit_standin: UpbitStandIn
) -> None:
    # Upbit creates (and fills) the market sell, then the answer is lost: the lookup by
    # identifier finds it done, so Confirm returns PLACED with a final order.
    _market(upbit_standin)
    upbit_standin.fail_next("POST", "/v1/orders", "drop_after_create")
    repo = SqlOrderRepository(db_sessions)
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as client:
        record, replies, notifier = await _confirm_and_reply(client, repo)
        # (Confirm returned the order already final: its reply must not take the notice's place.)
    assert record.state is OrderState.DONE and record.executed_volume == Decimal(10)
    assert len(upbit_standin.requests_to("POST", "/v1/orders")) == 1
    assert len(replies) == 1 and "Order placed" in replies[0]
    # The fill notice went out, once, and the order is marked announced.
    assert [o.id for o in notifier.sent] == [record.id]
    assert "Sold" in render.fill_notice("en", notifier.sent[0])
    assert record.announced_at is not None


async def test_paper_fill_at_confirm_gets_its_fill_notice(
    db_sessions: async_sessionmaker[AsyncSession], upbit_standin: UpbitStandIn
) -> None:
    # Paper mode fills a market sell the moment it is placed; the Confirm reply says it
    # was placed and the watcher sends the fill notice, once.
    _market(upbit_standin)
    paper = PaperExchange.create(
        upbit_standin.url, SqlPaperBalances(db_sessions), {"KRW": Decimal(0), "TST": Decimal(40)}
    )
    repo = SqlOrderRepository(db_sessions)
    try:
        record, replies, notifier = await _confirm_and_reply(paper, repo)
    finally:
        await paper.aclose()
    assert record.paper and record.state is OrderState.DONE
    assert len(replies) == 1 and "Order placed" in replies[0]
    assert [o.id for o in notifier.sent] == [record.id]
    assert record.announced_at is not None
