"""The clock the services read when they need "now" for a record (created_at and the like).

Deadlines between processes (preview expiry, announcement leases, the submission grace) are
not judged by this clock but by the database's (see `bot.db.repository`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
