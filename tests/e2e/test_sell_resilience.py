"""A Confirm press still places its one order when Telegram refuses the answer to the press
("query is too old", e.g. a slow network or a redelivered update)."""

from __future__ import annotations

from tests.e2e.harness import BotFactory
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
