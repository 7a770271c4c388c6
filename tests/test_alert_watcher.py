"""Alert firing rules at the service level: the real watchers and alert table (SQLite and
PostgreSQL), the real Upbit client against the stand-in; only Telegram is replaced by a
notifier double (the boundary)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.db.alerts import SqlAlertRepository
from bot.db.engine import create_sessionmaker
from bot.services.alerts import (
    AlertService,
    AlertStatus,
    AlertWatcher,
    Direction,
    NewAlert,
    PriceAlert,
)
from bot.services.announce import ANNOUNCE_LEASE, NoticeUndeliverable
from bot.services.markets import MarketDirectory
from bot.upbit.client import UpbitClient

D = Decimal


@pytest.fixture
async def client(upbit_standin):
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as upbit:
        yield upbit


class Recorder:
    def __init__(self, fail: Exception | None = None, pause: float = 0.0) -> None:
        self.sent: list[tuple[int, Decimal, bool]] = []
        self.fail = fail
        self.pause = pause

    async def fire(self, alert: PriceAlert, price: Decimal, held: bool) -> None:
        await asyncio.sleep(self.pause)
        if self.fail is not None:
            raise self.fail
        self.sent.append((alert.id, price, held))


def _alert(market: str, direction: Direction, target: int, user: int = 1) -> NewAlert:
    return NewAlert(user, user, "en", market, direction, D(target), None, None, datetime.now(UTC))


def _watcher(repo, client, notifier) -> AlertWatcher:
    service = AlertService(client, repo, MarketDirectory(client))
    return AlertWatcher(client, repo, notifier, service, interval=0.05)


async def test_four_processes_fire_each_alert_once(
    db_engine, engine_factory, client, upbit_standin
):
    engines = [engine_factory() for _ in range(4)]
    repos = [SqlAlertRepository(create_sessionmaker(e)) for e in engines]
    first = await repos[0].add_alert(_alert("KRW-BTC", Direction.ABOVE, 105_000_000), 50)
    second = await repos[0].add_alert(_alert("KRW-ETH", Direction.BELOW, 4_900_000), 50)
    assert first and second
    upbit_standin.set_ticker("KRW-BTC", trade_price=D(105_000_000))
    upbit_standin.set_ticker("KRW-ETH", trade_price=D(4_800_000))
    notifiers = [Recorder(pause=0.05) for _ in repos]
    watchers = [_watcher(r, client, n) for r, n in zip(repos, notifiers, strict=True)]
    for _ in range(3):
        await asyncio.gather(*(w.check_once() for w in watchers))
    sent = sorted(s for n in notifiers for s in n.sent)
    assert sent == [(first.id, D(105_000_000), True), (second.id, D(4_800_000), True)]
    assert await repos[1].list_active(None) == []


async def test_a_failed_send_is_retried_and_a_dead_claim_taken_over(
    db_sessions, client, upbit_standin
):
    repo = SqlAlertRepository(db_sessions)
    alert = await repo.add_alert(_alert("KRW-BTC", Direction.BELOW, 95_000_000), 50)
    assert alert is not None
    upbit_standin.set_ticker("KRW-BTC", trade_price=D(94_000_000))

    # Telegram is down: released, so the next check sends it.
    down = Recorder(fail=ConnectionError("telegram down"))
    await _watcher(repo, client, down).check_once()
    assert down.sent == [] and [a.id for a in await repo.list_active(None)] == [alert.id]

    # A process claimed it and died before sending; the price has moved back since.
    now = datetime.now(UTC)
    assert await repo.trigger(alert.id, D(94_000_000))
    assert await repo.claim_announcement(alert.id, now - ANNOUNCE_LEASE * 2, ANNOUNCE_LEASE)
    upbit_standin.set_ticker("KRW-BTC", trade_price=D(99_000_000))
    live = Recorder()
    await _watcher(repo, client, live).check_once()
    # Taken over after the lease, with the price that met the condition.
    assert live.sent == [(alert.id, D(94_000_000), True)]
    await _watcher(repo, client, live).check_once()
    assert len(live.sent) == 1


async def test_a_live_claim_is_not_taken_over(db_sessions, client, upbit_standin):
    repo = SqlAlertRepository(db_sessions)
    alert = await repo.add_alert(_alert("KRW-BTC", Direction.BELOW, 95_000_000), 50)
    assert alert is not None
    upbit_standin.set_ticker("KRW-BTC", trade_price=D(94_000_000))
    assert await repo.trigger(alert.id, D(94_000_000))
    assert await repo.claim_announcement(alert.id, datetime.now(UTC), ANNOUNCE_LEASE)
    other = Recorder()
    await _watcher(repo, client, other).check_once()
    assert other.sent == []
    # ... and it can no longer be deleted: it is being sent.
    assert await repo.delete_alert(alert.id, 1) is None


async def test_a_blocked_chat_is_given_up(db_sessions, client, upbit_standin):
    repo = SqlAlertRepository(db_sessions)
    alert = await repo.add_alert(_alert("KRW-BTC", Direction.ABOVE, 101_000_000), 50)
    assert alert is not None
    upbit_standin.set_ticker("KRW-BTC", trade_price=D(101_000_000))
    await _watcher(repo, client, Recorder(fail=NoticeUndeliverable("Forbidden"))).check_once()
    assert await repo.list_active(None) == []
    stored = await repo.get_alert(alert.id)
    assert stored is not None and stored.status is AlertStatus.FIRED


async def test_not_held_and_delisted_markets(db_sessions, client, upbit_standin):
    repo = SqlAlertRepository(db_sessions)
    upbit_standin.add_market("KRW-SOL", bids=[(200_000, 50)], asks=[(200_100, 50)])
    sol = await repo.add_alert(_alert("KRW-SOL", Direction.ABOVE, 100_000), 50)
    gone = await repo.add_alert(_alert("KRW-GONE", Direction.ABOVE, 1), 50)
    assert sol and gone
    notifier = Recorder()
    await _watcher(repo, client, notifier).check_once()
    # SOL is not held: fired without buttons; the delisted market is simply not asked for.
    assert notifier.sent == [(sol.id, D(200_000), False)]
    (ticker,) = upbit_standin.requests_to("GET", "/v1/ticker")
    assert ticker.query["markets"] == ["KRW-SOL"]


async def test_alert_cap_is_per_user(db_sessions):
    repo = SqlAlertRepository(db_sessions)
    results = await asyncio.gather(
        *(repo.add_alert(_alert("KRW-BTC", Direction.ABOVE, 200_000_000 + i), 5) for i in range(5))
    )
    assert all(results)
    assert await repo.add_alert(_alert("KRW-BTC", Direction.ABOVE, 1), 5) is None
    assert await repo.count_active(1) == 5
    assert await repo.add_alert(_alert("KRW-BTC", Direction.ABOVE, 1, user=2), 5) is not None
