"""`SubprocessChartRenderer`: draws a chart in a child process (`bot.charts.bars`).

The child imports Pillow, draws, writes the PNG and exits, so the bot's own memory never
holds the drawing library. It gets the spec on stdin and only the environment it needs to
start Python (no bot token, no Upbit keys, no settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys

from bot.services.profit import BarChart, ChartFailed

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 5_000_000
GREEN, RED, BLUE = "#16a34a", "#dc2626", "#1d4ed8"


# What a Python child needs to find itself and the installed packages; nothing secret.
_CHILD_ENV = (
    "PATH",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "SYSTEMROOT",
)


def _child_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key in _CHILD_ENV}


class SubprocessChartRenderer:
    """Implements `bot.services.profit.ChartRenderer`."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        self._timeout = timeout
        # One chart at a time: a burst of /pnl presses does not start a crowd of children.
        self._one = asyncio.Semaphore(1)

    async def bar_chart(self, chart: BarChart) -> bytes:
        spec = {
            "title": chart.title,
            "labels": list(chart.labels),
            "values": [format(v, "f") for v in chart.values],
            "up": RED if chart.rising_red else GREEN,
            "down": BLUE if chart.rising_red else RED,
        }
        async with self._one:
            return await self._run(json.dumps(spec).encode())

    async def _run(self, payload: bytes) -> bytes:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.charts.bars",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_child_env(),
        )
        try:
            out, err = await asyncio.wait_for(child.communicate(payload), self._timeout)
        except BaseException as exc:  # timed out, or the bot is stopping: no orphan child
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
            if isinstance(exc, TimeoutError):
                raise ChartFailed("timed out") from exc
            raise
        if child.returncode != 0 or not out.startswith(PNG_SIGNATURE):
            log.warning(
                "chart child failed (exit %s): %s",
                child.returncode,
                err.decode(errors="replace")[-300:],
            )
            raise ChartFailed(f"exit {child.returncode}")
        if len(out) > MAX_PNG_BYTES:
            raise ChartFailed("chart too large")
        return out
