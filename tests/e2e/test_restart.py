"""The bot as a real process: kill -9 in the middle of an order, restarts, SIGTERM.

The stand-ins run in this test's threads; the bot is ``python -m bot`` in a child process
sharing a SQLite file under ``tmp_path``. These tests are synchronous on purpose: they block
on the stand-ins while the child does the work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain import OrderRecord
from tests.e2e.harness import USER
from tests.e2e.process import (
    BotProcess,
    bot_env,
    is_notice,
    notices,
    order_log,
    place_order_sync,
)
from tests.standins.telegram import TelegramStandin
from tests.standins.upbit import UpbitStandIn

STARTED = "bot started (live mode)"
ANNOUNCED = "order announced"


@pytest.fixture
def spawn(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> Iterator[list[BotProcess]]:
    """A list to append started `BotProcess`es to; all are killed after the test."""
    started: list[BotProcess] = []
    yield started
    for proc in started:
        proc.close()


def _start(
    spawned: list[BotProcess], tg: TelegramStandin, upbit: UpbitStandIn, workdir: Path
) -> BotProcess:
    mark = tg.mark()
    proc = BotProcess(bot_env(tg, upbit, workdir), workdir, f"bot{len(spawned) + 1}")
    spawned.append(proc)
    proc.wait_for_log(STARTED)
    # Serving: the updater has finished its bootstrap and long-polls. (A SIGTERM inside
    # PTB's bootstrap, i.e. the first ~0.1 s, ends in a traceback: see the report.)
    tg.wait_for_call("getUpdates", timeout=15, after=mark, completed=False)
    return proc


def _record(workdir: Path, uuid: str) -> OrderRecord:
    async def read() -> OrderRecord | None:
        async with order_log(f"sqlite:///{workdir}/bot.db") as repo:
            return await repo.get_order_by_uuid(uuid)

    record = asyncio.run(read())
    assert record is not None
    return record


def test_kill9_before_fill_restart_announces_once(
    spawn: list[BotProcess],
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
) -> None:
    tg, upbit = telegram_standin, upbit_standin
    upbit.auto_fill = False

    first = _start(spawn, tg, upbit, tmp_path)
    uuid = place_order_sync(tg)
    assert upbit.order(uuid) is not None and upbit.order(uuid).state == "wait"  # type: ignore[union-attr]
    first.kill9()
    assert first.proc.returncode == -9
    assert _record(tmp_path, uuid).state.value == "wait"

    upbit.fill_order(uuid)  # fills while nobody is watching
    assert notices(tg, uuid) == []

    mark = tg.mark()
    second = _start(spawn, tg, upbit, tmp_path)
    notice = tg.wait_for_message(USER, lambda c: is_notice(c, uuid), timeout=15, after=mark)
    assert "<b>Sold</b> 0.01 BTC · received " in notice.params["text"]
    second.wait_for_log(ANNOUNCED)  # announced_at is stored, not just the message sent
    code, took = second.terminate()
    assert code == 0, second.output()
    assert took < 5.0
    assert "bot stopped" in second.output()
    assert _record(tmp_path, uuid).announced_at is not None

    mark = tg.mark()
    third = _start(spawn, tg, upbit, tmp_path)
    # The first sweep runs before polling starts; a reply to a command proves we are past it.
    tg.send_command(USER, "/orders")
    reply = tg.wait_for_message(USER, after=mark, timeout=15)
    assert uuid in str(reply.params["text"]) and "filled" in str(reply.params["text"])
    time.sleep(1.0)  # several more poll intervals (0.2 s)
    assert [c for c in tg.calls("sendMessage", after=mark) if is_notice(c)] == []
    assert len(notices(tg, uuid)) == 1
    assert ANNOUNCED not in third.output()
    code, _ = third.terminate()
    assert code == 0, third.output()


def test_sigterm_stops_cleanly(
    spawn: list[BotProcess],
    telegram_standin: TelegramStandin,
    upbit_standin: UpbitStandIn,
    tmp_path: Path,
) -> None:
    proc = _start(spawn, telegram_standin, upbit_standin, tmp_path)
    # Busy with a long poll and a live WebSocket when the signal comes.
    assert upbit_standin.wait_for_ws_subscribers(1, 5.0)
    code, took = proc.terminate()
    assert code == 0, proc.output()
    assert took < 5.0, f"took {took:.1f}s"
    out = proc.output()
    assert "bot stopped" in out
    assert "Traceback" not in out
