"""The cheap "already at head?" check that lets start-up skip the migration child process."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from bot.db.engine import create_engine
from bot.db.migrate import alembic_config, upgrade_to_head_async
from bot.db.revision import current_revision, head_revision, is_at_head
from tests.db_fixtures import db_url, sqlite_url

__all__ = ["db_url"]


def test_head_matches_alembics_own_answer() -> None:
    expected = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert expected is not None
    assert head_revision() == expected


async def _stamp(url: str, revision: str) -> None:
    def stamp(conn: Connection) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.stamp(cfg, revision)

    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(stamp)
    finally:
        await engine.dispose()


async def test_at_head_only_after_the_migrations_ran(db_url: str) -> None:
    assert await asyncio.to_thread(is_at_head, db_url) is False  # empty database
    await upgrade_to_head_async(db_url)
    assert await asyncio.to_thread(current_revision, db_url) == head_revision()
    assert await asyncio.to_thread(is_at_head, db_url) is True
    await _stamp(db_url, "0001")  # a database left behind by an older release
    assert await asyncio.to_thread(is_at_head, db_url) is False


def test_missing_sqlite_file_is_not_at_head_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "bot.db"
    assert is_at_head(sqlite_url(path)) is False
    assert not path.exists()
    assert not path.parent.exists()


def test_unreachable_postgres_is_not_at_head() -> None:
    # Port 9 (discard) refuses at once on loopback: doubt means "run the migrations".
    assert is_at_head("postgresql://nobody@127.0.0.1:9/none") is False
