"""The access gate: strangers and group chats cost nothing — no Upbit call, no database row."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.harness import STRANGER, USER, BotFactory, RunningBot
from tests.e2e.test_sell_flow import (
    Db,
    confirm_data,
    message_id,
    open_preview,
    posts,
    quiet,
    text_of,
    wait_answers,
)
from tests.e2e.test_sell_flow import db as _db_fixture

db = _db_fixture  # the order-log fixture, shared with test_sell_flow
NOT_ALLOWED = "This bot is private."
GROUP = -100777


def _refusal_logged(caplog: pytest.LogCaptureFixture, user_id: int) -> bool:
    return any(
        r.levelno >= logging.WARNING and f"user_id={user_id}" in r.getMessage()
        for r in caplog.records
    )


async def _stranger_cost_nothing(bot: RunningBot, db: Db) -> None:
    await quiet(bot, 0.3)
    assert bot.upbit.private_calls() == []
    assert bot.upbit.requests == []  # not even a public quotation call
    assert await db.pending() == []
    assert await db.orders() == []


@pytest.mark.parametrize("text", ["/balance", "/sell BTC 50%", "/sell BTC all", "/start", "hi"])
async def test_stranger_message_is_refused(
    bot_factory: BotFactory, db: Db, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    caplog.set_level(logging.INFO)
    bot = await bot_factory()
    mark = bot.tg.mark()
    if text.startswith("/"):
        bot.tg.send_command(STRANGER, text)
    else:
        bot.tg.send_text(STRANGER, text)
    reply = await bot.tg.await_message(STRANGER, after=mark, timeout=10)
    assert text_of(reply) == NOT_ALLOWED
    assert not reply.params.get("reply_markup")
    await _stranger_cost_nothing(bot, db)
    assert len(bot.tg.calls("sendMessage", after=mark)) == 1
    assert _refusal_logged(caplog, STRANGER)


async def test_stranger_button_press_is_refused(
    bot_factory: BotFactory, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await bot_factory()
    mark = bot.tg.mark()
    for data in ("sc:AAAAAAAAAAAAAAAA", "sx:AAAAAAAAAAAAAAAA", "qs:KRW-BTC:100", "junk"):
        await bot.press(1, data, user=STRANGER, forge=True)
    # Another stranger's press, queued after them, is answered after anything they caused.
    await bot.press(1, "junk", user=STRANGER + 1, chat_id=STRANGER + 1, forge=True)
    answered = await wait_answers(bot, mark, 2)
    # One short reply an hour per stranger: the first press only.
    assert answered == [NOT_ALLOWED, NOT_ALLOWED]
    assert bot.tg.calls("sendMessage", after=mark) == []
    await _stranger_cost_nothing(bot, db)
    assert _refusal_logged(caplog, STRANGER)


async def test_stranger_edited_message_is_refused(
    bot_factory: BotFactory, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await bot_factory()
    sent = bot.tg.build_message(STRANGER, "hello")  # stored, never delivered as new
    mark = bot.tg.mark()
    bot.tg.edit_user_message(STRANGER, sent["message_id"], "/sell BTC 50%")
    await quiet(bot, 0.5)
    # At most a short refusal, and nothing else.
    for call in bot.tg.calls(after=mark):
        if call.method.lower() in ("sendmessage", "editmessagetext"):
            assert text_of(call) == NOT_ALLOWED
    await _stranger_cost_nothing(bot, db)
    assert _refusal_logged(caplog, STRANGER)


async def test_stranger_cannot_confirm_a_real_preview(
    bot_factory: BotFactory, db: Db, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    before = len(bot.upbit.requests)
    mark = await bot.press(
        message_id(preview), confirm_data(preview), user=STRANGER, chat_id=USER, forge=True
    )
    (answer,) = await wait_answers(bot, mark, 1)
    assert answer == NOT_ALLOWED
    await quiet(bot)
    assert len(bot.upbit.requests) == before
    assert posts(bot) == []
    assert await db.orders() == []
    assert [p.status for p in await db.pending()] == ["pending"]
    assert bot.tg.calls("sendMessage", after=mark) == []
    assert bot.tg.calls("editMessageText", after=mark) == []
    assert _refusal_logged(caplog, STRANGER)


@pytest.mark.parametrize("text", ["/balance", "/sell BTC 50%", "/help"])
async def test_group_chat_is_refused_for_allowed_user(
    bot_factory: BotFactory, db: Db, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    caplog.set_level(logging.INFO)
    bot = await bot_factory()
    mark = bot.tg.mark()
    bot.tg.send_command(USER, text, chat_id=GROUP, chat_type="group")
    # Nothing in the group: the owner is told why in private, and the bot leaves.
    note = await bot.tg.await_message(USER, after=mark, timeout=10)
    assert "only works in a private chat" in text_of(note)
    await bot.tg.await_call("leaveChat", lambda c: int(c.params["chat_id"]) == GROUP, after=mark)
    assert GROUP in bot.tg.left_chats
    assert bot.upbit.requests == []
    assert await db.pending() == []
    assert [int(c.params["chat_id"]) for c in bot.tg.calls("sendMessage", after=mark)] == [USER]
    assert _refusal_logged(caplog, USER)


async def test_group_chat_button_press_is_refused(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory()
    mark = await bot.press(1, "qs:KRW-BTC:100", chat_id=GROUP, forge=True)
    (answer,) = await wait_answers(bot, mark, 1)
    assert "private chat" in answer
    await bot.tg.await_call("leaveChat", lambda c: int(c.params["chat_id"]) == GROUP, after=mark)
    assert bot.tg.calls("sendMessage", after=mark) == []
    assert bot.upbit.requests == []
    assert await db.pending() == []


async def test_allowed_user_in_private_chat_gets_through(bot_factory: BotFactory) -> None:
    """The control case: the same gate lets the owner in."""
    bot = await bot_factory()
    reply = await bot.command("/balance")
    assert "Total" in text_of(reply)
    assert bot.upbit.private_calls()
