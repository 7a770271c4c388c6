"""Is the database already at the newest migration? Answered cheaply, without Alembic.

Start-up only needs the migration child process (`bot.db.migrate_process`) when the schema
is behind. Reading one row of ``alembic_version`` and the ``revision`` lines of the shipped
migration scripts costs a few milliseconds, where starting Alembic in a child costs most
of a second. Any doubt (no file, no table, an unreadable script, a driver error) answers
"not at head", and the child process then decides with Alembic itself.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from importlib import resources
from pathlib import Path

from sqlalchemy.engine import make_url

_REVISION = re.compile(r"^revision(?:\s*:\s*[^=]+)?\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?:\s*:\s*[^=]+)?\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)


def head_revision() -> str | None:
    """The one revision no other script builds on, or None when that is not clear-cut."""
    versions = resources.files("bot") / "_migrations" / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.iterdir():
        if not script.name.endswith(".py"):
            continue
        source = script.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            return None
        revisions.add(revision.group(1))
        parents.update(_DOWN.findall(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _sqlite_revision(database: str) -> str | None:
    path = Path(database)
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        conn.close()
    return str(row[0]) if row else None


async def _postgres_revision(url: str) -> str | None:
    import asyncpg  # type: ignore[import-untyped]  # the bot's own PostgreSQL driver

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
        timeout=10,
    )
    try:
        value = await conn.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await conn.close()
    return str(value) if value is not None else None


def current_revision(url: str) -> str | None:
    """The revision stamped in the database at ``url``; None when there is none."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return _sqlite_revision(database)
    if backend == "postgresql":
        return asyncio.run(_postgres_revision(url))
    return None


def is_at_head(url: str) -> bool:
    """True only when the database certainly needs no migration."""
    try:
        head = head_revision()
        return head is not None and current_revision(url) == head
    except Exception:
        return False
