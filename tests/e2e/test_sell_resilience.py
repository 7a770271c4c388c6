"""A Confirm press still places its one order when Telegram refuses the answer to the press
("query is too old", e.g. a slow network or a redelivered update)."""

from __future__ import annotations

import asyncio

from tests.e2e.harness import USER, BotFactory
from tests.e2e.test_sell_flow import confirm, open_preview, posts, text_of


async def test_confirm_goes_ahead_when_the_callback_answer_is_refused(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 10%")
    bot.tg.fail_next(
        "answerCallbackQuery",
        "400",
        description="Bad Request: query is too old and response timeout expired",
    )
    outcome = await confirm(bot, preview)
    assert "Order placed" in text_of(outcome)
    assert len(posts(bot)) == 1
    assert not [c for c in bot.tg.calls("sendMessage") if "went wrong" in str(c.params)]


async def test_confirm_outcome_arrives_when_the_callback_answer_is_lost(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 10%")
    bot.tg.fail_next("answerCallbackQuery", "drop")  # a network error, not a 400
    outcome = await confirm(bot, preview)
    assert "Order placed" in text_of(outcome)
    assert len(posts(bot)) == 1
    assert not [c for c in bot.tg.calls("sendMessage") if "went wrong" in str(c.params)]


async def test_cancel_while_the_preview_is_on_its_way_leaves_no_live_buttons(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    # Telegram is slow to accept the preview: the user's /cancel lands before the bot knows
    # the preview's message id.
    bot.tg.fail_next("sendMessage", "slow", delay=1.0)
    mark = bot.tg.mark()
    bot.tg.send_command(USER, "/sell BTC 10%")
    await bot.tg.await_call("sendMessage", after=mark, completed=False)
    await asyncio.sleep(0.2)
    reply = await bot.command("/cancel")
    assert "Cancelled 1" in text_of(reply)
    preview = await bot.tg.await_message(
        USER, lambda c: "Sell preview" in str(c.params.get("text")), after=mark
    )
    edit = await bot.edit_after(mark, preview.result["message_id"])
    assert "Cancelled" in text_of(edit)
    assert not edit.params.get("reply_markup")
    assert posts(bot) == []
