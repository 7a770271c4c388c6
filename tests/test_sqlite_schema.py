"""A new SQLite database is built in-process from the snapshot of what the migrations build.

The snapshot must be exactly the migrations' result (every table as SQLite stores it, the
seeded rows, the ``alembic_version`` stamp); it is refused when it is not at head, and a
database that already has a table is left to Alembic.
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from bot.db import sqlite_schema
from bot.db.engine import create_engine
from bot.db.migrate import alembic_config, upgrade_to_head_async
from bot.db.revision import head_revision, is_at_head
from bot.db.sqlite_schema import create_if_new, dump, snapshot, stamped_revision
from tests.db_fixtures import sqlite_url


def _clauses(body: str) -> list[str]:
    """A CREATE TABLE body split at its top-level commas."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(body[start:i].strip())
            start = i + 1
    parts.append(body[start:].strip())
    return parts


def canonical(script: str) -> list[str]:
    """A dump's statements, with each table's named constraints and the indexes in a fixed
    order.

    Alembic's batch mode (SQLite's way to alter a table: copy it into a new one) writes a
    table's constraints, and re-creates its indexes, in an order that varies from run to
    run; SQLite treats them alike. Columns keep their order, and everything else must match
    to the character.
    """
    statements = []
    for statement in script.split(";\n"):
        if statement.startswith("CREATE TABLE"):
            head, _, rest = statement.partition("(")
            body, _, tail = rest.rpartition(")")
            clauses = _clauses(body)
            columns = [c for c in clauses if not c.startswith("CONSTRAINT ")]
            constraints = sorted(c for c in clauses if c.startswith("CONSTRAINT "))
            statement = f"{head}({', '.join(columns + constraints)}){tail}"
        statements.append(statement)
    indexes = sorted(s for s in statements if s.startswith("CREATE INDEX"))
    return [s for s in statements if not s.startswith("CREATE INDEX")] + indexes


def test_the_comparison_sees_a_difference() -> None:
    script = snapshot()
    assert canonical(script) == canonical(script)
    assert canonical(script) != canonical(script.replace("NOT NULL", "NULL", 1))
    assert canonical(script) != canonical(script.replace("uq_orders_uuid", "uq_orders_x", 1))
    assert canonical(script) != canonical(script.replace("VALUES(1,0,", "VALUES(1,1,", 1))


async def test_the_snapshot_is_what_the_migrations_build(tmp_path: Path) -> None:
    path = tmp_path / "migrated.db"
    await upgrade_to_head_async(sqlite_url(path))
    assert canonical(snapshot()) == canonical(dump(path)), (
        "bot/db/sqlite_schema.sql is stale: regenerate it with `python -m bot.db.sqlite_schema`"
    )
    assert stamped_revision(snapshot()) == head_revision()


def test_a_new_database_gets_the_migrated_schema_at_head(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot.db"
    assert create_if_new(sqlite_url(path)) is True
    assert dump(path) == snapshot()
    assert is_at_head(sqlite_url(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_an_empty_file_counts_as_new(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    path.touch()
    assert create_if_new(sqlite_url(path)) is True
    assert dump(path) == snapshot()


def test_a_database_with_any_table_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE something_else (x INTEGER)")
    conn.commit()
    conn.close()
    before = dump(path)
    assert create_if_new(sqlite_url(path)) is False
    assert dump(path) == before


async def test_a_database_behind_head_is_left_to_alembic(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "old.db")

    def upgrade_to_0007(conn: Connection) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007")

    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to_0007)
    finally:
        await engine.dispose()
    before = dump(tmp_path / "old.db")
    assert create_if_new(url) is False
    assert dump(tmp_path / "old.db") == before
    assert not is_at_head(url)


def test_a_snapshot_not_at_head_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if a migration landed without a regenerated snapshot: Alembic must build it.
    monkeypatch.setattr(sqlite_schema, "head_revision", lambda: "9999")
    path = tmp_path / "bot.db"
    assert create_if_new(sqlite_url(path)) is False
    assert not path.exists()


def test_a_file_that_is_not_a_database_is_left_to_alembic(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    path.write_bytes(b"not a database at all, but long enough to have a header" * 4)
    assert create_if_new(sqlite_url(path)) is False
    assert path.read_bytes().startswith(b"not a database")


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "postgresql://nobody@127.0.0.1:9/none"]
)
def test_only_sqlite_files_qualify(url: str) -> None:
    assert create_if_new(url) is False
