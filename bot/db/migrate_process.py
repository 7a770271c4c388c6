"""Run the migrations in a short-lived child process (``python -m bot.db.migrate``), so the
long-running bot never keeps Alembic in memory (about 11 MB of its idle footprint).

This module imports neither Alembic nor SQLAlchemy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MIGRATE_URL_ENV = "UPBIT_SELL_BOT_MIGRATE_URL"
MIGRATE_LOG_LEVEL_ENV = "UPBIT_SELL_BOT_MIGRATE_LOG_LEVEL"


def sqlite_lock_path(database: str) -> Path:
    """The file whose exclusive lock serialises schema changes to the SQLite file
    ``database`` across processes (PostgreSQL uses an advisory lock instead)."""
    return Path(f"{database}.migrate-lock")


class MigrationFailed(RuntimeError):
    """The child process could not bring the schema to head; its output says why."""


def upgrade_in_child_process(url: str, log_level: str = "INFO") -> None:
    """Bring the database at ``url`` to head in a child process; raises `MigrationFailed`.

    The URL travels in the environment, not on the command line where ``ps`` would show a
    password.
    """
    env = {**os.environ, MIGRATE_URL_ENV: url, MIGRATE_LOG_LEVEL_ENV: log_level}
    result = subprocess.run([sys.executable, "-m", "bot.db.migrate"], env=env, check=False)
    if result.returncode != 0:
        raise MigrationFailed(f"database migration failed (exit code {result.returncode})")
