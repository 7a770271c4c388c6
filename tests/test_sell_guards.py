"""The sell service with its guards, on real objects: the real Upbit client against the
stand-in, the real SQLite log and guard row, a settable clock, and codes computed from the
secret for that clock. What the e2e tests cannot reach easily: a claim that sends nothing
stops counting, the KRW value of a sell on a BTC market, no way around the code."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyotp
import pytest

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.guards import SqlGuardRepository
from bot.db.migrate import upgrade_to_head_async
from bot.db.repository import SqlOrderRepository
from bot.domain import ClaimOutcome, PendingStatus
from bot.services.guards import GuardService, GuardSettings
from bot.services.sell import ConfirmStatus, SellService
from bot.upbit.client import UpbitClient
from tests.standins.upbit import UpbitStandIn

OWNER, OTHER = 1001, 2002
START = datetime(2026, 3, 1, 3, 0, 10, tzinfo=UTC)  # 12:00:10 in Seoul
SECRET = pyotp.random_base32()


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Setup:
    sell: SellService
    guards: GuardService
    repo: SqlOrderRepository
    clock: Clock
    upbit: UpbitStandIn


@pytest.fixture
async def make(upbit_standin: UpbitStandIn, tmp_path: Path) -> AsyncIterator[Callable[..., Setup]]:
    url = f"sqlite:///{tmp_path}/guards.db"
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    client = UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    )
    sessions = create_sessionmaker(engine)

    def build(**settings: object) -> Setup:
        clock = Clock()
        repo = SqlOrderRepository(sessions)
        guards = GuardService(SqlGuardRepository(sessions), GuardSettings(**settings), clock)  # type: ignore[arg-type]
        sell = SellService(
            client,
            repo,
            confirm_timeout=timedelta(seconds=60),
            clock=clock,
            lookup_delays=(0.01,),
            guards=guards,
        )
        return Setup(sell, guards, repo, clock, upbit_standin)

    try:
        yield build
    finally:
        await client.aclose()
        await engine.dispose()


async def preview_id(s: Setup, *args: str) -> str:
    p = await s.sell.preview(list(args), user_id=OWNER, chat_id=OWNER, lang="en")
    return p.pending_id


async def test_a_claim_that_sends_nothing_stops_counting(make: Callable[..., Setup]) -> None:
    s = make(daily_limit_krw=Decimal(1_500_000))
    first = await preview_id(s, "BTC", "0.01")  # 1,000,000 KRW
    s.upbit.set_account("BTC", balance="0.001")  # sold elsewhere meanwhile
    refused = await s.sell.confirm(first, OWNER)
    assert refused.reason == "balance_changed"
    assert (await s.guards.status()).used_today_krw == 0
    s.upbit.set_account("BTC", balance="0.1")
    second = await preview_id(s, "BTC", "0.01")
    assert (await s.sell.confirm(second, OWNER)).status is ConfirmStatus.PLACED
    assert (await s.guards.status()).left_today_krw == Decimal(500_000)


async def test_an_order_upbit_refused_stops_counting(make: Callable[..., Setup]) -> None:
    s = make(daily_limit_krw=Decimal(1_000_000))
    first = await preview_id(s, "BTC", "0.01")
    s.upbit.fail_next("POST", "/v1/orders", "insufficient_funds_ask")
    assert (await s.sell.confirm(first, OWNER)).status is ConfirmStatus.FAILED
    second = await preview_id(s, "BTC", "0.01")
    assert (await s.sell.confirm(second, OWNER)).status is ConfirmStatus.PLACED
    third = await preview_id(s, "BTC", "0.001")
    refused = await s.sell.confirm(third, OWNER)
    assert refused.claim is ClaimOutcome.OVER_DAILY_LIMIT
    assert refused.params is not None and refused.params["left"] == 0


async def test_a_btc_market_sell_is_valued_in_krw(make: Callable[..., Setup]) -> None:
    s = make(daily_limit_krw=Decimal(10_000_000))
    s.upbit.add_market("BTC-ADA", bids=[("0.00001", "5000")], asks=[("0.0000101", "5000")])
    s.upbit.set_account("ADA", balance="1000", unit_currency="BTC")
    s.upbit.set_ticker("KRW-BTC", trade_price=Decimal(100_000_000))
    pid = await preview_id(s, "ADA", "1000")  # 0.01 BTC at 100,000,000 KRW
    pending = await s.repo.get_pending(pid)
    assert pending is not None and pending.est_krw == Decimal(1_000_000)


async def test_no_way_around_the_code(make: Callable[..., Setup]) -> None:
    s = make(totp_secret=SECRET)
    pid = await preview_id(s, "BTC", "0.01")
    heard: list[ClaimOutcome] = []
    for _ in range(2):  # pressing Confirm again only asks again
        asked = await s.sell.confirm(pid, OWNER, heard.append)
        assert asked.status is ConfirmStatus.CODE_NEEDED and heard == []
    # Someone else's press is refused without claiming or asking.
    other = await s.sell.confirm(pid, OTHER, heard.append)
    assert other.claim is ClaimOutcome.NOT_OWNER and heard == [ClaimOutcome.NOT_OWNER]
    # Another user's right code is for nothing of theirs.
    assert await s.sell.confirm_with_code(OTHER, pyotp.TOTP(SECRET).at(START)) is None
    pending = await s.repo.get_pending(pid)
    assert pending is not None and pending.status is PendingStatus.PENDING
    assert s.upbit.requests_to("POST", "/v1/orders") == []
    attempt = await s.sell.confirm_with_code(OWNER, pyotp.TOTP(SECRET).at(START))
    assert attempt is not None and attempt.result.status is ConfirmStatus.PLACED
    assert len(s.upbit.requests_to("POST", "/v1/orders")) == 1


async def test_the_right_code_after_expiry_places_nothing(make: Callable[..., Setup]) -> None:
    s = make(totp_secret=SECRET)
    pid = await preview_id(s, "BTC", "0.01")
    assert (await s.sell.confirm(pid, OWNER)).status is ConfirmStatus.CODE_NEEDED
    s.clock.now = START + timedelta(seconds=60)
    assert await s.sell.confirm_with_code(OWNER, pyotp.TOTP(SECRET).at(s.clock.now)) is None
    assert s.upbit.requests_to("POST", "/v1/orders") == []


async def test_locked_refuses_at_preview_and_at_the_claim(make: Callable[..., Setup]) -> None:
    s = make()
    pid = await preview_id(s, "BTC", "0.01")
    await s.guards.lock(OWNER)
    with pytest.raises(Exception, match="sell_locked"):
        await preview_id(s, "BTC", "0.01")
    refused = await s.sell.confirm(pid, OWNER)
    assert refused.claim is ClaimOutcome.LOCKED and refused.reason == "sell_locked"
    assert s.upbit.requests_to("POST", "/v1/orders") == []
