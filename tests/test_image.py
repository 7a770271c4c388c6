"""The Docker image, built from the unchanged Dockerfile and run — without a Docker daemon.

``scripts/image-test build`` builds the image with buildah (as root, chroot isolation, vfs
storage) on a stand-in ``python:3.11-slim`` made from Debian's packages; these tests then run
it with ``buildah run`` on the host network against the stand-ins on 127.0.0.1, using the
image's own CMD, HEALTHCHECK, USER, ENV and VOLUME:

- a bad setting stops it with one line on stderr (exit 2);
- the health check fails before the bot runs and passes while it runs;
- in paper mode ``/start`` and ``/sell`` → Confirm get their replies;
- the bot's process runs as uid 10001 and its SQLite database lands on ``/data``.

Skipped unless this is root with buildah (``.ci/run`` installs it when it runs as root).
Building takes minutes on a busy machine: the module-wide fixture builds once, or reuses
the image named by ``UPBIT_SELL_BOT_IMAGE`` (``scripts/image-test`` sets it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import USER
from tests.e2e.process import assert_no_secrets, confirm_data
from tests.standins.fixtures_telegram import DEFAULT_TOKEN
from tests.standins.telegram import TelegramStandin
from tests.standins.upbit import UpbitStandIn

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "image-test"
APP_UID = 10001
BUILDAH_TRAILER = re.compile(r"^(subprocess exited with status \d+|Error: exit status \d+)$")

pytestmark = [
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("buildah") is None,
        reason="building and running the image needs root and buildah (scripts/image-test)",
    ),
    pytest.mark.timeout(1800),
]


def buildah(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """buildah on the storage scripts/image-test uses."""
    result = subprocess.run(
        ["bash", str(SCRIPT), "buildah", *args], capture_output=True, text=True, check=False
    )
    if check:
        assert result.returncode == 0, f"buildah {args}:\n{result.stdout}\n{result.stderr}"
    return result


@dataclass
class Container:
    """A working container from the image, and the image's run-time configuration."""

    name: str
    config: dict[str, Any]

    def run_argv(self, command: list[str], env: dict[str, str]) -> list[str]:
        argv = ["bash", str(SCRIPT), "buildah", "run", "--isolation", "chroot"]
        argv += ["--network", "host"]
        for key, value in env.items():
            argv += ["--env", f"{key}={value}"]
        return [*argv, self.name, "--", *command]

    def run(self, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.run_argv(command, env), capture_output=True, text=True, timeout=120, check=False
        )

    @property
    def cmd(self) -> list[str]:
        return list(self.config["Cmd"])

    @property
    def healthcheck(self) -> list[str]:
        test = list(self.config["Healthcheck"]["Test"])
        assert test[0] == "CMD", test
        return test[1:]

    def health(self) -> subprocess.CompletedProcess[str]:
        return self.run(self.healthcheck, {})


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    given = os.environ.get("UPBIT_SELL_BOT_IMAGE", "").strip()
    if given:
        yield given
        return
    built = subprocess.run(
        ["bash", str(SCRIPT), "build"], stdout=subprocess.PIPE, text=True, check=False
    )
    assert built.returncode == 0, "scripts/image-test build failed (its output is above)"
    image_id = built.stdout.split()[-1]
    yield image_id
    buildah("rmi", image_id, check=False)


@pytest.fixture(scope="module")
def container(image: str) -> Iterator[Container]:
    config = json.loads(buildah("inspect", "--type", "image", image).stdout)["Docker"]["config"]
    name = buildah("from", "--pull-never", image).stdout.strip()
    try:
        yield Container(name, config)
    finally:
        buildah("rm", name, check=False)


def paper_env(tg: TelegramStandin, upbit: UpbitStandIn) -> dict[str, str]:
    """Only the settings a user sets; DATABASE_URL and HEARTBEAT_FILE come from the image."""
    return {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "ALLOWED_USER_IDS": str(USER),
        "PAPER_TRADING": "true",
        "PAPER_BALANCES": "KRW=1000000,BTC=0.05",
        "TELEGRAM_API_URL": tg.url,
        "UPBIT_API_URL": upbit.url,
        "UPBIT_WS_URL": upbit.ws_url,
    }


def test_the_image_is_configured_as_the_dockerfile_says(container: Container) -> None:
    config = container.config
    assert config["User"] == f"{APP_UID}:{APP_UID}"
    assert config["WorkingDir"] == "/app"
    assert "/data" in config["Volumes"]
    assert "DATABASE_URL=sqlite:////data/upbit-sell-bot.db" in config["Env"]
    assert container.cmd == ["upbit-sell-bot"]


def test_a_bad_setting_stops_it_with_one_line(
    container: Container, telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn
) -> None:
    env = paper_env(telegram_standin, upbit_standin) | {"CONFIRM_TIMEOUT_SECONDS": "1"}
    result = container.run(container.cmd, env)
    assert result.returncode == 2, result
    # buildah itself reports the exit status after the container's output; docker does not.
    lines = [line for line in result.stderr.splitlines() if not BUILDAH_TRAILER.match(line)]
    assert len(lines) == 1, result.stderr
    assert "CONFIRM_TIMEOUT_SECONDS" in lines[0]
    assert telegram_standin.calls() == []  # it stopped before talking to anyone


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _bot_process(launcher: int) -> tuple[int, int]:
    """(pid, real uid) of the bot started by the ``buildah run`` process ``launcher``."""
    for pid in _descendants(launcher):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        # python running the console script (not buildah's chroot helper, whose arguments
        # name the command too)
        if Path(cmdline[0].decode()).name.startswith("python") and any(
            part.endswith(b"/upbit-sell-bot") for part in cmdline
        ):
            uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
            return pid, int(uid_line.split()[1])
    raise AssertionError(f"no upbit-sell-bot process under {launcher}")


def test_the_image_serves_paper_trading(
    container: Container,
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
) -> None:
    tg = telegram_standin
    before = container.health()
    assert before.returncode != 0, before
    assert "unhealthy" in before.stdout + before.stderr

    env = paper_env(tg, upbit_standin)
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log:
        launcher = subprocess.Popen(
            container.run_argv(container.cmd, env), stdout=log, stderr=subprocess.STDOUT
        )
    try:
        tg.wait_for_call("getUpdates", timeout=120, completed=False)  # serving

        mark = tg.mark()
        tg.send_command(USER, "/start")
        start = tg.wait_for_message(USER, timeout=30, after=mark)
        assert "Upbit sell bot" in str(start.params["text"])

        mark = tg.mark()
        tg.send_command(USER, "/sell BTC 50%")
        preview = tg.wait_for_message(
            USER, lambda c: "Sell preview" in str(c.params.get("text")), timeout=30, after=mark
        )
        assert "PAPER" in str(preview.params["text"])
        mark = tg.mark()
        tg.press_button(USER, preview.result["message_id"], confirm_data(preview))
        placed = tg.wait_for_edit(
            USER,
            preview.result["message_id"],
            lambda c: "Order placed" in str(c.params.get("text")),
            timeout=30,
            after=mark,
        )
        assert "PAPER" in str(placed.params["text"])
        notice = tg.wait_for_message(
            USER, lambda c: "Sold" in str(c.params.get("text")), timeout=30, after=mark
        )
        assert "Executed: 0.025 BTC" in str(notice.params["text"])
        assert upbit_standin.requests_to("POST", "/v1/orders") == []  # paper: nothing sent

        # The heartbeat is written at start-up, before Telegram is polled.
        during = container.health()
        assert during.returncode == 0, during
        assert "healthy" in during.stdout

        pid, uid = _bot_process(launcher.pid)
        assert uid == APP_UID

        database = container.run(
            ["python", "-c", "import os; print(os.stat('/data/upbit-sell-bot.db').st_uid)"], {}
        )
        assert database.returncode == 0, database
        assert database.stdout.strip() == str(APP_UID)

        os.kill(pid, signal.SIGTERM)  # what `docker stop` sends
        code = launcher.wait(timeout=60)
        assert code == 0, log_path.read_text(errors="replace")
    finally:
        if launcher.poll() is None:
            for child in _descendants(launcher.pid):  # only what this test started
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            launcher.kill()
            launcher.wait(timeout=30)
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output, output
    assert_no_secrets(output, env)
