"""The alert watcher judges a firing claim's lease by the database's clock: a process
whose clock runs ahead must not take a claim another process made a moment ago as expired
(and send the alert a second time).

The watcher runs as its own process under libfaketime, ten minutes ahead, on PostgreSQL
(SQLite's clock is the process's own, so the case does not arise there), against the Upbit
stand-in; only Telegram is replaced by a counting notifier."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.alerts import SqlAlertRepository
from bot.services.alerts import AlertStatus, Direction, NewAlert
from bot.services.announce import ANNOUNCE_LEASE
from tests.standins.upbit import UpbitStandIn

FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")
REPO_ROOT = Path(__file__).resolve().parents[1]

WATCHER = """
import asyncio, sys
from bot.db.alerts import SqlAlertRepository
from bot.db.engine import create_engine, create_sessionmaker
from bot.services.alerts import AlertService, AlertWatcher
from bot.services.markets import MarketDirectory
from bot.upbit.client import UpbitClient

class Counter:
    sent = 0

    async def fire(self, alert, price, held):
        Counter.sent += 1

async def main(db_url, api, access, secret):
    engine = create_engine(db_url)
    repo = SqlAlertRepository(create_sessionmaker(engine))
    async with UpbitClient(access, secret, base_url=api) as client:
        service = AlertService(client, repo, MarketDirectory(client))
        await AlertWatcher(client, repo, Counter(), service).check_once()
    await engine.dispose()
    print(f"fired={Counter.sent}")

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_watcher_ahead_of_the_database_leaves_a_fresh_claim_alone(
    db_url: str,
    db_sessions: async_sessionmaker[AsyncSession],
    upbit_standin: UpbitStandIn,
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's clock is the process's own clock")
    if not FAKETIME_LIB.exists():
        pytest.skip("Debian's faketime package (libfaketime) is not installed")
    repo = SqlAlertRepository(db_sessions)
    new = NewAlert(
        1, 1, "en", "KRW-BTC", Direction.BELOW, Decimal(95_000_000), None, None, datetime.now(UTC)
    )
    alert = await repo.add_alert(new, 50)
    assert alert is not None
    upbit_standin.set_ticker("KRW-BTC", trade_price=Decimal(94_000_000))
    # Another process met the condition and claimed the alert just now (database's clock).
    assert await repo.trigger(alert.id, Decimal(94_000_000))
    assert await repo.claim_announcement(alert.id, None, ANNOUNCE_LEASE)

    env = {
        **os.environ,
        "LD_PRELOAD": str(FAKETIME_LIB),
        "FAKETIME": "+10m",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            WATCHER,
            db_url,
            upbit_standin.url,
            upbit_standin.access_key,
            upbit_standin.secret_key,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("fired=0")
    still = await repo.get_alert(alert.id)
    assert still is not None and still.status is AlertStatus.ACTIVE
