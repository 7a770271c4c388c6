"""Smoke test of the benchmark: ``python -m bench.run --quick`` completes and writes JSON
with every scenario. No timed assertions: the figures depend on the machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import SCENARIO_KEYS

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(300)
def test_quick_bench_writes_every_scenario(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    # A child process: the bench patches the Telegram stand-in's handler class in its own
    # process (see bench.run.telegram_nodelay), which must not leak into this test session.
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads(out.read_text())
    scenarios = document["scenarios"]
    missing = [key for key in SCENARIO_KEYS if key not in scenarios]
    assert not missing, missing
    for key in SCENARIO_KEYS:
        assert scenarios[key], key
    assert document["table"], "no table rows"
    assert all({"name", "value", "target", "ok"} <= set(row) for row in document["table"])
    assert "confirm press -> POST /v1/orders" in done.stdout
