"""The Telegram stand-in against a real python-telegram-bot Application over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.standins.telegram import DEFAULT_TOKEN, TelegramStandin

TOKEN = DEFAULT_TOKEN
USER = 1001


def build_app(stand: TelegramStandin, **kwargs: Any) -> Application[Any, Any, Any, Any, Any, Any]:
    builder = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{stand.url}/bot")
        .base_file_url(f"{stand.url}/file/bot")
    )
    if "rate_limiter" in kwargs:
        builder = builder.rate_limiter(kwargs["rate_limiter"])
    return builder.build()


@contextlib.asynccontextmanager
async def polling(
    app: Application[Any, Any, Any, Any, Any, Any],
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Again", callback_data="ping:again"),
            InlineKeyboardButton("Done", callback_data="ping:done"),
        ]
    ]
)


def add_ping_handlers(app: Application[Any, Any, Any, Any, Any, Any], seen: list[Update]) -> None:
    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        assert update.effective_message is not None and update.effective_user is not None
        lang = update.effective_user.language_code
        await update.effective_message.reply_text(
            f"<b>pong</b> {lang} &lt;3", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
        )

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"pressed {query.data}")

    app.add_handler(CommandHandler("ping", ping))
    app.add_handler(CallbackQueryHandler(button, pattern=r"^ping:"))


async def test_command_reply_button_and_edit(telegram_standin: TelegramStandin) -> None:
    stand = telegram_standin
    seen: list[Update] = []
    app = build_app(stand)
    add_ping_handlers(app, seen)
    async with polling(app):
        assert app.bot.username == stand.bot_username
        mark = stand.mark()
        stand.send_command(USER, "/ping", language_code="ko")
        call = await stand.await_message(USER, after=mark)
        assert call["parse_mode"] == "HTML"
        assert call["text"] == "<b>pong</b> ko &lt;3"
        assert call.callback_data == ["ping:again", "ping:done"]
        assert call.result["text"] == "pong ko <3"  # what the user sees
        assert call.result["from"]["username"] == stand.bot_username
        message_id = call.result["message_id"]
        assert stand.last_bot_message(USER).callback_data == ["ping:again", "ping:done"]

        with pytest.raises(AssertionError, match="no button"):
            stand.press_button(USER, message_id, "ping:nope")

        mark = stand.mark()
        stand.press_button(USER, message_id, "ping:done")
        edit = await stand.await_edit(USER, message_id, after=mark)
        assert edit["text"] == "pressed ping:done"
        stored = stand.message(USER, message_id)
        assert stored.text == "pressed ping:done"
        assert stored.reply_markup is None and stored.callback_data == []
        assert [old["text"] for old in stored.edits] == ["pong ko <3"]
        answer = await stand.await_call("answerCallbackQuery", after=mark)
        assert answer["text"] == "ok"

        # /cmd@botname is routed, another bot's command is not.
        mark = stand.mark()
        stand.send_command(USER, f"/ping@{stand.bot_username} extra")
        await stand.await_message(USER, after=mark)
        stand.send_command(USER, "/ping@some_other_bot")
        await stand.await_no_call("sendMessage", within=0.3, after=stand.mark())

    assert len(seen) == 3
    assert seen[0].effective_user is not None and seen[0].effective_user.language_code == "ko"
    assert seen[1].callback_query is not None and seen[1].callback_query.message is not None
    # The wire sequence PTB needs: getMe, deleteWebhook, then getUpdates with offsets.
    methods = [c.method for c in stand.calls()]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    # Every update was delivered exactly once and confirmed on shutdown.
    assert len(stand.delivered_update_ids) == len(set(stand.delivered_update_ids)) == 4
    assert stand.pending_updates() == []


async def test_group_chat_edited_message_and_forged_callback(
    telegram_standin: TelegramStandin,
) -> None:
    stand = telegram_standin
    seen: list[Update] = []
    app = build_app(stand)
    add_ping_handlers(app, seen)
    edited: list[str] = []

    async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.edited_message is not None and update.edited_message.text is not None
        edited.append(update.edited_message.text)

    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edit))
    async with polling(app):
        mark = stand.mark()
        update = stand.send_command(USER, "/ping", chat_type="group")
        chat_id = update["message"]["chat"]["id"]
        assert chat_id < 0
        await stand.await_message(chat_id, after=mark)
        assert seen[0].effective_chat is not None and seen[0].effective_chat.type == "group"

        mark = stand.mark()
        stand.press_button(USER, 999, "ping:forged", forge=True)
        await stand.await_call("answerCallbackQuery", after=mark)
        assert seen[-1].callback_query is not None
        assert seen[-1].callback_query.data == "ping:forged"

        sent = stand.send_text(USER, "hello")
        assert "entities" not in sent["message"]
        stand.edit_user_message(USER, sent["message"]["message_id"], "hello again")
        for _ in range(100):
            if edited:
                break
            await asyncio.sleep(0.02)
        assert edited == ["hello again"]


async def test_retry_after_and_rate_limiter(
    telegram_standin: TelegramStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22.8 builds RetryAfter through a deprecated int/timedelta switch that warns (an
    # error under filterwarnings=error) unless the timedelta behaviour is opted into.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    stand = telegram_standin
    async with build_app(stand) as app:
        stand.fail_next("sendMessage", "429", retry_after=3)
        with pytest.raises(RetryAfter) as raised:
            await app.bot.send_message(USER, "hi")
        assert raised.value.retry_after == dt.timedelta(seconds=3)
        failed = stand.calls("sendMessage")[-1]
        assert failed.status == 429 and failed.result is None

    limited = build_app(stand, rate_limiter=AIORateLimiter(max_retries=2))
    async with limited as app:
        stand.fail_next("sendMessage", "429", retry_after=1)
        mark = stand.mark()
        started = time.monotonic()
        message = await app.bot.send_message(USER, "still arrives")
        assert time.monotonic() - started >= 1.0
        assert message.text == "still arrives"
        assert [c.status for c in stand.calls("sendMessage", after=mark)] == [429, 200]


async def test_scripted_errors_and_offline(telegram_standin: TelegramStandin) -> None:
    stand = telegram_standin
    async with build_app(stand) as app:
        bot = app.bot
        stand.fail_next("sendMessage", "400", description="Bad Request: chat not found")
        with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
            await bot.send_message(USER, "x")
        stand.fail_next("sendMessage", "502")
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(USER, "x")
        stand.fail_next("sendMessage", "drop")
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "x")
        stand.fail_next("sendMessage", "slow", delay=0.3)
        assert (await bot.send_message(USER, "late")).text == "late"
        stand.fail_next("sendMessage", "slow", delay=2)
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "x", read_timeout=0.5)

        stand.set_offline(True)
        with pytest.raises(NetworkError):
            await bot.send_message(USER, "x")
        stand.set_offline(False)
        assert (await bot.send_message(USER, "back")).text == "back"

        # Real Telegram answers the bot's own mistakes too.
        with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
            await bot.send_message(USER, "1 < 2 <b>", parse_mode=ParseMode.HTML)
        sent = await bot.send_message(USER, "same", reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match=r"[Mm]essage is not modified"):
            await bot.edit_message_text("same", USER, sent.message_id, reply_markup=KEYBOARD)
        edited = await bot.edit_message_text("changed", USER, sent.message_id)
        assert isinstance(edited, object) and stand.message(USER, sent.message_id).buttons == []
        with pytest.raises(BadRequest, match="not found"):
            await bot.edit_message_text("x", USER, 12345)
        assert await bot.delete_message(USER, sent.message_id)
        assert stand.bot_messages(USER)[-1].text == "back"

        stand.set_blocked(USER)
        with pytest.raises(Exception, match="blocked"):
            await bot.send_message(USER, "x")
        stand.set_blocked(USER, False)

    wrong = ApplicationBuilder().token("1:WRONG").base_url(stand.base_url).build()
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    # A failed initialize() leaves the bot's httpx client open and Application.shutdown()
    # skips it (the app never counted as initialized): close it through the bot.
    await wrong.bot.shutdown()


async def test_offset_and_long_poll(telegram_standin: TelegramStandin) -> None:
    stand = telegram_standin
    async with build_app(stand) as app:
        bot = app.bot
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
        assert 0.9 <= time.monotonic() - started < 3

        # An injected update wakes a waiting long poll at once.
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await stand.await_call("getUpdates", completed=False, after=stand.mark())
        started = time.monotonic()
        first = stand.send_command(USER, "/one")
        updates = await poll
        assert time.monotonic() - started < 1
        assert [u.update_id for u in updates] == [first["update_id"]]

        second = stand.send_command(USER, "/two")
        # Without confirming, both stay pending; limit is honoured.
        assert len(await bot.get_updates(limit=1)) == 1
        assert len(await bot.get_updates()) == 2
        # offset confirms (drops) everything below it.
        updates = await bot.get_updates(offset=first["update_id"] + 1)
        assert [u.update_id for u in updates] == [second["update_id"]]
        assert await bot.get_updates(offset=second["update_id"] + 1) == ()
        assert stand.pending_updates() == []


async def test_document_round_trip_and_commands(telegram_standin: TelegramStandin) -> None:
    stand = telegram_standin
    async with build_app(stand) as app:
        bot = app.bot
        payload = b"uuid,market,volume\nabc,KRW-BTC,0.5\n"
        message = await bot.send_document(
            USER,
            InputFile(payload, filename="orders.csv"),
            caption="<b>export</b>",
            parse_mode=ParseMode.HTML,
        )
        call = stand.calls("sendDocument")[-1]
        upload = call.files["document"]
        assert upload.filename == "orders.csv" and upload.data == payload
        assert call["caption"] == "<b>export</b>" and call["chat_id"] == USER
        rows = list(csv.DictReader(io.StringIO(upload.text())))
        assert rows == [{"uuid": "abc", "market": "KRW-BTC", "volume": "0.5"}]
        assert message.document is not None and message.document.file_name == "orders.csv"
        assert message.caption == "export"
        downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
        assert bytes(downloaded) == payload

        await bot.set_my_commands([("sell", "Sell a coin")])
        await bot.set_my_commands([("sell", "코인 매도")], language_code="ko")
        assert stand.commands[("", "default")] == [
            {"command": "sell", "description": "Sell a coin"}
        ]
        assert [c.description for c in await bot.get_my_commands(language_code="ko")] == [
            "코인 매도"
        ]
        assert await bot.send_chat_action(USER, "typing")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_webhook_delivery(telegram_standin: TelegramStandin) -> None:
    stand = telegram_standin
    seen: list[Update] = []
    app = build_app(stand)
    add_ping_handlers(app, seen)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="hook", secret_token="s3cret", webhook_url=url
        )
        try:
            assert stand.webhook["url"] == url and stand.webhook["secret_token"] == "s3cret"
            update = stand.build_command_update(USER, "/ping")
            assert await stand.apost_update_to(url, update, "wrong") == 403
            assert await stand.apost_update_to(url, update) == 403
            assert (
                await stand.apost_update_to(url, update, "s3cret", content_type="text/plain")
                == 403
            )
            mark = stand.mark()
            assert await stand.apost_update_to(url, update, "s3cret") == 200
            await stand.await_message(USER, after=mark)
            assert len(seen) == 1
        finally:
            await app.updater.stop()
            await app.stop()


def test_sync_use_and_body_formats() -> None:
    with TelegramStandin(token=TOKEN) as stand, httpx.Client() as client:
        api = f"{stand.base_url}{TOKEN}"
        stand.send_command(USER, "/start now")
        got = client.post(f"{api}/getUpdates", data={"timeout": "0"}).json()
        entity = got["result"][0]["message"]["entities"][0]
        assert entity == {"type": "bot_command", "offset": 0, "length": 6}

        def reply() -> None:
            time.sleep(0.1)
            client.post(
                f"{api}/sendMessage",
                json={"chat_id": USER, "text": "42", "reply_markup": {"inline_keyboard": []}},
            )

        thread = threading.Thread(target=reply)
        thread.start()
        call = stand.wait_for_message(USER, timeout=2)
        thread.join()
        assert call["text"] == "42" and call.result["date"] > 1_600_000_000
        form = client.post(f"{api}/sendMessage", data={"chat_id": str(USER), "text": "7"})
        assert form.json()["result"]["text"] == "7"
        assert stand.calls("sendMessage")[-1]["chat_id"] == USER
        assert client.get(f"{api}/getMe").json()["result"]["is_bot"] is True
        bad = client.post(f"{stand.base_url}1:WRONG/getMe")
        assert bad.status_code == 401 and bad.json()["description"] == "Unauthorized"
        with pytest.raises(TimeoutError):
            stand.wait_for_call("sendPhoto", timeout=0.1)
    assert not [t for t in threading.enumerate() if t.name.startswith("telegram-standin")]


async def test_blocking_wait_refuses_inside_event_loop(telegram_standin: TelegramStandin) -> None:
    with pytest.raises(RuntimeError, match="await_"):
        telegram_standin.wait_for_call("getMe", timeout=0.1)


def test_button_data_over_64_bytes_is_refused_like_telegram(telegram_standin):
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]}
    body = urllib.parse.urlencode(
        {"chat_id": 1, "text": "hi", "reply_markup": json.dumps(markup)}
    ).encode()
    url = f"{telegram_standin.url}/bot{telegram_standin.token}/sendMessage"
    try:
        urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=5)  # noqa: S310
    except urllib.error.HTTPError as exc:
        with exc:
            assert exc.code == 400
            assert "BUTTON_DATA_INVALID" in exc.read().decode()
    else:
        raise AssertionError("a 65-byte callback_data was accepted")


def test_delete_message_follows_telegrams_rules() -> None:
    with TelegramStandin(token=TOKEN) as stand, httpx.Client() as client:
        api = f"{stand.base_url}{TOKEN}"
        incoming = stand.build_message(USER, "123456", command_entity=False)
        old = stand.build_message(USER, "654321", command_entity=False)
        stand.message(USER, old["message_id"]).data["date"] -= 48 * 3600
        group = stand.build_message(USER, "111111", chat_id=-100, chat_type="group")

        def delete(chat_id: int, message_id: int) -> dict[str, Any]:
            body = {"chat_id": chat_id, "message_id": message_id}
            result: dict[str, Any] = client.post(f"{api}/deleteMessage", json=body).json()
            return result

        # A user's message in a private chat, sent less than 48 hours ago: deleted.
        assert delete(USER, incoming["message_id"]) == {"ok": True, "result": True}
        assert stand.message(USER, incoming["message_id"]).deleted
        assert stand.bot_messages(USER) == []
        # Twice, too old, someone else's in a group, unknown: refused.
        for chat_id, message_id in (
            (USER, incoming["message_id"]),
            (USER, old["message_id"]),
            (-100, group["message_id"]),
            (USER, 9999),
        ):
            answer = delete(chat_id, message_id)
            assert answer["ok"] is False and answer["error_code"] == 400, answer
            assert (
                "can't be deleted" in answer["description"] or "not found" in answer["description"]
            )
        assert not stand.message(USER, old["message_id"]).deleted
