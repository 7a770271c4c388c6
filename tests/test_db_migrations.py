"""The Alembic migrations build exactly the schema the models describe, repeatably."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

import bot
from bot.db.engine import DEFAULT_DATABASE_URL, create_engine, to_async_url
from bot.db.migrate import (
    ADVISORY_LOCK_KEY,
    MigrationLockTimeout,
    alembic_config,
    upgrade_to_head,
    upgrade_to_head_async,
)
from bot.db.models import Base
from tests.db_fixtures import db_url, is_sqlite, sqlite_url

__all__ = ["db_url"]

TABLES = {
    "orders",
    "pending_sells",
    "paper_balances",
    "paper_orders",
    "user_settings",
    "price_alerts",
    "guard_state",
}


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _state(conn: Connection) -> tuple[set[str], str | None]:
    tables = set(inspect(conn).get_table_names())
    return tables, MigrationContext.configure(conn).get_current_revision()


async def _inspect(url: str) -> tuple[set[str], str | None, list[object]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            tables, revision = await conn.run_sync(_state)
            diff = await conn.run_sync(_diff) if tables >= TABLES else []
            return tables, revision, diff
    finally:
        await engine.dispose()


async def test_empty_database_upgrades_to_models_exactly(db_url: str) -> None:
    await upgrade_to_head_async(db_url)
    tables, revision, diff = await _inspect(db_url)
    assert tables >= TABLES | {"alembic_version"}
    assert revision == _head()
    assert diff == []


async def test_second_upgrade_is_a_no_op(db_url: str) -> None:
    await upgrade_to_head_async(db_url)
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO paper_balances "
                    "VALUES ('KRW', '5', '0', '0', 'KRW', CURRENT_TIMESTAMP)"
                )
            )
    finally:
        await engine.dispose()
    await upgrade_to_head_async(db_url)
    _tables, revision, diff = await _inspect(db_url)
    assert revision == _head()
    assert diff == []
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            kept = (await conn.execute(text("SELECT balance FROM paper_balances"))).scalars()
            assert list(kept) == ["5"]
    finally:
        await engine.dispose()


async def test_downgrade_to_base_and_back(db_url: str) -> None:
    await upgrade_to_head_async(db_url)
    cfg = alembic_config(db_url)

    def downgrade(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")

    engine = create_engine(db_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(downgrade)
            await conn.commit()
    finally:
        await engine.dispose()
    tables, revision, _ = await _inspect(db_url)
    assert not tables & TABLES
    assert revision is None
    await upgrade_to_head_async(db_url)
    tables, revision, diff = await _inspect(db_url)
    assert tables >= TABLES
    assert diff == []


async def test_postgres_lock_wait_is_bounded_with_a_one_line_error(db_url: str) -> None:
    if is_sqlite(db_url):
        pytest.skip("the advisory lock is PostgreSQL-only")
    holder = create_engine(db_url, poolclass=NullPool)
    try:
        async with holder.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            # A stuck holder: the upgrade gives up instead of waiting forever.
            with pytest.raises(MigrationLockTimeout) as excinfo:
                await asyncio.wait_for(upgrade_to_head_async(db_url, lock_wait=0.5), 30)
            assert "\n" not in str(excinfo.value)
            assert "migration lock" in str(excinfo.value)
            tables, _, _ = await _inspect(db_url)
            assert not tables & TABLES
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
    finally:
        await holder.dispose()


async def test_postgres_upgrade_waits_for_the_advisory_lock(db_url: str) -> None:
    if is_sqlite(db_url):
        pytest.skip("the advisory lock is PostgreSQL-only")
    holder = create_engine(db_url, poolclass=NullPool)
    try:
        async with holder.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
            upgrading = asyncio.create_task(upgrade_to_head_async(db_url))
            await asyncio.sleep(0.5)
            assert not upgrading.done()
            tables, _, _ = await _inspect(db_url)
            assert not tables & TABLES  # it really waited instead of migrating
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            await asyncio.wait_for(upgrading, timeout=30)
    finally:
        await holder.dispose()
    tables, revision, diff = await _inspect(db_url)
    assert revision == _head()
    assert diff == []


async def test_postgres_concurrent_upgrades_do_not_collide(db_url: str) -> None:
    if is_sqlite(db_url):
        pytest.skip("several processes migrating at once is a PostgreSQL deployment")
    await asyncio.gather(*(upgrade_to_head_async(db_url) for _ in range(5)))
    _, revision, diff = await _inspect(db_url)
    assert revision == _head()
    assert diff == []


def test_sync_upgrade_creates_parent_folders_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    upgrade_to_head("sqlite:///tmp/x/y/z.db")
    upgrade_to_head("sqlite:///tmp/x/y/z.db")
    assert (tmp_path / "tmp" / "x" / "y" / "z.db").is_file()
    tables, revision, diff = asyncio.run(_inspect(sqlite_url(tmp_path / "tmp/x/y/z.db")))
    assert tables >= TABLES
    assert revision == _head()
    assert diff == []


async def test_sqlite_connections_get_the_pragmas(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path / "p.db"))
    try:
        async with engine.connect() as conn:

            async def pragma(name: str) -> object:
                return (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()

            assert await pragma("journal_mode") == "wal"
            assert await pragma("busy_timeout") == 5000
            assert await pragma("foreign_keys") == 1
            assert await pragma("synchronous") == 1  # NORMAL
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////abs/bot.db", "sqlite+aiosqlite:////abs/bot.db"),
        ("sqlite+pysqlite:////abs/bot.db", "sqlite+aiosqlite:////abs/bot.db"),
        ("sqlite+aiosqlite:////abs/bot.db", "sqlite+aiosqlite:////abs/bot.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgres://u:p@h/d", "postgresql+asyncpg://u:p@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+asyncpg://u:p@h/d", "postgresql+asyncpg://u:p@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ],
)
def test_to_async_url(url: str, expected: str) -> None:
    assert to_async_url(url) == expected


def test_to_async_url_makes_relative_sqlite_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert to_async_url(DEFAULT_DATABASE_URL) == "sqlite+aiosqlite:///data/upbit-sell-bot.db"
    assert (tmp_path / "data").is_dir()
    # The order log is the owner's only: folder 0700, file 0600, whatever the umask.
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data" / "upbit-sell-bot.db").stat().st_mode) == 0o600


def test_migrations_folder_is_found_from_the_package() -> None:
    location = Path(alembic_config("sqlite://").get_main_option("script_location") or "")
    assert location.is_absolute()
    assert location == Path(bot.__file__).parent / "_migrations"
    # One source: in the source tree the package's folder is the top-level migrations/.
    assert location.resolve() == (Path(__file__).parents[1] / "migrations").resolve()
    assert (location / "env.py").is_file()
    assert (location / "versions").is_dir()


async def test_the_guard_row_is_there_after_migrating(db_url: str) -> None:
    """Claims update the one guard_state row first: the migration must insert it."""
    await upgrade_to_head_async(db_url)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id, locked FROM guard_state"))).all()
    finally:
        await engine.dispose()
    assert [(r[0], bool(r[1])) for r in rows] == [(1, False)]
