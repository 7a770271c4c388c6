"""Bring the database schema to the newest Alembic revision, safely and repeatably.

Call `upgrade_to_head` from synchronous start-up code before the bot's event loop runs,
or `upgrade_to_head_async` inside a running loop. No ``alembic.ini`` and no ``alembic``
command are needed: the `Config` is built here, and the migrations are package data of
``bot`` (``bot/_migrations``), found with `importlib.resources`, so an installed wheel
migrates from any working directory. In the source tree ``bot/_migrations`` is a link to
the top-level ``migrations/`` folder, the one copy (the wheel build follows the link). On
PostgreSQL a session advisory lock is held while upgrading, so several processes
starting at once upgrade one after the other (the later ones find nothing to do); on
SQLite an exclusive file lock beside the database does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.engine import create_engine, to_async_url
from bot.db.migrate_process import MIGRATE_LOG_LEVEL_ENV, MIGRATE_URL_ENV, sqlite_lock_path

# pg_advisory_lock key shared by every process of this bot ("upsb" + "migr" in ASCII).
ADVISORY_LOCK_KEY = 0x7570_7362_6D69_6772
# How long a starting process waits for another one's upgrade before it gives up.
LOCK_WAIT_SECONDS = 120.0
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


class MigrationLockTimeout(RuntimeError):
    """Another process held the migration lock for longer than we wait."""


def migrations_dir() -> Path:
    """The Alembic scripts shipped inside the ``bot`` package (``bot/_migrations``)."""
    found = resources.files("bot") / "_migrations"
    # Alembic reads a real folder; a wheel installed by pip or uv is always unpacked.
    if not isinstance(found, Path) or not (found / "env.py").is_file():
        raise RuntimeError(f"the bot's migrations are missing from {found}")
    return found


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
    fd = await asyncio.to_thread(
        os.open, sqlite_lock_path(database), os.O_CREAT | os.O_WRONLY, 0o600
    )
    handle = os.fdopen(fd, "a")
    try:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


async def upgrade_to_head_async(url: str, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
    """Upgrade the database at ``url`` to head; a no-op when it is already there. On
    PostgreSQL, `MigrationLockTimeout` when another process holds the lock over
    ``lock_wait`` seconds."""
    if make_url(to_async_url(url)).get_backend_name() == "sqlite":
        async with _sqlite_file_lock(url):
            await _upgrade_to_head(url, lock_wait)
    else:
        await _upgrade_to_head(url, lock_wait)


async def _advisory_lock(conn: AsyncConnection, lock_wait: float) -> None:
    """Take the migration lock, waiting at most ``lock_wait`` seconds for its holder
    (PostgreSQL's ``lock_timeout`` bounds the wait; the waiter shows in ``pg_locks``)."""
    await conn.execute(text(f"SET lock_timeout = {max(1, round(lock_wait * 1000))}"))
    try:
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        await conn.rollback()
        raise MigrationLockTimeout(
            f"another process has held the migration lock (PostgreSQL advisory lock "
            f"{ADVISORY_LOCK_KEY}) for over {lock_wait:g} s; is a migration stuck?"
        ) from None
    finally:
        if conn.in_transaction():
            await conn.execute(text("RESET lock_timeout"))
    await conn.commit()


async def _upgrade_to_head(url: str, lock_wait: float) -> None:
    cfg = alembic_config(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    is_postgres = make_url(to_async_url(url)).get_backend_name() == "postgresql"
    lock = {"key": ADVISORY_LOCK_KEY}
    try:
        async with engine.connect() as conn:
            if is_postgres:
                await _advisory_lock(conn, lock_wait)
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


def upgrade_to_head(url: str, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
    """Synchronous `upgrade_to_head_async`, for start-up before the event loop exists."""
    asyncio.run(upgrade_to_head_async(url, lock_wait))


if __name__ == "__main__":
    from bot.logging_setup import configure_logging

    _url = os.environ[MIGRATE_URL_ENV]
    _password = make_url(_url).password
    configure_logging(
        os.environ.get(MIGRATE_LOG_LEVEL_ENV, "INFO"), [str(_password)] if _password else []
    )
    try:
        upgrade_to_head(_url)
    except MigrationLockTimeout as _exc:
        logging.getLogger("bot.db.migrate").error("%s", _exc)
        raise SystemExit(1) from None
