"""Two bot processes, one database: each price alert fires exactly once, and a restart
neither loses nor repeats one.

Two real `python -m bot` processes (webhook mode, each on its own port) watch the same
alerts on one database (PostgreSQL when ``TEST_POSTGRES_URL`` is set, and a SQLite file).
They poll prices with ``GET /v1/ticker`` (WebSocket off, so every check is a request the
stand-in records), both see the condition met in the same moments, and the claim in the
database lets exactly one of them send each alert.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bot.db.alerts import SqlAlertRepository
from bot.db.engine import create_engine, create_sessionmaker, to_async_url
from bot.db.migrate import upgrade_to_head_async
from bot.services.alerts import Direction, NewAlert
from tests.e2e.harness import USER
from tests.e2e.test_webhook import BotProcess, bot_env, free_port, running, sent_messages
from tests.standins.telegram import TelegramStandin
from tests.standins.upbit import UpbitStandIn

D = Decimal
TARGETS = (105_000_000, 104_000_000, 103_000_000)


async def _seed(database_url: str) -> None:
    await upgrade_to_head_async(database_url)
    engine = create_engine(database_url)
    try:
        repo = SqlAlertRepository(create_sessionmaker(engine))
        for target in TARGETS:
            alert = NewAlert(
                USER, USER, "en", "KRW-BTC", Direction.ABOVE, D(target),
                None, None, datetime.now(UTC),
            )  # fmt: skip
            assert await repo.add_alert(alert, 50)
        # One for after the restart, and one never met that keeps both processes polling.
        for market, target in (("KRW-ETH", 9_000_000), ("KRW-XRP", 10_000)):
            alert = NewAlert(
                USER, USER, "en", market, Direction.ABOVE, D(target),
                None, None, datetime.now(UTC),
            )  # fmt: skip
            assert await repo.add_alert(alert, 50)
    finally:
        await engine.dispose()


def _polls(upbit: UpbitStandIn, markets: str) -> int:
    return len(
        [c for c in upbit.requests_to("GET", "/v1/ticker") if c.query.get("markets") == [markets]]
    )


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_two_processes_fire_each_alert_once(
    db_url: str, telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    tg, upbit = telegram_standin, upbit_standin
    to_async_url(db_url)  # creates a SQLite file's parent folder, as the bot would
    asyncio.run(_seed(db_url))
    bots = []
    for name in ("a", "b"):
        env = bot_env(
            tg,
            upbit,
            database_url=db_url,
            heartbeat_file=tmp_path / f"{name}.heartbeat",
            port=free_port(),
            secret=secrets.token_urlsafe(16),
            UPBIT_WS_URL="",
            ALERT_INTERVAL_SECONDS="0.1",
        )
        bots.append(BotProcess(env, tmp_path / name, name=name))
    with running(*bots, start=False):
        for bot in bots:
            bot.start()
            bot.wait_ready(tg)
        every = "KRW-BTC,KRW-ETH,KRW-XRP"
        start = _polls(upbit, every)
        _wait(lambda: _polls(upbit, every) >= start + 6, 30, "both processes poll")

        mark = tg.mark()
        upbit.set_ticker("KRW-BTC", trade_price=D(106_000_000))
        _wait(lambda: len(sent_messages(tg, USER, "🔔", after=mark)) >= 3, 30, "alerts fire")
        # Many more checks by both processes: a second notice would have been sent by now.
        left = "KRW-ETH,KRW-XRP"
        after = _polls(upbit, left)
        _wait(lambda: _polls(upbit, left) >= after + 20, 30, "polling goes on")
        fired = sent_messages(tg, USER, "🔔", after=mark)
        texts = sorted(str(c.get("text")) for c in fired)
        assert len(fired) == 3, texts
        for target in TARGETS:
            assert sum(f"≥ {target:,} KRW" in text for text in texts) == 1, texts

        # A restart: the fired alerts stay fired; the one left still fires, once.
        first = bots[0]
        assert first.terminate() == 0, first.describe()
        first.start()
        first.wait_ready(tg)
        mark = tg.mark()
        upbit.set_ticker("KRW-ETH", trade_price=D(9_100_000))
        _wait(lambda: len(sent_messages(tg, USER, "🔔", after=mark)) >= 1, 30, "ETH fires")
        upbit.set_ticker("KRW-BTC", trade_price=D(200_000_000))
        after = _polls(upbit, "KRW-XRP")
        _wait(lambda: _polls(upbit, "KRW-XRP") >= after + 20, 30, "polling goes on")
        (eth,) = sent_messages(tg, USER, "🔔", after=mark)
        assert "KRW-ETH" in str(eth.get("text"))
        for bot in bots:
            assert "Traceback" not in bot.log, bot.describe()
