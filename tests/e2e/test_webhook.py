"""Webhook mode end to end: the real bot as a subprocess (`python -m bot`) against the stand-ins.

The bot registers its webhook with the Telegram stand-in, serves it on 127.0.0.1, accepts
only updates that carry the secret token, never long-polls, writes its heartbeat, and stops
cleanly on SIGTERM. Webhook mode without a secret refuses to start.

The helpers here (`BotProcess`, `bot_env`, `free_port`) are shared with
``tests/e2e/test_multiprocess.py``.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bot.config import Settings
from tests.e2e.harness import OTHER, STRANGER, USER
from tests.e2e.process import assert_no_secrets
from tests.standins.telegram import Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # an event wait: generous, CI runs 2 cores for many jobs
STOP_TIMEOUT = 8.0
HEARTBEAT_TIMEOUT = 25.0
HELP_MARKER = "Upbit sell bot"

# Every variable the bot reads (plus the healthcheck's): never inherited from the test runner.
_BOT_VARIABLES = frozenset(name.upper() for name in Settings.model_fields) | {
    "HEALTHCHECK_MAX_AGE"
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(
    tg: TelegramStandin,
    upbit: UpbitStandIn,
    *,
    database_url: str,
    heartbeat_file: Path,
    port: int | None = None,
    secret: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of a bot subprocess; ``port`` set → webhook mode on 127.0.0.1:port."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in _BOT_VARIABLES}
    env.update(
        TELEGRAM_BOT_TOKEN=tg.token,
        ALLOWED_USER_IDS=f"{USER},{OTHER}",
        UPBIT_ACCESS_KEY=upbit.access_key,
        UPBIT_SECRET_KEY=upbit.secret_key,
        TELEGRAM_API_URL=tg.url,
        UPBIT_API_URL=upbit.url,
        UPBIT_WS_URL=upbit.ws_url,
        DATABASE_URL=database_url,
        HEARTBEAT_FILE=str(heartbeat_file),
        POLL_INTERVAL_SECONDS="0.3",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    if port is not None:
        env["WEBHOOK_URL"] = webhook_url_for(port)
        env["WEBHOOK_LISTEN"] = f"127.0.0.1:{port}"
    if secret is not None:
        env["WEBHOOK_SECRET"] = secret
    env.update(extra)
    return env


def webhook_url_for(port: int) -> str:
    # A random path per port, fixed for the process's lifetime (`bot_env` and the test agree).
    path = _WEBHOOK_PATHS.setdefault(port, secrets.token_urlsafe(12))
    return f"http://127.0.0.1:{port}/tg/{path}"


_WEBHOOK_PATHS: dict[int, str] = {}


class BotProcess:
    """One `python -m bot` subprocess; output goes to a log file shown on failures."""

    def __init__(self, env: Mapping[str, str], workdir: Path, name: str = "bot") -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            # cwd is a scratch folder: no stray `.env` is read.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    @property
    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def describe(self) -> str:
        code = None if self.proc is None else self.proc.poll()
        return f"[{self.name} exit={code}]\n{self.log[-4000:]}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, tg: TelegramStandin, timeout: float = START_TIMEOUT) -> None:
        """Webhook registered with the stand-in and the webhook port accepting connections.

        Updates accepted before the application has fully started wait in PTB's update
        queue, so this is enough to start posting."""
        url = self.env["WEBHOOK_URL"]
        host, _, port = self.env["WEBHOOK_LISTEN"].rpartition(":")

        def ready() -> bool:
            registered = any(c.get("url") == url and c.ok for c in tg.calls("setWebhook"))
            return registered and _accepts(host, int(port))

        self.wait_until(ready, timeout, "to serve its webhook")

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if not self.alive():
                raise AssertionError(f"{self.name} exited while waiting {what}\n{self.describe()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {self.name} {what}\n{self.describe()}")

    def wait_for_log(self, text: str, timeout: float) -> None:
        self.wait_until(lambda: text in self.log, timeout, f"to log {text!r}")

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; returns the exit code (AssertionError if it does not stop)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} did not stop within {timeout}s of SIGTERM\n{self.describe()}"
            ) from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def running(*bots: BotProcess, start: bool = True) -> Iterator[tuple[BotProcess, ...]]:
    """Start all bots at (nearly) the same moment (``start=False``: the caller starts them);
    every one is killed afterwards, whatever happened."""
    try:
        if start:
            for bot in bots:
                bot.start()
        yield bots
    finally:
        for bot in bots:
            bot.kill()
        for bot in bots:
            assert_no_secrets(bot.log, bot.env)


def sent_messages(
    tg: TelegramStandin, chat_id: int, contains: str, *, after: int = 0
) -> list[Call]:
    """Successful sendMessage calls to ``chat_id`` whose text contains ``contains``."""
    return [
        c
        for c in tg.calls("sendMessage", after=after)
        if c.ok and str(c.chat_id) == str(chat_id) and contains in str(c.get("text", ""))
    ]


def settle(seconds: float) -> None:
    time.sleep(seconds)


# ------------------------------------------------------------------------------------- tests


def test_webhook_mode_serves_only_secret_bearing_updates(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    tg = telegram_standin
    port = free_port()
    secret = secrets.token_urlsafe(24)
    heartbeat = tmp_path / "heartbeat"
    env = bot_env(
        tg,
        upbit_standin,
        database_url=f"sqlite:///{tmp_path}/bot.db",
        heartbeat_file=heartbeat,
        port=port,
        secret=secret,
    )
    url = env["WEBHOOK_URL"]
    bot = BotProcess(env, tmp_path / "run")
    with running(bot):
        bot.wait_ready(tg)
        # The webhook server (tornado) is loaded in this mode; tests/e2e/test_startup.py
        # checks, with the same look at the memory map, that polling does without it.
        assert bot.proc is not None
        assert "tornado" in Path(f"/proc/{bot.proc.pid}/maps").read_text()

        # setWebhook: our URL and our secret.
        registrations = [c for c in tg.calls("setWebhook") if c.ok]
        assert [c.get("url") for c in registrations] == [url]
        assert registrations[0].get("secret_token") == secret

        # Without the header, and with a wrong secret: 403, and nothing happens.
        mark = tg.mark()
        no_header = tg.build_command_update(USER, "/help")
        assert tg.post_update_to(url, no_header) == 403
        wrong = tg.build_command_update(USER, "/help")
        assert tg.post_update_to(url, wrong, secret_token=secret + "x") == 403
        also_wrong = tg.build_command_update(USER, "/balance")
        assert tg.post_update_to(url, also_wrong, secret_token="not-the-secret") == 403
        settle(1.0)
        assert sent_messages(tg, USER, "", after=mark) == [], "a refused update was handled"
        assert upbit_standin.requests_to("GET", "/v1/accounts") == []

        # With the right secret: handled, the reply reaches the stand-in.
        update = tg.build_command_update(USER, "/help")
        assert tg.post_update_to(url, update, secret_token=secret) == 200
        reply = tg.wait_for_message(
            USER, lambda c: HELP_MARKER in str(c.get("text", "")), timeout=10, after=mark
        )
        assert reply.ok

        # A stranger's update with the right secret is delivered but refused by the gate.
        stranger_mark = tg.mark()
        stranger = tg.build_command_update(STRANGER, "/balance")
        assert tg.post_update_to(url, stranger, secret_token=secret) == 200
        refusal = tg.wait_for_message(
            STRANGER,
            lambda c: "private" in str(c.get("text", "")),
            timeout=10,
            after=stranger_mark,
        )
        assert refusal.ok
        assert upbit_standin.requests_to("GET", "/v1/accounts") == [], "a stranger cost a call"
        assert sent_messages(tg, STRANGER, "BTC", after=stranger_mark) == []

        # Webhook mode never long-polls.
        assert tg.calls("getUpdates") == []

        # The heartbeat is written and the container healthcheck passes against it. (The
        # JobQueue's first touch currently comes one interval, 15 s, after start.)
        bot.wait_until(heartbeat.exists, HEARTBEAT_TIMEOUT, "to write its heartbeat")
        check = subprocess.run(
            [sys.executable, "-m", "bot.healthcheck"],
            env={**os.environ, "HEARTBEAT_FILE": str(heartbeat)},
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert check.returncode == 0, check

        # SIGTERM: a clean stop within a few seconds.
        started = time.monotonic()
        assert bot.terminate() == 0, bot.describe()
        assert time.monotonic() - started < STOP_TIMEOUT
        assert "Traceback" not in bot.log, bot.describe()
        assert tg.calls("getUpdates") == []


def test_webhook_mode_without_secret_refuses_to_start(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    tg = telegram_standin
    env = bot_env(
        tg,
        upbit_standin,
        database_url=f"sqlite:///{tmp_path}/bot.db",
        heartbeat_file=tmp_path / "heartbeat",
        port=free_port(),
    )
    assert "WEBHOOK_SECRET" not in env
    bot = BotProcess(env, tmp_path / "run")
    with running(bot):
        assert bot.proc is not None
        code = bot.proc.wait(30)
    assert code == 2, bot.describe()
    lines = bot.log.strip().splitlines()
    assert len(lines) == 1, bot.describe()
    assert "WEBHOOK_SECRET" in lines[0]
    assert "Traceback" not in bot.log
    # It stopped before touching anything: no Bot API call, no database file.
    assert tg.calls() == []
    assert not (tmp_path / "bot.db").exists()
