"""Database URLs, the async engine (with SQLite's PRAGMAs) and the session factory."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

DEFAULT_DATABASE_URL = "sqlite:///data/upbit-sell-bot.db"

# Sync (or unspecified) drivers and the async driver the bot uses instead.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}

SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",  # first, so the WAL switch below waits for other writers
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def to_async_url(url: str | URL) -> str:
    """Give a plain SQLAlchemy URL its async driver; create a SQLite file's parent folders.

    ``sqlite:///PATH`` → ``sqlite+aiosqlite:///PATH``; ``postgresql://`` and ``postgres://``
    → ``postgresql+asyncpg://``; URLs that already name an async driver are kept.
    """
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername)
    parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() == "sqlite":
        _make_parent_folders(parsed.database)
    return parsed.render_as_string(hide_password=False)


def _make_parent_folders(database: str | None) -> None:
    """Create a SQLite file's folder (0700) and the file itself (0600) when missing: the
    order log is nobody else's business. SQLite gives its -wal and -shm files the mode of
    the database file."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (plain or async form); SQLite gets WAL and friends."""
    async_url = to_async_url(url)
    backend = make_url(async_url).get_backend_name()
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
    engine = _create_async_engine(async_url, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory the repositories take; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
