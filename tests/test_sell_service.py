"""The sell service's figures and decisions, checked directly on real objects: the real
Upbit client against the Upbit stand-in and the real SQLite order log (no mocks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade_to_head_async
from bot.db.repository import SqlOrderRepository
from bot.services.announce import Announcer
from bot.services.errors import SellRefused
from bot.services.sell import ConfirmStatus, SellService
from bot.upbit.client import UpbitClient
from tests.standins.upbit import UpbitStandIn

OWNER = 1001
START = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Setup:
    service: SellService
    clock: Clock
    upbit: UpbitStandIn


@pytest.fixture
async def setup(upbit_standin: UpbitStandIn, tmp_path: Path) -> AsyncIterator[Setup]:
    # KRW-TST: bids 1,000 × 10, 990 × 20, 980 × 50; fee 0.0005; min total 5,000.
    upbit_standin.add_market(
        "KRW-TST",
        bids=[(1000, 10), (990, 20), (980, 50)],
        asks=[(1001, 10)],
    )
    upbit_standin.set_account("TST", balance=40, avg_buy_price=900)
    url = f"sqlite:///{tmp_path}/unit.db"
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    client = UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    )
    clock = Clock()
    service = SellService(
        client,
        SqlOrderRepository(create_sessionmaker(engine)),
        confirm_timeout=timedelta(seconds=60),
        clock=clock,
        lookup_delays=(0.01,),
    )
    try:
        yield Setup(service, clock, upbit_standin)
    finally:
        await client.aclose()
        await engine.dispose()


async def test_preview_figures_walk_the_book(setup: Setup) -> None:
    p = await setup.service.preview(["tst", "75%"], user_id=OWNER, chat_id=OWNER, lang="en")
    # 75% of 40 = 30: 10 @ 1,000 + 20 @ 990 = 29,800.
    assert p.market == "KRW-TST" and p.currency == "TST" and p.quote_currency == "KRW"
    assert p.volume == Decimal(30)
    assert p.available == Decimal(40)
    assert p.share_percent == Decimal(75)
    assert p.best_bid == Decimal(1000)
    assert p.est_gross == Decimal(29_800)
    assert p.est_avg_price == Decimal(29_800) / Decimal(30)
    assert p.fee_rate == Decimal("0.0005")
    assert p.est_fee == Decimal("14.9")
    assert p.est_net == Decimal("29785.1")
    assert p.price_impact_percent == (Decimal(1000) - Decimal(29_800) / 30) / 1000 * 100
    assert p.expires_at == START + timedelta(seconds=60)
    assert setup.upbit.requests_to("POST", "/v1/orders") == []


async def test_quote_amount_lands_at_or_just_under_the_net(setup: Setup) -> None:
    p = await setup.service.preview(["TST", "20000KRW"], user_id=OWNER, chat_id=OWNER, lang="en")
    # gross wanted 20,000 / 0.9995; 10 @ 1,000 then the rest @ 990.
    gross = Decimal(20_000) / Decimal("0.9995")
    expected = (Decimal(10) + (gross - 10_000) / 990).quantize(Decimal("0.00000001"), "ROUND_DOWN")
    assert p.volume == expected
    assert Decimal(0) <= Decimal(20_000) - p.est_net < Decimal("0.00001") * 990
    assert p.est_gross == 10_000 + (p.volume - 10) * 990


async def test_book_too_thin_is_refused(setup: Setup) -> None:
    setup.upbit.set_account("TST", balance=100, avg_buy_price=900)
    with pytest.raises(SellRefused) as caught:
        await setup.service.preview(["TST", "all"], user_id=OWNER, chat_id=OWNER, lang="en")
    assert caught.value.code == "book_too_thin"


async def test_press_refusal_says_who_may_press(setup: Setup) -> None:
    sell = setup.service
    p = await sell.preview(["TST", "50%"], user_id=OWNER, chat_id=OWNER, lang="en")
    assert await sell.press_refusal("nope-nope-nope", OWNER) == "claim_not_found"
    assert await sell.press_refusal(p.pending_id, 2002) == "claim_not_owner"
    assert await sell.press_refusal(p.pending_id, OWNER) is None

    result = await sell.confirm(p.pending_id, OWNER)
    assert result.status is ConfirmStatus.PLACED
    assert await sell.press_refusal(p.pending_id, OWNER) == "claim_already_confirmed"
    again = await sell.confirm(p.pending_id, OWNER)
    assert again.status is ConfirmStatus.REFUSED
    assert again.reason == "claim_already_confirmed"
    assert len(setup.upbit.requests_to("POST", "/v1/orders")) == 1

    q = await sell.preview(["TST", "50%"], user_id=OWNER, chat_id=OWNER, lang="en")
    assert await sell.cancel(q.pending_id, OWNER)
    assert await sell.press_refusal(q.pending_id, OWNER) == "claim_cancelled"

    r = await sell.preview(["TST", "50%"], user_id=OWNER, chat_id=OWNER, lang="en")
    setup.clock.now = START + timedelta(seconds=61)
    assert await sell.expire(r.pending_id) is not None
    assert await sell.press_refusal(r.pending_id, OWNER) == "claim_expired"
    late = await sell.confirm(r.pending_id, OWNER)
    assert late.status is ConfirmStatus.REFUSED
    assert len(setup.upbit.requests_to("POST", "/v1/orders")) == 1


async def test_confirm_after_expiry_places_nothing(setup: Setup) -> None:
    sell = setup.service
    p = await sell.preview(["TST", "50%"], user_id=OWNER, chat_id=OWNER, lang="en")
    setup.clock.now = p.expires_at  # the deadline itself is too late
    result = await sell.confirm(p.pending_id, OWNER)
    assert result.status is ConfirmStatus.REFUSED and result.reason == "claim_expired"
    assert setup.upbit.requests_to("POST", "/v1/orders") == []


async def test_refusal_reply_is_bounded_by_the_announcement_lease(
    upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    """The reply that reports a refused order is sent under the announcement's claim and
    given up within the lease: a reply that hangs must not outlive the claim (someone else
    may then take over and send it too); the claim is released for the watcher."""
    upbit_standin.add_market("KRW-TST", bids=[(1000, 10)], asks=[(1001, 10)])
    upbit_standin.set_account("TST", balance=40, avg_buy_price=900)
    url = f"sqlite:///{tmp_path}/lease.db"
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    repo = SqlOrderRepository(create_sessionmaker(engine))
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as client:
        service = SellService(
            client,
            repo,
            confirm_timeout=timedelta(seconds=60),
            announcer=Announcer(repo, lease=timedelta(seconds=1)),
        )
        p = await service.preview(["tst", "5"], user_id=OWNER, chat_id=OWNER, lang="en")
        upbit_standin.fail_next("POST", "/v1/orders", "insufficient_funds_ask")
        result = await service.confirm(p.pending_id, OWNER)
        assert result.status is ConfirmStatus.FAILED and result.order is not None
        gave_up = asyncio.Event()

        async def hangs() -> None:
            try:
                await asyncio.Event().wait()  # Telegram never answers
            except asyncio.CancelledError:
                gave_up.set()
                raise

        # Bounded only against a hang of the test itself; the lease ends it far sooner.
        await asyncio.wait_for(service.deliver_outcome(result, hangs), 30)
        assert gave_up.is_set()
        order = await repo.get_order(result.order.id)
        assert order is not None and order.announced_at is None
        # Released: the watcher can claim it at once and announce it.
        assert await repo.claim_announcement(order.id, None, timedelta(seconds=1)) is not None
    await engine.dispose()
