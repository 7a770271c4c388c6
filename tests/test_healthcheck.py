"""`python -m bot.healthcheck`: the Dockerfile's HEALTHCHECK, run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_healthcheck(
    heartbeat: Path | None, max_age: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # No token, no network settings: the check must not need them.
    for name in ("HEARTBEAT_FILE", "HEALTHCHECK_MAX_AGE", "TELEGRAM_BOT_TOKEN", "DATABASE_URL"):
        env.pop(name, None)
    if heartbeat is not None:
        env["HEARTBEAT_FILE"] = str(heartbeat)
    if max_age is not None:
        env["HEALTHCHECK_MAX_AGE"] = max_age
    return subprocess.run(
        [sys.executable, "-m", "bot.healthcheck"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    output = (result.stdout + result.stderr).strip()
    assert output, "the healthcheck printed nothing"
    assert len(output.splitlines()) == 1, output
    return output


def test_fresh_heartbeat_is_healthy(tmp_path: Path) -> None:
    beat = tmp_path / "beat"
    beat.touch()
    result = run_healthcheck(beat)
    assert result.returncode == 0, result
    assert "healthy" in one_line(result)


def test_stale_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    beat = tmp_path / "beat"
    beat.touch()
    old = time.time() - 61
    os.utime(beat, (old, old))
    result = run_healthcheck(beat)
    assert result.returncode == 1, result
    assert "unhealthy" in one_line(result)


def test_max_age_is_configurable(tmp_path: Path) -> None:
    beat = tmp_path / "beat"
    beat.touch()
    old = time.time() - 30
    os.utime(beat, (old, old))
    assert run_healthcheck(beat).returncode == 0  # default limit: 60 s
    assert run_healthcheck(beat, max_age="10").returncode == 1
    assert run_healthcheck(beat, max_age="120").returncode == 0


def test_missing_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    result = run_healthcheck(tmp_path / "never-written")
    assert result.returncode == 1, result
    assert "no heartbeat file" in one_line(result)


@pytest.mark.parametrize("bad", ["abc", "0", "-5", "nan"])
def test_bad_max_age_is_unhealthy_with_one_line(tmp_path: Path, bad: str) -> None:
    beat = tmp_path / "beat"
    beat.touch()
    result = run_healthcheck(beat, max_age=bad)
    assert result.returncode == 1, result
    assert "HEALTHCHECK_MAX_AGE" in one_line(result)


def test_healthcheck_imports_nothing_heavy() -> None:
    code = (
        "import runpy, sys\n"
        "sys.argv = ['healthcheck']\n"
        "try:\n"
        "    runpy.run_module('bot.healthcheck', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'telegram', 'sqlalchemy', 'httpx', 'pydantic', 'pydantic_settings', 'alembic'})\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, "HEARTBEAT_FILE": "/nonexistent/beat"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result
