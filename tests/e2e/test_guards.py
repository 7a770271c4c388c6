"""The guards end to end (issue 14): the real bot against the Telegram and Upbit stand-ins.

One-time codes are computed here from the secret, right before they are sent, as the
owner's authenticator app would show them; the bot accepts one step of drift either way,
so a 30 s step boundary between computing and checking does not matter.

In the stand-in, KRW-BTC's best bid is 100,000,000 KRW with 0.5 BTC: ``/sell BTC 0.01`` is
worth 1,000,000 KRW, ``/sell BTC 0.005`` 500,000 KRW.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.e2e.harness import OTHER, USER, BotFactory, RunningBot, bot_settings, running_bot
from tests.e2e.process import is_notice
from tests.standins.telegram import Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ORDERS = "/v1/orders"


def current_code() -> str:
    return pyotp.TOTP(SECRET).now()


def wrong_code() -> str:
    """A code no authenticator shows within two steps of now."""
    totp, now = pyotp.TOTP(SECRET), time.time()
    near = {totp.at(now + 30 * i) for i in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in near)


def text_of(call: Call) -> str:
    return str(call.params.get("text", ""))


def posts(bot: RunningBot) -> list[Any]:
    return bot.upbit.requests_to("POST", ORDERS)


def first_row(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup")
    assert isinstance(markup, dict), text_of(call)
    row = markup["inline_keyboard"][0]
    assert isinstance(row, list)
    return row


async def ask(bot: RunningBot, text: str, user: int = USER, **kwargs: Any) -> Call:
    """Send a command; the bot's next message to that chat that is not a fill notice (one
    may arrive at any moment after an earlier sell)."""
    mark = bot.tg.mark()
    bot.tg.send_command(user, text, **kwargs)
    return await bot.tg.await_message(user, lambda c: not is_notice(c), after=mark, timeout=10)


async def preview(bot: RunningBot, text: str = "/sell BTC 0.01", user: int = USER) -> Call:
    reply = await ask(bot, text, user=user)
    assert "Sell preview" in text_of(reply), text_of(reply)
    return reply


async def press_confirm(bot: RunningBot, shown: Call, user: int = USER) -> Call:
    """Press Confirm; the edit of the preview that follows."""
    message_id = int(shown.result["message_id"])
    mark = await bot.press(message_id, str(first_row(shown)[0]["callback_data"]), user=user)
    return await bot.edit_after(mark, message_id, chat_id=user)


async def send_code(bot: RunningBot, code: str, user: int = USER) -> tuple[int, int]:
    """Send a code as a message and wait until the bot deleted it: (mark, message id)."""
    mark = bot.tg.mark()
    update = bot.tg.send_text(user, code)
    message_id = int(update["message"]["message_id"])

    def deleted(call: Call) -> bool:
        return call.params.get("message_id") == message_id

    await bot.tg.await_call("deleteMessage", deleted, after=mark, timeout=10)
    assert bot.tg.message(user, message_id).deleted
    return mark, message_id


async def reply_after(bot: RunningBot, mark: int, user: int = USER) -> str:
    return text_of(
        await bot.tg.await_message(user, lambda c: not is_notice(c), after=mark, timeout=10)
    )


async def edit_after(bot: RunningBot, mark: int, shown: Call, user: int = USER) -> str:
    return text_of(await bot.edit_after(mark, int(shown.result["message_id"]), chat_id=user))


# --------------------------------------------------------------------------- one-time codes


async def test_confirm_asks_for_the_code_and_only_the_right_code_sells(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(totp_secret=SECRET)
    shown = await preview(bot)
    asked = await press_confirm(bot, shown)
    assert "Code needed" in text_of(asked)
    assert "1,000,000 KRW" in text_of(asked)
    # Only Cancel is left: pressing Confirm again cannot skip the code.
    assert [b["callback_data"][:3] for b in first_row(asked)] == ["sx:"]
    assert posts(bot) == []

    mark, _ = await send_code(bot, wrong_code())
    wrong = await reply_after(bot, mark)
    assert "Wrong code" in wrong and "2 tries left" in wrong
    assert posts(bot) == []

    mark, _ = await send_code(bot, current_code())
    assert "Order placed" in await edit_after(bot, mark, shown)
    (post,) = posts(bot)
    assert post.status == 201 and post.body["volume"] == "0.01"


async def test_three_wrong_codes_cancel_the_preview(bot_factory: BotFactory) -> None:
    bot = await bot_factory(totp_secret=SECRET)
    shown = await preview(bot)
    await press_confirm(bot, shown)
    for tries_left in (2, 1):
        mark, _ = await send_code(bot, wrong_code())
        assert f"{tries_left} tries left" in await reply_after(bot, mark)
    mark, _ = await send_code(bot, wrong_code())
    assert "Three wrong codes" in await edit_after(bot, mark, shown)
    # The right code now finds nothing waiting (and is still deleted).
    mark, _ = await send_code(bot, current_code())
    assert "No sell or /unlock is waiting" in await reply_after(bot, mark)
    assert posts(bot) == []


async def test_a_code_is_accepted_once(bot_factory: BotFactory) -> None:
    bot = await bot_factory(totp_secret=SECRET)
    first = await preview(bot)
    await press_confirm(bot, first)
    code = current_code()
    mark, _ = await send_code(bot, code)
    assert "Order placed" in await edit_after(bot, mark, first)

    second = await preview(bot, "/sell BTC 0.005")
    await press_confirm(bot, second)
    mark, _ = await send_code(bot, code)  # the same code again: a replay
    assert "already used" in await reply_after(bot, mark)
    assert len(posts(bot)) == 1


async def test_only_the_owners_code_confirms(bot_factory: BotFactory) -> None:
    bot = await bot_factory(totp_secret=SECRET)
    shown = await preview(bot)
    await press_confirm(bot, shown)
    # Another allowed user sends the right code: their chat has no sell waiting for one.
    mark, _ = await send_code(bot, current_code(), user=OTHER)
    assert "No sell or /unlock is waiting" in await reply_after(bot, mark, user=OTHER)
    assert posts(bot) == []
    mark, _ = await send_code(bot, current_code())
    assert "Order placed" in await edit_after(bot, mark, shown)
    assert len(posts(bot)) == 1


async def test_a_code_after_the_preview_expired_sells_nothing(bot_factory: BotFactory) -> None:
    bot = await bot_factory(totp_secret=SECRET, confirm_timeout_seconds=5)
    shown = await preview(bot)
    mark = bot.tg.mark()
    await press_confirm(bot, shown)
    # The expiry job edits the preview when its time is up: wait for that event.
    await bot.tg.await_edit(
        USER,
        int(shown.result["message_id"]),
        lambda c: "expired" in text_of(c),
        after=mark,
        timeout=15,
    )
    mark, _ = await send_code(bot, current_code())
    assert "No sell or /unlock is waiting" in await reply_after(bot, mark)
    assert posts(bot) == []


async def test_small_sells_need_no_code_above_the_threshold_do(bot_factory: BotFactory) -> None:
    bot = await bot_factory(totp_secret=SECRET, totp_above_krw="1000000")
    small = await preview(bot)  # 1,000,000 KRW: not above the threshold
    assert "Order placed" in text_of(await press_confirm(bot, small))
    large = await preview(bot, "/sell BTC 0.02")  # 2,000,000 KRW
    assert "Code needed" in text_of(await press_confirm(bot, large))
    assert len(posts(bot)) == 1


async def test_codes_in_korean(bot_factory: BotFactory) -> None:
    bot = await bot_factory(totp_secret=SECRET)
    shown = await ask(bot, "/sell BTC 0.01", language_code="ko")
    message_id = int(shown.result["message_id"])
    mark = await bot.press(
        message_id, str(first_row(shown)[0]["callback_data"]), language_code="ko"
    )
    assert "인증 코드 필요" in text_of(await bot.edit_after(mark, message_id))
    mark = bot.tg.mark()
    update = bot.tg.send_text(USER, wrong_code(), language_code="ko")
    await bot.tg.await_call(
        "deleteMessage",
        lambda c: c.params.get("message_id") == update["message"]["message_id"],
        after=mark,
        timeout=10,
    )
    assert "코드가 틀렸습니다" in await reply_after(bot, mark)


# --------------------------------------------------------------------------- daily limit


async def test_daily_limit_refuses_a_confirm_and_says_what_is_left(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(daily_sell_limit_krw="1500000")
    first = await preview(bot)
    assert "Order placed" in text_of(await press_confirm(bot, first))
    second = await preview(bot)  # another 1,000,000 KRW: 2,000,000 > 1,500,000
    mark = await bot.press(
        int(second.result["message_id"]), str(first_row(second)[0]["callback_data"])
    )
    refused = text_of(await bot.edit_after(mark, int(second.result["message_id"])))
    assert "daily sell limit" in refused
    assert "Left for today: <b>500,000 KRW</b>" in refused
    assert "Asia/Seoul" in refused
    assert not bot.tg.message(USER, int(second.result["message_id"])).buttons
    assert len(posts(bot)) == 1
    answers = [text_of(c) for c in bot.tg.calls("answerCallbackQuery", after=mark)]
    assert any("Daily sell limit reached" in a for a in answers)
    # What is left still sells.
    third = await preview(bot, "/sell BTC 0.005")
    assert "Order placed" in text_of(await press_confirm(bot, third))
    status = text_of(await ask(bot, "/status"))
    assert "daily limit 1,500,000 KRW (0 KRW left today)" in status


async def test_paper_mode_applies_the_daily_limit(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    settings = bot_settings(
        telegram_standin,
        upbit_standin,
        f"sqlite:///{tmp_path}/paper.db",
        paper_trading="true",
        paper_balances="KRW=0,BTC=0.05",
        daily_sell_limit_krw="1000000",
    )
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        first = await preview(bot)
        assert "Order placed" in text_of(await press_confirm(bot, first))
        second = await preview(bot, "/sell BTC 0.005")
        refused = text_of(await press_confirm(bot, second))
        assert "PAPER" in refused and "Left for today: <b>0 KRW</b>" in refused


# --------------------------------------------------------------------------- /lock, /unlock


async def test_lock_refuses_every_sell_until_unlock(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    before = await preview(bot)  # opened before the lock
    assert "Selling is locked" in text_of(await ask(bot, "/lock"))
    assert "already locked" in text_of(await ask(bot, "/lock", user=OTHER))
    assert "Selling is locked" in text_of(await ask(bot, "/sell BTC 0.01"))
    assert "Selling is locked" in text_of(await press_confirm(bot, before))
    assert posts(bot) == []
    assert "selling locked" in text_of(await ask(bot, "/status"))
    assert "unlocked" in text_of(await ask(bot, "/unlock"))
    after = await preview(bot)
    assert "Order placed" in text_of(await press_confirm(bot, after))


async def test_unlock_needs_the_code_when_totp_is_set(bot_factory: BotFactory) -> None:
    bot = await bot_factory(totp_secret=SECRET)
    await ask(bot, "/lock")
    assert "6-digit code" in text_of(await ask(bot, "/unlock"))
    mark, _ = await send_code(bot, wrong_code())
    assert "stays locked" in await reply_after(bot, mark)
    mark, _ = await send_code(bot, wrong_code())  # a second try is taken for /unlock too
    assert "stays locked" in await reply_after(bot, mark)
    # "/unlock CODE" works too; that message is deleted as well.
    mark = bot.tg.mark()
    update = bot.tg.send_command(USER, f"/unlock {current_code()}")
    await bot.tg.await_call(
        "deleteMessage",
        lambda c: c.params.get("message_id") == update["message"]["message_id"],
        after=mark,
        timeout=10,
    )
    assert "Selling is unlocked" in await reply_after(bot, mark)
    shown = await preview(bot)
    assert "Code needed" in text_of(await press_confirm(bot, shown))


async def test_lock_holds_across_a_restart(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/bot.db"
    settings = bot_settings(telegram_standin, upbit_standin, url)
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        await ask(bot, "/lock")
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        assert "Selling is locked" in text_of(await ask(bot, "/sell BTC 0.01"))


# --------------------------------------------------------------------------- /status


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_status_shows_the_guards_never_the_secret(
    bot_factory: BotFactory, lang: str
) -> None:
    bot = await bot_factory(
        totp_secret=SECRET, totp_above_krw="2000000", daily_sell_limit_krw="5000000"
    )
    text = text_of(await ask(bot, "/status", language_code=lang))
    if lang == "en":
        assert "daily limit 5,000,000 KRW (5,000,000 KRW left today)" in text
        assert "one-time code above 2,000,000 KRW" in text
        assert "selling allowed" in text
    else:
        assert "하루 한도 5,000,000원(오늘 5,000,000원 남음)" in text
        assert "2,000,000원 초과 매도에 인증 코드" in text
    assert SECRET not in text and SECRET.lower() not in text
