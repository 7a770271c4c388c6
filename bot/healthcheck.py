"""Container healthcheck: ``python -m bot.healthcheck`` (Dockerfile ``HEALTHCHECK``).

A polling bot has no port to probe, so the running bot touches a heartbeat file every
15 seconds (``bot.app``'s ``heartbeat`` job) and this check looks at its age:

- exit 0 when ``HEARTBEAT_FILE`` (default ``/tmp/upbit-sell-bot.heartbeat``) was modified
  within ``HEALTHCHECK_MAX_AGE`` seconds (default 60);
- exit 1 when the file is missing or older (stale), or the settings are unusable.

It prints one line either way, needs no network and no token, and imports only the
standard library (no telegram, no sqlalchemy), so it is cheap to run every 30 seconds.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Mapping

DEFAULT_HEARTBEAT_FILE = "/tmp/upbit-sell-bot.heartbeat"  # noqa: S108 - same default as bot.config
DEFAULT_MAX_AGE = 60.0

__all__ = ["DEFAULT_HEARTBEAT_FILE", "DEFAULT_MAX_AGE", "check", "main"]


def check(env: Mapping[str, str], now: float | None = None) -> tuple[int, str]:
    """(exit code, one-line message) for the heartbeat named by ``env``."""
    path = env.get("HEARTBEAT_FILE", "").strip() or DEFAULT_HEARTBEAT_FILE
    raw_age = env.get("HEALTHCHECK_MAX_AGE", "").strip()
    try:
        max_age = float(raw_age) if raw_age else DEFAULT_MAX_AGE
    except ValueError:
        max_age = math.nan
    if not math.isfinite(max_age) or max_age <= 0:
        return 1, f"unhealthy: HEALTHCHECK_MAX_AGE must be a positive number (got {raw_age!r})"
    try:
        modified = os.stat(path).st_mtime
    except FileNotFoundError:
        return 1, f"unhealthy: no heartbeat file at {path}"
    except OSError as exc:
        return 1, f"unhealthy: cannot read heartbeat file {path}: {exc.strerror}"
    age = (time.time() if now is None else now) - modified
    if age > max_age:
        return 1, f"unhealthy: heartbeat {age:.0f}s old (limit {max_age:g}s) at {path}"
    return 0, f"healthy: heartbeat {max(age, 0.0):.0f}s old at {path}"


def main() -> int:
    code, message = check(os.environ)
    print(message, file=sys.stdout if code == 0 else sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
