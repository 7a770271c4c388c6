"""A new SQLite database gets, in this process and at once, what the migrations would build.

Alembic runs in a child process (`bot.db.migrate_process`) that costs most of a second of
start-up. A database with no tables at all has nothing to migrate from: the end state of
every migration on SQLite is kept in ``sqlite_schema.sql``, the ``iterdump`` of a database
the migrations built (tables exactly as SQLite stores them, the ``guard_state`` row and the
``alembic_version`` stamp included). Running that script in one transaction gives the very
same database, so later migrations apply to it as to any other.

The snapshot is used only while its ``alembic_version`` row names the head of the shipped
migration scripts; a migration added without regenerating it (``python -m
bot.db.sqlite_schema``) means Alembic builds the new database, as before, and
tests/test_sqlite_schema.py fails until the snapshot is regenerated.

Only SQLite, only a database without a single table: anything else is Alembic's to judge.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.db.engine import to_async_url
from bot.db.migrate_process import sqlite_lock_path
from bot.db.revision import head_revision

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "sqlite_schema.sql"
_STAMP = re.compile(r"""^INSERT INTO "alembic_version" VALUES\('([^']+)'\);$""", re.MULTILINE)


def dump(path: Path) -> str:
    """The SQL text that rebuilds the SQLite database at ``path`` (schema and rows)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return "\n".join(conn.iterdump()) + "\n"
    finally:
        conn.close()


def snapshot() -> str:
    """The shipped snapshot: what the migrations build on a new SQLite database."""
    return (resources.files("bot.db") / SNAPSHOT_NAME).read_text(encoding="utf-8")


def stamped_revision(script: str) -> str | None:
    """The revision a dump stamps in ``alembic_version``; None when it stamps none."""
    found = _STAMP.findall(script)
    return found[0] if len(found) == 1 else None


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite ``url``; None for another database or an in-memory one."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database:
        return None
    if database == ":memory:" or database.startswith("file:"):
        return None
    return database


@contextlib.contextmanager
def _migration_lock(database: str) -> Iterator[None]:
    """The same exclusive lock the Alembic upgrade takes (`bot.db.migrate`)."""
    fd = os.open(sqlite_lock_path(database), os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def create_if_new(url: str) -> bool:
    """Give the SQLite database at ``url`` the migrations' schema when it has no table yet.

    True when it did (the database is then at head); False when the database is not a
    SQLite file, already has tables, could not be read, or the snapshot is not at head:
    the caller then leaves the database to Alembic.
    """
    if sqlite_file(url) is None:
        return False
    script = snapshot()
    revision = stamped_revision(script)
    if revision is None or revision != head_revision():
        log.warning("the SQLite schema snapshot is not at the migrations' head; using Alembic")
        return False
    # Creates the folder (0700) and the file (0600) when missing, as the engine does.
    database = sqlite_file(to_async_url(url))
    if database is None:  # pragma: no cover - the same URL, with its async driver
        return False
    try:
        with _migration_lock(database):
            conn = sqlite3.connect(database, timeout=5, isolation_level=None)
            try:
                if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                    return False
                conn.executescript(script)  # BEGIN ... COMMIT: all of it or nothing
            finally:
                conn.close()
    except (OSError, sqlite3.Error) as exc:
        log.warning("could not create the new SQLite database in-process (%s); using Alembic", exc)
        return False
    log.info("new SQLite database: created at migration %s", revision)
    return True


def _regenerate() -> None:
    """Rebuild ``sqlite_schema.sql`` from the migrations (a developer's tool; loads Alembic)."""
    import tempfile

    from bot.db.migrate import upgrade_to_head

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.db"
        upgrade_to_head(f"sqlite:///{path}")
        target = Path(__file__).with_name(SNAPSHOT_NAME)
        target.write_text(dump(path), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    _regenerate()
