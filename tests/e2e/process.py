"""Run the bot as a real OS process (``python -m bot``) against the in-test stand-ins.

The stand-ins serve from their own threads, so the test may block (``wait_for_message``,
``wait``) while the child process talks to them. Used where a test needs what only a
process gives: ``kill -9`` in the middle of an order, restarts, SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.repository import SqlOrderRepository
from tests.e2e.harness import OTHER, USER, RunningBot
from tests.standins.fixtures_telegram import DEFAULT_TOKEN
from tests.standins.telegram import Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn

REPO_ROOT = Path(__file__).resolve().parents[2]


def bot_env(
    tg: TelegramStandin, upbit: UpbitStandIn, workdir: Path, **extra: str
) -> dict[str, str]:
    """The environment of a bot process: only what it needs, no `.env` (cwd is ``workdir``)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    }
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "ALLOWED_USER_IDS": f"{USER},{OTHER}",
            "UPBIT_ACCESS_KEY": upbit.access_key,
            "UPBIT_SECRET_KEY": upbit.secret_key,
            "DATABASE_URL": f"sqlite:///{workdir}/bot.db",
            "TELEGRAM_API_URL": tg.url,
            "UPBIT_API_URL": upbit.url,
            "UPBIT_WS_URL": upbit.ws_url,
            "HEARTBEAT_FILE": "",
            "POLL_INTERVAL_SECONDS": "0.2",
            "LOG_LEVEL": "DEBUG",  # the most talkative level: secrets must stay out even here
        }
    )
    env.update(extra)
    return env


SECRET_VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "UPBIT_SECRET_KEY",
    "UPBIT_ACCESS_KEY",
    "WEBHOOK_SECRET",
    "TOTP_SECRET",
)


def assert_no_secrets(output: str, env: Mapping[str, str]) -> None:
    """None of the configured secrets may appear in a bot process's output."""
    for name in SECRET_VARIABLES:
        value = env.get(name)
        if value and (value in output or value.lower() in output):
            raise AssertionError(f"{name} leaked into the bot's output")
    if "Bearer ey" in output:
        raise AssertionError("a JWT leaked into the bot's output")


class BotProcess:
    """One bot child process (``python -m bot`` unless ``argv`` says otherwise) running in
    ``cwd`` (default ``workdir``); its combined output goes to ``workdir/<name>.log``. Its
    output is checked for secrets when the test closes it. The tests and the benchmark
    (bench/run.py) both start the bot through this class."""

    def __init__(
        self,
        env: dict[str, str],
        workdir: Path,
        name: str,
        *,
        argv: Sequence[str] = (sys.executable, "-m", "bot"),
        cwd: Path | None = None,
    ) -> None:
        self.env = env
        self.log_path = workdir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.started_at = time.time()  # the stand-ins stamp calls with time.time() too
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd or workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_log(self, needle: str, timeout: float = 15.0) -> None:
        """Block until ``needle`` appears in the output (the process must stay alive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"bot exited with {self.proc.returncode} before {needle!r}:\n{self.output()}"
                )
            time.sleep(0.05)
        raise AssertionError(f"no {needle!r} within {timeout}s:\n{self.output()}")

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def terminate(
        self, timeout: float = 10.0, sig: signal.Signals = signal.SIGTERM
    ) -> tuple[int, float]:
        """SIGTERM (or ``sig``, e.g. SIGINT for Ctrl-C); (exit code, seconds until it exited)."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            self._log.close()
        return code, time.monotonic() - started

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait; SIGKILL if it does not exit within ``timeout``."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._log.close()

    def close(self) -> None:
        """Make sure the child is gone (test teardown), then check it leaked no secret."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
        assert_no_secrets(self.log_path.read_text(encoding="utf-8", errors="replace"), self.env)


# --------------------------------------------------------------------------- reading chats

UUID_RE = re.compile(
    r"<code>([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})</code>"
)
NOTICE_HEADS = (
    "<b>Sold</b>",
    "<b>Partially sold</b>",
    "<b>Order closed without a fill</b>",
    "<b>Order not placed</b>",
)


def is_notice(call: Call, uuid: str | None = None) -> bool:
    """A fill notice (of ``uuid``, when given) that Telegram accepted."""
    text = str(call.params.get("text", ""))
    return (
        call.ok
        and call.method.lower() == "sendmessage"
        and any(head in text for head in NOTICE_HEADS)
        and (uuid is None or uuid in text)
    )


def notices(tg: TelegramStandin, uuid: str | None = None, chat_id: int = USER) -> list[Call]:
    return [
        c
        for c in tg.calls("sendMessage")
        if str(c.params.get("chat_id")) == str(chat_id) and is_notice(c, uuid)
    ]


def uuid_in(text: str) -> str:
    match = UUID_RE.search(text)
    assert match is not None, f"no order UUID in {text!r}"
    return match.group(1)


def confirm_data(preview: Call) -> str:
    data = preview.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert isinstance(data, str)
    return data


def place_order_sync(
    tg: TelegramStandin, text: str = "/sell BTC 0.01", timeout: float = 15
) -> str:
    """``/sell`` → Confirm against a bot process; the UUID from the edited preview."""
    mark = tg.mark()
    tg.send_command(USER, text)
    preview = tg.wait_for_message(
        USER, lambda c: "Sell preview" in str(c.params.get("text")), timeout=timeout, after=mark
    )
    mark = tg.mark()
    tg.press_button(USER, preview.result["message_id"], confirm_data(preview))
    edit = tg.wait_for_edit(
        USER,
        preview.result["message_id"],
        lambda c: "Order placed" in str(c.params.get("text")),
        timeout=timeout,
        after=mark,
    )
    return uuid_in(str(edit.params["text"]))


async def place_order(bot: RunningBot, text: str = "/sell BTC 0.01") -> tuple[str, int]:
    """``/sell`` → Confirm against an in-process bot; (order UUID, mark before the press)."""
    preview = await bot.command(text)
    assert "Sell preview" in str(preview.params.get("text")), preview.params
    message_id = preview.result["message_id"]
    mark = await bot.press(message_id, confirm_data(preview))
    edit = await bot.tg.await_edit(
        USER,
        message_id,
        lambda c: "Order placed" in str(c.params.get("text")),
        timeout=10,
        after=mark,
    )
    return uuid_in(str(edit.params["text"])), mark


@contextlib.asynccontextmanager
async def order_log(database_url: str) -> AsyncIterator[SqlOrderRepository]:
    """The bot's order log, opened independently of the bot (same database)."""
    engine = create_engine(database_url)
    try:
        yield SqlOrderRepository(create_sessionmaker(engine))
    finally:
        await engine.dispose()
