"""Database fixtures: every db test runs on SQLite and, when configured, on PostgreSQL.

Import what a test module needs (pytest finds fixtures by name in the module namespace)::

    from tests.db_fixtures import db_engine, db_sessions, db_url, engine_factory

or register the whole module once in ``tests/conftest.py`` with
``pytest_plugins = ("tests.db_fixtures",)``.

``db_url`` is parametrised: ``sqlite`` gives a fresh file database under ``tmp_path``;
``postgresql`` creates a uniquely named database on the server named by the
``TEST_POSTGRES_URL`` environment variable (an admin URL such as
``postgresql://postgres@127.0.0.1:55432/postgres``; ``scripts/start-test-postgres.sh``
starts one and prints it) and drops it afterwards. Without the variable the PostgreSQL
cases are skipped. URLs are handed out in their plain form (``sqlite:///``,
``postgresql://``), as a user would write ``DATABASE_URL``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade_to_head_async

POSTGRES_ENV = "TEST_POSTGRES_URL"
SKIP_POSTGRES_REASON = (
    f"{POSTGRES_ENV} is not set: PostgreSQL cases skipped "
    "(start a server with scripts/start-test-postgres.sh and export its URL)"
)

__all__ = [
    "POSTGRES_ENV",
    "db_engine",
    "db_sessions",
    "db_url",
    "engine_factory",
    "is_sqlite",
    "sqlite_url",
]


def sqlite_url(path: Path) -> str:
    """A plain ``sqlite:///`` URL for an absolute file path."""
    return f"sqlite:///{path}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


async def _postgres_database(admin_url: str) -> AsyncIterator[str]:
    name = f"upbit_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database (no tables yet), as a plain URL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "db" / "test.db")
        return
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(SKIP_POSTGRES_REASON)
    async for url in _postgres_database(admin_url):
        yield url


@pytest.fixture
async def engine_factory(db_url: str) -> AsyncIterator[Callable[[], AsyncEngine]]:
    """Makes extra engines on the test database (one per simulated process); all disposed."""
    engines: list[AsyncEngine] = []

    def make() -> AsyncEngine:
        engine = create_engine(db_url)
        engines.append(engine)
        return engine

    try:
        yield make
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.fixture
async def db_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test database, migrated to head by the real migrations."""
    await upgrade_to_head_async(db_url)
    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def db_sessions(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(db_engine)
