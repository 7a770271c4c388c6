"""What Confirm reads from Upbit between the press and the POST: nothing it can vouch for
already (a balance the private stream kept current, a book read in the last two seconds),
and what it cannot vouch for, read at the press.

Real sell service, real SQLite order log, real Upbit client against the stand-in; the
private stream's ``myAsset`` events are fed to the `BalanceBook` by hand (the stream itself
is covered in test_upbit_ws.py) so each case is decided by the test, not by timing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import bot.services.sell as sell_module
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade_to_head_async
from bot.db.repository import SqlOrderRepository
from bot.domain import PendingStatus
from bot.services.press import BalanceBook, BalanceTap, BookKeeper
from bot.services.sell import ConfirmStatus, SellService
from bot.upbit.client import UpbitClient
from bot.upbit.models import MyAssetEvent, MyOrderEvent, OrderChance
from tests.standins.upbit import UpbitStandIn

OWNER = 1001


@dataclass
class Setup:
    sell: SellService
    repo: SqlOrderRepository
    balances: BalanceBook
    upbit: UpbitStandIn
    client: UpbitClient

    def other_process(self) -> SellService:
        """A second process on the same database: it never saw the preview."""
        return SellService(
            self.client, self.repo, confirm_timeout=timedelta(seconds=60), lookup_delays=(0.01,)
        )


@pytest.fixture
async def setup(upbit_standin: UpbitStandIn, tmp_path: Path) -> AsyncIterator[Setup]:
    url = f"sqlite:///{tmp_path}/press.db"
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    client = UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    )
    repo = SqlOrderRepository(create_sessionmaker(engine))
    balances = BalanceBook()
    sell = SellService(
        client,
        repo,
        confirm_timeout=timedelta(seconds=60),
        lookup_delays=(0.01,),
        balances=balances,
        # No background reads during a test: each case decides how old the book is.
        books=BookKeeper(client.orderbooks, interval=3600),
    )
    try:
        yield Setup(sell, repo, balances, upbit_standin, client)
    finally:
        await client.aclose()
        await engine.dispose()


def stream_delivering(balances: BalanceBook) -> None:
    """The private stream is up and has shown it delivers (an event arrived)."""
    balances.stream_state(True)
    balances.assets([("KRW", Decimal(1_000_000))])


def reads_since(upbit: UpbitStandIn, mark: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in upbit.requests[mark:]]


async def preview(s: Setup, *args: str) -> str:
    shown = await s.sell.preview(list(args), user_id=OWNER, chat_id=OWNER, lang="en")
    return shown.pending_id


async def test_a_press_with_a_vouched_balance_and_a_fresh_book_sends_only_the_order(
    setup: Setup,
) -> None:
    stream_delivering(setup.balances)
    pending_id = await preview(setup, "BTC", "50%")
    mark = len(setup.upbit.requests)

    result = await setup.sell.confirm(pending_id, OWNER)

    assert result.status is ConfirmStatus.PLACED
    assert reads_since(setup.upbit, mark)[0] == "POST /v1/orders"
    assert "GET /v1/orders/chance" not in reads_since(setup.upbit, mark)
    assert "GET /v1/orderbook" not in reads_since(setup.upbit, mark)


async def test_a_balance_fall_told_by_the_stream_refuses_the_press_without_a_read(
    setup: Setup,
) -> None:
    stream_delivering(setup.balances)
    pending_id = await preview(setup, "BTC", "0.05")
    setup.balances.assets([("BTC", Decimal("0.01"))])  # sold elsewhere meanwhile
    mark = len(setup.upbit.requests)

    result = await setup.sell.confirm(pending_id, OWNER)

    assert result.status is ConfirmStatus.REFUSED and result.reason == "balance_changed"
    assert result.params is not None and result.params["available"] == Decimal("0.01")
    assert reads_since(setup.upbit, mark) == []  # no read, and nothing sent
    # Nothing was claimed: the preview is cancelled, so a second press says so.
    pending = await setup.repo.get_pending(pending_id)
    assert pending is not None and pending.status is PendingStatus.CANCELLED
    assert await setup.sell.press_refusal(pending_id, OWNER) == "claim_cancelled"
    assert await setup.repo.list_all() == []


async def test_a_break_in_the_stream_since_the_preview_means_the_balance_is_read(
    setup: Setup,
) -> None:
    stream_delivering(setup.balances)
    pending_id = await preview(setup, "BTC", "0.05")
    # The stream dropped and came back: events may have been missed while it was down.
    setup.balances.stream_state(False)
    setup.upbit.set_account("BTC", balance="0.02")  # withdrawn while it was down
    setup.balances.stream_state(True)
    mark = len(setup.upbit.requests)

    result = await setup.sell.confirm(pending_id, OWNER)

    assert result.reason == "balance_changed"
    assert "GET /v1/orders/chance" in reads_since(setup.upbit, mark)
    assert "POST /v1/orders" not in reads_since(setup.upbit, mark)


async def test_without_a_delivering_stream_the_balance_is_read_at_the_press(
    setup: Setup,
) -> None:
    setup.balances.stream_state(True)  # up, but no event has ever arrived
    pending_id = await preview(setup, "BTC", "50%")
    mark = len(setup.upbit.requests)

    result = await setup.sell.confirm(pending_id, OWNER)

    assert result.status is ConfirmStatus.PLACED
    assert reads_since(setup.upbit, mark)[:2] == ["GET /v1/orders/chance", "POST /v1/orders"]


async def test_a_book_older_than_allowed_is_read_again_at_the_press(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream_delivering(setup.balances)
    pending_id = await preview(setup, "BTC", "0.1")
    monkeypatch.setattr(sell_module, "BOOK_MAX_AGE", 0.0)  # every book kept is too old now
    setup.upbit.set_orderbook("KRW-BTC", bids=[(95_000_000 - i * 10_000, 1) for i in range(30)])
    mark = len(setup.upbit.requests)

    result = await setup.sell.confirm(pending_id, OWNER)

    assert result.reason == "price_dropped"
    assert reads_since(setup.upbit, mark)[0] == "GET /v1/orderbook"
    assert "POST /v1/orders" not in reads_since(setup.upbit, mark)


async def test_a_press_reaching_another_process_reads_what_it_needs(setup: Setup) -> None:
    stream_delivering(setup.balances)
    pending_id = await preview(setup, "BTC", "50%")
    mark = len(setup.upbit.requests)

    result = await setup.other_process().confirm(pending_id, OWNER)

    assert result.status is ConfirmStatus.PLACED
    reads = reads_since(setup.upbit, mark)
    post = reads.index("POST /v1/orders")
    assert sorted(reads[:post]) == ["GET /v1/orderbook", "GET /v1/orders/chance"]
    (order,) = await setup.repo.list_all()
    assert order.avg_buy_price == setup.upbit.account("BTC").avg_buy_price  # type: ignore[union-attr]


class SlowChance(UpbitClient):
    """The real client whose order-chance read takes ``delay`` (a busy Upbit, a 429 wait)."""

    delay = 0.0

    async def order_chance(self, market: str) -> OrderChance:
        await asyncio.sleep(self.delay)
        return await super().order_chance(market)


async def test_a_book_that_aged_while_the_balance_was_read_is_read_again(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowChance(setup.upbit.access_key, setup.upbit.secret_key, base_url=setup.upbit.url)
    sell = SellService(
        slow,
        setup.repo,
        confirm_timeout=timedelta(seconds=60),
        books=BookKeeper(slow.orderbooks, interval=3600),
    )
    try:
        shown = await sell.preview(["BTC", "0.1"], user_id=OWNER, chat_id=OWNER, lang="en")
        # Young enough at the press, too old once the balance (read at the press) came.
        slow.delay = 1.0
        monkeypatch.setattr(sell_module, "BOOK_MAX_AGE", 0.5)
        setup.upbit.set_orderbook(
            "KRW-BTC", bids=[(95_000_000 - i * 10_000, 1) for i in range(30)]
        )
        mark = len(setup.upbit.requests)

        result = await sell.confirm(shown.pending_id, OWNER)

        assert result.reason == "price_dropped"
        reads = reads_since(setup.upbit, mark)
        # Not read at the press (young enough then); read again once the balance came back.
        assert reads[:2] == ["GET /v1/orders/chance", "GET /v1/orderbook"]
        assert "POST /v1/orders" not in reads
    finally:
        await slow.aclose()


async def test_a_press_that_cannot_claim_makes_no_fresh_preview(setup: Setup) -> None:
    stream_delivering(setup.balances)
    pending_id = await preview(setup, "BTC", "0.1")
    placed = await setup.other_process().confirm(pending_id, OWNER)  # a double tap won
    assert placed.status is ConfirmStatus.PLACED
    setup.upbit.set_orderbook("KRW-BTC", bids=[(95_000_000 - i * 10_000, 1) for i in range(30)])
    setup.balances.assets([("BTC", Decimal("0.1"))])

    late = await setup.sell.confirm(pending_id, OWNER)

    assert late.reason == "claim_already_confirmed" and late.fresh_preview is None
    (only,) = await setup.repo.list_all()
    assert only.pending_id == pending_id  # no second order, no new preview row made
    assert await setup.repo.get_pending(pending_id) is not None


class Crashing:
    """A private stream that comes up, then dies of something that is not Upbit's."""

    async def run(
        self,
        on_event: Callable[[MyOrderEvent | MyAssetEvent], Awaitable[None]],
        on_state_change: Callable[[bool], Awaitable[None]],
        stop_event: asyncio.Event,
    ) -> None:
        await on_state_change(True)
        await on_event(MyAssetEvent((("KRW", Decimal(1)),)))
        raise RuntimeError("bug")


async def test_a_stream_that_dies_vouches_for_no_balance() -> None:
    balances = BalanceBook()

    async def ignore(_: object) -> None:
        return None

    with pytest.raises(RuntimeError):
        await BalanceTap(Crashing(), balances).run(ignore, ignore, asyncio.Event())
    assert balances.mark() is None


def test_an_unreadable_asset_message_ends_what_the_book_vouched_for() -> None:
    balances = BalanceBook()
    stream_delivering(balances)
    mark = balances.mark()
    assert balances.available("BTC", Decimal(1), mark) == Decimal(1)
    balances.unreadable()
    assert balances.available("BTC", Decimal(1), mark) is None
