"""Start-up as a real process: the migration child runs only when the schema is behind, and
what polling does not use is not loaded.

A new SQLite database is built in-process from the migrations' snapshot, one at head is
left alone; only a database behind head starts Alembic in its child process, whose
``Running upgrade`` lines (Alembic's own log) show in the bot's output. Loaded C extensions
show in ``/proc/<pid>/maps``: tornado's (``tornado/speedups``) must not be there in polling
mode (python-telegram-bot would load tornado for a webhook server the bot never uses).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from bot.db.engine import create_engine
from bot.db.migrate import alembic_config
from bot.db.revision import head_revision, is_at_head
from tests.e2e.harness import USER
from tests.e2e.process import BotProcess, bot_env
from tests.standins.telegram import TelegramStandin
from tests.standins.upbit import UpbitStandIn

CHILD_RAN = "Running upgrade"  # Alembic's INFO line for each migration it applies
NEW_DATABASE = "new SQLite database: created at migration"


@pytest.fixture
def spawned() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for proc in started:
        proc.close()


def _serve_once(
    spawned: list[BotProcess], tg: TelegramStandin, upbit: UpbitStandIn, workdir: Path
) -> tuple[str, str]:
    """Start the bot, check it answers /start right after its first getUpdates, stop it;
    (its output, its memory map while it served)."""
    mark = tg.mark()
    proc = BotProcess(bot_env(tg, upbit, workdir), workdir, f"bot{len(spawned) + 1}")
    spawned.append(proc)
    tg.wait_for_call("getUpdates", timeout=30, after=mark, completed=False)
    mark = tg.mark()
    tg.send_command(USER, "/start")
    reply = tg.wait_for_message(USER, timeout=15, after=mark)
    assert "/sell" in str(reply.params.get("text")), reply.params
    maps = Path(f"/proc/{proc.pid}/maps").read_text()
    proc.stop()
    return proc.output(), maps


def test_a_new_sqlite_database_needs_no_migration_child(
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
    spawned: list[BotProcess],
) -> None:
    first, _ = _serve_once(spawned, telegram_standin, upbit_standin, tmp_path)
    assert f"{NEW_DATABASE} {head_revision()}" in first
    assert CHILD_RAN not in first
    assert is_at_head(f"sqlite:///{tmp_path}/bot.db")

    again, _ = _serve_once(spawned, telegram_standin, upbit_standin, tmp_path)
    assert NEW_DATABASE not in again
    assert CHILD_RAN not in again


def test_a_database_behind_head_is_migrated_by_the_child(
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
    spawned: list[BotProcess],
) -> None:
    url = f"sqlite:///{tmp_path}/bot.db"

    def upgrade_to_0007(conn: Connection) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")

    async def build_old_release() -> None:
        engine = create_engine(url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(upgrade_to_0007)
        finally:
            await engine.dispose()

    asyncio.run(build_old_release())
    output, _ = _serve_once(spawned, telegram_standin, upbit_standin, tmp_path)
    assert f"{CHILD_RAN} 0007 -> {head_revision()}" in output
    assert NEW_DATABASE not in output
    assert is_at_head(url)


def test_polling_loads_no_webhook_server(
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
    spawned: list[BotProcess],
) -> None:
    _, maps = _serve_once(spawned, telegram_standin, upbit_standin, tmp_path)
    assert "python3" in maps or "libpython" in maps  # the map lists what the process loaded
    assert "tornado" not in maps
