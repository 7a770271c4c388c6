"""Self-checks: the Telegram stand-in refuses what the Bot API refuses.

Limits from https://core.telegram.org/bots/api#inlinekeyboardbutton (callback_data 1-64
bytes), https://core.telegram.org/bots/api#sendmessage (4096 characters) and
https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this (about 30
messages a second, 20 a minute per group, about one a second per chat with short bursts),
read 2026-12-02; 100 buttons and about 10 kB of markup per message as Telegram answers them
("reply markup is too long").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from telegram.ext import AIORateLimiter

from tests.standins.telegram import DEFAULT_TOKEN, TelegramStandin
from tests.test_telegram_standin import USER, build_app

GROUP = -100_555


@pytest.fixture
def api(telegram_standin: TelegramStandin) -> Iterator[tuple[TelegramStandin, httpx.Client]]:
    # Time stands still: what counts is how many messages, not how fast this machine is.
    telegram_standin.clock = lambda: 1_000.0
    with httpx.Client(base_url=f"{telegram_standin.base_url}{DEFAULT_TOKEN}") as client:
        yield telegram_standin, client


def send(client: httpx.Client, chat_id: int, text: str = "hi", **extra: Any) -> httpx.Response:
    data = {"chat_id": str(chat_id), "text": text}
    for key, value in extra.items():
        data[key] = json.dumps(value)
    return client.post("/sendMessage", data=data)


def keyboard(buttons: int, per_row: int = 8, data: str = "x") -> dict[str, Any]:
    flat = [{"text": f"b{i}", "callback_data": f"{data}{i}"} for i in range(buttons)]
    return {"inline_keyboard": [flat[i : i + per_row] for i in range(0, buttons, per_row)]}


def test_at_most_100_buttons(api: tuple[TelegramStandin, httpx.Client]) -> None:
    _, client = api
    assert send(client, USER, reply_markup=keyboard(100)).status_code == 200
    r = send(client, USER, reply_markup=keyboard(101))
    assert r.status_code == 400
    assert r.json()["description"] == "Bad Request: reply markup is too long"


def test_markup_over_10_kb_is_refused(api: tuple[TelegramStandin, httpx.Client]) -> None:
    _, client = api
    wide = {
        "inline_keyboard": [[{"text": "t" * 200, "callback_data": f"d{i}"}] for i in range(60)]
    }
    r = send(client, USER, reply_markup=wide)  # 60 buttons, but over 10 kB
    assert (r.status_code, r.json()["description"]) == (
        400,
        "Bad Request: reply markup is too long",
    )
    # The same check applies to edits.
    sent = send(client, USER).json()["result"]
    r = client.post(
        "/editMessageReplyMarkup",
        data={
            "chat_id": str(USER),
            "message_id": str(sent["message_id"]),
            "reply_markup": json.dumps(keyboard(101)),
        },
    )
    assert r.status_code == 400 and "reply markup is too long" in r.json()["description"]


def test_text_and_callback_data_limits(api: tuple[TelegramStandin, httpx.Client]) -> None:
    _, client = api
    assert send(client, USER, "x" * 4096).status_code == 200
    long = send(client, USER, "x" * 4097)
    assert (long.status_code, long.json()["description"]) == (
        400,
        "Bad Request: message is too long",
    )
    over = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]}  # 66 bytes
    r = send(client, USER, reply_markup=over)
    assert (r.status_code, r.json()["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


def test_message_is_not_modified(api: tuple[TelegramStandin, httpx.Client]) -> None:
    _, client = api
    sent = send(client, USER, "same").json()["result"]
    r = client.post(
        "/editMessageText",
        data={"chat_id": str(USER), "message_id": str(sent["message_id"]), "text": "same"},
    )
    assert r.status_code == 400
    assert r.json()["description"].startswith("Bad Request: message is not modified")


def test_group_gets_20_messages_a_minute(api: tuple[TelegramStandin, httpx.Client]) -> None:
    stand, client = api
    statuses = [send(client, GROUP).status_code for _ in range(21)]
    assert statuses == [200] * 20 + [429]
    refused = send(client, GROUP).json()
    assert refused["parameters"]["retry_after"] >= 1
    assert refused["description"].startswith("Too Many Requests: retry after ")
    # A private chat is counted apart.
    assert send(client, USER).status_code == 200
    assert [c.params["chat_id"] for c in stand.rate_limited] == [GROUP, GROUP]


def test_one_chat_allows_a_burst_then_about_one_a_second(
    api: tuple[TelegramStandin, httpx.Client],
) -> None:
    stand, client = api
    burst = int(stand.chat_burst)  # 20 at once (the 0.2 s jitter adds 0.2 of a message)
    statuses = [send(client, USER).status_code for _ in range(burst + 1)]
    assert statuses[:burst] == [200] * burst and statuses[-1] == 429
    assert send(client, USER + 1).status_code == 200  # another chat is not affected


def test_thirty_messages_a_second_overall(api: tuple[TelegramStandin, httpx.Client]) -> None:
    stand, client = api
    # Different chats at once: past the overall rate the next one is refused.
    # 30 a second, plus what 0.2 s of delivery delay can bunch up (jitter_seconds): 36.
    statuses = [send(client, 5_000 + i).status_code for i in range(37)]
    assert statuses == [200] * 36 + [429]
    now = 1_000.0 + 0.05  # a message and a half have drained
    stand.clock = lambda: now
    assert send(client, 5_100).status_code == 200
    assert send(client, 5_101).status_code == 429
    assert {c.method for c in stand.rate_limited} == {"sendMessage"}


async def test_ptb_rate_limiter_stays_under_the_overall_rate(
    telegram_standin: TelegramStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # as bot.app does; RetryAfter warns otherwise
    # What the bot does (bot.app: AIORateLimiter): 45 messages to 45 chats in a burst all
    # arrive, each once. PTB's limiter has the shape the stand-in counts with (30 at once,
    # then 30 a second); a rare 429 from a stalled delivery is retried by the limiter.
    stand = telegram_standin
    async with build_app(stand, rate_limiter=AIORateLimiter(max_retries=3)) as app:
        mark = stand.mark()
        for i in range(45):
            await app.bot.send_message(6_000 + i, f"n{i}")
    delivered = [c.params["text"] for c in stand.calls("sendMessage", after=mark) if c.ok]
    assert delivered == [f"n{i}" for i in range(45)]
