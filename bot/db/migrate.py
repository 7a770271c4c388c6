"""Bring the database schema to the newest Alembic revision, safely and repeatably.

Call `upgrade_to_head` from synchronous start-up code before the bot's event loop runs,
or `upgrade_to_head_async` inside a running loop. No ``alembic.ini`` is needed: the
`Config` is built here and points at the repository's ``migrations/`` folder. On
PostgreSQL a session advisory lock is held while upgrading, so several processes
starting at once upgrade one after the other (the later ones find nothing to do); on
SQLite an exclusive file lock beside the database does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection, make_url

from bot.db.engine import create_engine, to_async_url
from bot.db.migrate_process import MIGRATE_LOG_LEVEL_ENV, MIGRATE_URL_ENV

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# pg_advisory_lock key shared by every process of this bot ("upsb" + "migr" in ASCII).
ADVISORY_LOCK_KEY = 0x7570_7362_6D69_6772


def migrations_dir() -> Path:
    """The ``migrations/`` folder next to the package, else one in the working directory."""
    if (MIGRATIONS_DIR / "env.py").is_file():
        return MIGRATIONS_DIR
    return Path.cwd() / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic `Config` for ``url``, built in code (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation: a literal % (e.g. in a password) must be doubled.
    cfg.set_main_option("sqlalchemy.url", to_async_url(url).replace("%", "%%"))
    return cfg


def _upgrade(connection: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


@contextlib.asynccontextmanager
async def _sqlite_file_lock(url: str) -> AsyncIterator[None]:
    """Serialise upgrades of one SQLite file across processes (PostgreSQL uses an advisory
    lock instead): an exclusive flock on ``<database>.migrate-lock``."""
    database = make_url(to_async_url(url)).database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    lock_path = Path(f"{database}.migrate-lock")
    handle = await asyncio.to_thread(lock_path.open, "a")
    try:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


async def upgrade_to_head_async(url: str) -> None:
    """Upgrade the database at ``url`` to head; a no-op when it is already there."""
    if make_url(to_async_url(url)).get_backend_name() == "sqlite":
        async with _sqlite_file_lock(url):
            await _upgrade_to_head(url)
    else:
        await _upgrade_to_head(url)


async def _upgrade_to_head(url: str) -> None:
    cfg = alembic_config(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    is_postgres = make_url(to_async_url(url)).get_backend_name() == "postgresql"
    lock = {"key": ADVISORY_LOCK_KEY}
    try:
        async with engine.connect() as conn:
            if is_postgres:
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), lock)
                await conn.commit()
            try:
                await conn.run_sync(_upgrade, cfg)
                await conn.commit()
            finally:
                if is_postgres:
                    await conn.rollback()
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), lock)
                    await conn.commit()
    finally:
        await engine.dispose()


def upgrade_to_head(url: str) -> None:
    """Synchronous `upgrade_to_head_async`, for start-up before the event loop exists."""
    asyncio.run(upgrade_to_head_async(url))


if __name__ == "__main__":
    from bot.logging_setup import configure_logging

    _url = os.environ[MIGRATE_URL_ENV]
    _password = make_url(_url).password
    configure_logging(
        os.environ.get(MIGRATE_LOG_LEVEL_ENV, "INFO"), [str(_password)] if _password else []
    )
    upgrade_to_head(_url)
