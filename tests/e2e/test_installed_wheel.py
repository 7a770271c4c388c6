"""The bot as a user installs it: ``uv build`` → a fresh venv → run from an empty folder.

The wheel is built from the sdist (as ``pip install .`` does), installed with the locked
dependency versions into a venv of its own, and started — as the console script
``upbit-sell-bot`` and as ``python -m bot`` — from an empty temporary folder, with no
``PYTHONPATH`` and no ``alembic`` command: the migrations must come from inside the installed
package. Each start must answer ``/start`` through the Telegram stand-in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import USER
from tests.e2e.process import BotProcess, bot_env
from tests.standins.telegram import TelegramStandin
from tests.standins.upbit import UpbitStandIn

REPO = Path(__file__).resolve().parents[2]
STARTED = "bot started (live mode)"


def _uv() -> str:
    found = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail("uv is needed to build the wheel: run ./scripts/test (it installs uv)")
    return found


def _run(*argv: str | Path, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the built wheel and its locked dependencies; its bin folder."""
    uv = _uv()
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    _run(uv, "build", "--out-dir", dist, REPO, cwd=root)
    wheels = list(dist.glob("upbit_sell_bot-*.whl"))
    assert len(wheels) == 1, wheels
    requirements = root / "requirements.txt"
    _run(
        uv, "export", "--project", REPO, "--locked", "--no-dev", "--no-emit-project",
        "--format", "requirements-txt", "--output-file", requirements,
        cwd=root,
    )  # fmt: skip
    venv = root / "venv"
    _run(uv, "venv", "--python", sys.executable, venv, cwd=root)
    python = venv / "bin" / "python"
    _run(uv, "pip", "install", "--python", python, "-r", requirements, wheels[0], cwd=root)
    # Start-up must not need Alembic's command line.
    (venv / "bin" / "alembic").unlink()
    return venv / "bin"


@pytest.mark.parametrize("how", ["console script", "python -m bot"])
def test_the_installed_wheel_runs_from_an_empty_folder(
    installed: Path,
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
    how: str,
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = bot_env(telegram_standin, upbit_standin, logs)
    del env["PYTHONPATH"]  # the installed package, never the source tree
    env["PATH"] = f"{installed}{os.pathsep}{env['PATH']}"
    argv = (
        [str(installed / "upbit-sell-bot")]
        if how == "console script"
        else [str(installed / "python"), "-m", "bot"]
    )
    bot = BotProcess(env, logs, "bot", argv=argv, cwd=empty)
    try:
        bot.wait_for_log(STARTED, timeout=60)
        mark = telegram_standin.mark()
        telegram_standin.send_command(USER, "/start")
        reply = telegram_standin.wait_for_message(USER, timeout=30, after=mark)
        assert "Upbit sell bot" in str(reply.params["text"])
        assert (logs / "bot.db").is_file()  # migrated where DATABASE_URL points
        assert list(empty.iterdir()) == []  # nothing written to the working directory
        code, _ = bot.terminate(timeout=15)
        assert code == 0, bot.output()
    finally:
        bot.close()
    assert "Traceback" not in bot.output()
    site = next((installed.parent / "lib").glob("python3*/site-packages"))
    assert (site / "bot" / "_migrations" / "env.py").is_file()
