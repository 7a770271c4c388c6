"""The guards in real bot processes at LOG_LEVEL=DEBUG (python-telegram-bot then logs every
update, the messages carrying one-time codes included): the lock holds across a restart,
/unlock takes the code, and neither the TOTP secret nor a code reaches the output."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from tests.e2e.harness import USER
from tests.e2e.process import BotProcess, bot_env
from tests.standins.telegram import Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn

SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
STARTED = "bot started (live mode)"


@pytest.fixture
def spawned() -> Iterator[list[BotProcess]]:
    procs: list[BotProcess] = []
    yield procs
    for proc in procs:
        proc.close()  # also checks that no configured secret reached the output


def start(
    procs: list[BotProcess], tg: TelegramStandin, upbit: UpbitStandIn, tmp: Path
) -> BotProcess:
    mark = tg.mark()
    proc = BotProcess(bot_env(tg, upbit, tmp, TOTP_SECRET=SECRET), tmp, f"bot{len(procs) + 1}")
    procs.append(proc)
    proc.wait_for_log(STARTED, timeout=60)
    tg.wait_for_call("getUpdates", timeout=30, after=mark, completed=False)
    return proc


def command(tg: TelegramStandin, text: str) -> str:
    mark = tg.mark()
    tg.send_command(USER, text)
    return str(tg.wait_for_message(USER, timeout=30, after=mark).params["text"])


def send_code(tg: TelegramStandin, code: str) -> str:
    """A code as a message: the bot deletes it, then answers."""
    mark = tg.mark()
    update = tg.send_text(USER, code)
    message_id = update["message"]["message_id"]

    def deleted(call: Call) -> bool:
        return bool(call.params.get("message_id") == message_id)

    tg.wait_for_call("deleteMessage", deleted, timeout=30, after=mark)
    assert tg.message(USER, message_id).deleted
    return str(tg.wait_for_message(USER, timeout=30, after=mark).params["text"])


def test_lock_survives_a_restart_and_codes_stay_out_of_the_logs(
    spawned: list[BotProcess],
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
) -> None:
    tg, upbit = telegram_standin, upbit_standin
    first = start(spawned, tg, upbit, tmp_path)
    assert "Selling is locked" in command(tg, "/lock")
    code, _ = first.terminate()
    assert code == 0, first.output()

    second = start(spawned, tg, upbit, tmp_path)
    assert "Selling is locked" in command(tg, "/sell BTC 0.01")
    assert "6-digit code" in command(tg, "/unlock")
    sent = pyotp.TOTP(SECRET).now()
    assert "Selling is unlocked" in send_code(tg, sent)
    # The bot logged the update that carried the code (DEBUG), with the code masked.
    second.wait_for_log("selling unlocked", timeout=30)
    code, _ = second.terminate()
    assert code == 0, second.output()
    for proc in (first, second):
        output = proc.output()
        assert SECRET not in output and SECRET.lower() not in output
        assert not re.search(rf"(?<!\d){sent}(?!\d)", output), "a one-time code was logged"
    assert "'text': '***'" in second.output()  # the update was logged, redacted
