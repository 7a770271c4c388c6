"""Two bot processes, one database: exactly-once through the database, not process memory.

Two real `python -m bot` subprocesses start at the same moment in webhook mode (each on its
own port) on one PostgreSQL database while the test holds the migrations' advisory lock:
both must queue on it, then start fine once it is released, and exactly one of them runs
the upgrade. A preview opened through process A is confirmed by the SAME callback-query
update posted several times to BOTH webhooks at once: Upbit must see exactly one order. The
order is then filled; both processes' fill watchers are woken by the Upbit stand-in's private
WebSocket (`UPBIT_WS_URL` = the stand-in's; `POLL_INTERVAL_SECONDS=0.3` as the fallback),
and exactly one fill notice must reach the chat.

PostgreSQL is the supported multi-process setup (README, "Webhook mode and PostgreSQL");
it runs only when
``TEST_POSTGRES_URL`` is set (``scripts/start-test-postgres.sh``), on a fresh database per
test. The same double-confirm test on two processes sharing one SQLite file runs always;
there the second process starts once the first is serving (SQLite has no advisory lock, and
one SQLite file is the one-process setup).
"""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.db.engine import to_async_url
from bot.db.migrate import ADVISORY_LOCK_KEY
from tests.db_fixtures import is_sqlite
from tests.e2e.harness import USER
from tests.e2e.test_webhook import (
    START_TIMEOUT,
    BotProcess,
    bot_env,
    free_port,
    running,
    sent_messages,
    settle,
)
from tests.standins.telegram import TelegramStandin
from tests.standins.upbit import UpbitStandIn

POSTS_PER_PROCESS = 4
NOTICE = "<b>Sold</b>"


def _post_concurrently(
    tg: TelegramStandin, targets: list[tuple[str, str]], update: dict[str, Any]
) -> list[int]:
    """POST ``update`` to every (url, secret) at once (threads released by one barrier)."""
    barrier = threading.Barrier(len(targets))

    def post(target: tuple[str, str]) -> int:
        url, secret = target
        barrier.wait(timeout=10)
        return tg.post_update_to(url, update, secret_token=secret, timeout=10)

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        return list(pool.map(post, targets))


def _waiting_for_migration_lock(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()
    assert row is not None
    return int(row[0])


def _start_together_behind_the_migration_lock(
    db_url: str, tg: TelegramStandin, a: BotProcess, b: BotProcess
) -> None:
    """Start both at once while the test holds the migrations' advisory lock: both must queue
    on it (so neither can migrate, or serve, before the other is waiting too), then both
    start fine once it is released."""
    with psycopg.connect(db_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        a.start()
        b.start()
        a.wait_until(
            lambda: _waiting_for_migration_lock(holder) == 2 and b.alive(),
            START_TIMEOUT,  # generous: two interpreters importing on a loaded 2-core CI
            "and the other process to wait for the migration lock",
        )
        assert [c for c in tg.calls("setWebhook") if c.ok] == [], "served before migrating"
        holder.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    a.wait_ready(tg)
    b.wait_ready(tg)


def test_two_processes_one_database_one_order_one_notice(
    db_url: str,
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
) -> None:
    """``db_url``: a fresh PostgreSQL database (skipped unless TEST_POSTGRES_URL is set) or a
    fresh SQLite file."""
    tg, upbit = telegram_standin, upbit_standin
    upbit.auto_fill = False
    to_async_url(db_url)  # creates a SQLite file's parent folder, as the bot would

    bots: list[BotProcess] = []
    targets: list[tuple[str, str]] = []
    for name in ("a", "b"):
        port, secret = free_port(), secrets.token_urlsafe(16)
        env = bot_env(
            tg,
            upbit,
            database_url=db_url,
            heartbeat_file=tmp_path / f"{name}.heartbeat",
            port=port,
            secret=secret,
            LOG_LEVEL="DEBUG",  # the fill watcher logs each WebSocket wake-up at DEBUG
        )
        bots.append(BotProcess(env, tmp_path / name, name=name))
        targets.append((env["WEBHOOK_URL"], secret))
    a, b = bots

    with running(a, b, start=False):
        if is_sqlite(db_url):
            # One SQLite file is the one-process setup: start them one after the other.
            a.start()
            a.wait_ready(tg)
            b.start()
            b.wait_ready(tg)
        else:
            _start_together_behind_the_migration_lock(db_url, tg, a, b)
        # Alembic's child logs each migration; a new SQLite file is built in-process instead
        # (bot.db.sqlite_schema). Either way, exactly one process builds the schema.
        built = [
            bot.name
            for bot in bots
            if "Running upgrade" in bot.log or "new SQLite database: created at" in bot.log
        ]
        assert len(built) == 1, f"the schema was built by {built}, expected exactly one process"
        for bot in bots:
            assert "Traceback" not in bot.log, bot.describe()
        assert upbit.wait_for_ws_subscribers(2, timeout=15), "both watchers subscribe"

        # A preview, opened through process A.
        mark = tg.mark()
        sell = tg.build_command_update(USER, "/sell BTC 10%")
        assert tg.post_update_to(targets[0][0], sell, secret_token=targets[0][1]) == 200
        preview = tg.wait_for_message(
            USER, lambda c: "Sell preview" in str(c.get("text", "")), timeout=15, after=mark
        )
        message_id = preview.result["message_id"]
        confirm = preview.callback_data[0]

        # The same Confirm press, delivered several times to both processes at once.
        press = tg.press_button(USER, message_id, confirm)
        statuses = _post_concurrently(tg, targets * POSTS_PER_PROCESS, press)
        assert statuses == [200] * len(statuses)

        tg.wait_for_edit(
            USER,
            message_id,
            lambda c: "Order placed" in str(c.get("text", "")),
            timeout=15,
            after=mark,
        )
        # Every delivery of the press has been handled once each one was answered.
        deadline = time.monotonic() + 15
        while len([c for c in tg.calls("answerCallbackQuery", after=mark) if c.done]) < len(
            statuses
        ):
            assert time.monotonic() < deadline, "not every delivery of the press was answered"
            time.sleep(0.05)
        settle(0.3)
        posts = upbit.requests_to("POST", "/v1/orders")
        assert len(posts) == 1, [p.body for p in posts]
        orders = list(upbit.orders.values())
        assert len(orders) == 1
        uuid = orders[0].uuid
        assert orders[0].state == "wait"
        placed = [
            c
            for c in tg.calls("editMessageText", after=mark)
            if c.ok and "Order placed" in str(c.get("text", ""))
        ]
        assert len(placed) == 1, [c.get("text") for c in placed]
        assert sent_messages(tg, USER, NOTICE, after=mark) == []

        # The fill: both watchers wake, exactly one announces it.
        upbit.fill_order(uuid)
        tg.wait_for_message(
            USER,
            lambda c: NOTICE in str(c.get("text", "")) and uuid in str(c.get("text", "")),
            timeout=15,
            after=mark,
        )
        for bot in bots:
            bot.wait_for_log(f"myOrder event uuid={uuid} state=done", 10)
        settle(5 * 0.3)  # a few poll intervals: a second notice would have been sent by now
        notices = sent_messages(tg, USER, NOTICE, after=mark)
        assert len(notices) == 1, [c.get("text") for c in notices]
        assert uuid in str(notices[0].get("text"))
        assert len(upbit.requests_to("POST", "/v1/orders")) == 1

        # (Answering the same callback query more than once gets "query is too old" from
        # Telegram; the error handler logs that, so tracebacks are not checked from here on.)
        for bot in bots:
            assert bot.alive(), bot.describe()
        started = time.monotonic()
        for bot in bots:
            assert bot.terminate() == 0, bot.describe()
        assert time.monotonic() - started < 10


FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1")


def test_two_processes_whose_clocks_disagree_agree_on_deadlines(
    db_url: str,
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
) -> None:
    """Process B's clock runs two minutes ahead of A's (libfaketime). A preview opened
    through A (60 s to confirm) and confirmed at once through B is placed: the deadline is
    judged by the database's clock, not by B's, which would call it long expired."""
    if is_sqlite(db_url):
        pytest.skip("two processes on one database with their own clocks: PostgreSQL")
    if not FAKETIME_LIB.exists():
        pytest.skip("Debian's faketime package (libfaketime) is not installed")
    tg, upbit = telegram_standin, upbit_standin
    bots: list[BotProcess] = []
    targets: list[tuple[str, str]] = []
    for name, clock in (("a", {}), ("b", {"LD_PRELOAD": str(FAKETIME_LIB), "FAKETIME": "+2m"})):
        port, secret = free_port(), secrets.token_urlsafe(16)
        env = bot_env(
            tg,
            upbit,
            database_url=db_url,
            heartbeat_file=tmp_path / f"{name}.heartbeat",
            port=port,
            secret=secret,
            CONFIRM_TIMEOUT_SECONDS="60",
            FAKETIME_DONT_FAKE_MONOTONIC="1",
            **clock,
        )
        bots.append(BotProcess(env, tmp_path / name, name=name))
        targets.append((env["WEBHOOK_URL"], secret))
    a, b = bots
    with running(a, b, start=False):
        a.start()
        a.wait_ready(tg)
        b.start()
        b.wait_ready(tg)
        # B's clock really is ahead: its own log lines say so.
        stamp = datetime.strptime(b.log.splitlines()[0][:19], "%Y-%m-%d %H:%M:%S")
        assert stamp - datetime.now() > timedelta(seconds=90), b.log.splitlines()[0]

        mark = tg.mark()
        sell = tg.build_command_update(USER, "/sell BTC 10%")
        assert tg.post_update_to(targets[0][0], sell, secret_token=targets[0][1]) == 200
        preview = tg.wait_for_message(
            USER, lambda c: "Sell preview" in str(c.get("text", "")), timeout=15, after=mark
        )
        message_id = preview.result["message_id"]
        press = tg.press_button(USER, message_id, preview.callback_data[0])
        assert tg.post_update_to(targets[1][0], press, secret_token=targets[1][1]) == 200
        tg.wait_for_edit(
            USER,
            message_id,
            lambda c: "Order placed" in str(c.get("text", "")),
            timeout=15,
            after=mark,
        )
        answers = [c for c in tg.calls("answerCallbackQuery", after=mark) if c.ok]
        assert not any("expired" in str(c.get("text", "")).lower() for c in answers)
        assert len(upbit.requests_to("POST", "/v1/orders")) == 1
