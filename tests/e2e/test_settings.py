"""/settings end to end: language and quick-sell percentages, kept in the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.user_settings import SqlUserSettings
from bot.services.settings import Language, UserSettings
from tests.e2e.harness import OTHER, USER, BotFactory
from tests.e2e.test_sell_flow import message_id, open_preview, posts, text_of
from tests.standins.telegram import Call


def _buttons(call: Call) -> list[list[dict[str, str]]]:
    markup = call.params.get("reply_markup")
    assert isinstance(markup, dict)
    rows: list[list[dict[str, str]]] = markup["inline_keyboard"]
    return rows


async def test_language_button_switches_every_reply(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    shown = await bot.command("/settings")
    assert "Language: Auto (English, from Telegram)" in text_of(shown)
    assert "Quick-sell buttons: 25% / 50% / 100%" in text_of(shown)
    assert [b["callback_data"] for b in _buttons(shown)[0]] == [
        "st:lang:auto",
        "st:lang:ko",
        "st:lang:en",
    ]

    mark = await bot.press(message_id(shown), "st:lang:ko")
    edit = await bot.edit_after(mark, message_id(shown))
    assert "언어: 한국어" in text_of(edit)

    # The Telegram app still says English; the choice wins everywhere.
    assert "업비트 매도 봇" in text_of(await bot.command("/help"))
    assert "매도할 수 있는 DOGE" in text_of(await bot.command("/sell DOGE 50%"))
    preview = await open_preview(bot, "/sell BTC 50%")
    assert "매도 미리보기" in text_of(preview)
    # Another allowed user is not affected.
    assert "Upbit sell bot" in text_of(await bot.command("/help", user=OTHER))

    shown = await bot.command("/settings lang auto")
    assert "언어" not in text_of(shown) and "Language: Auto" in text_of(shown)
    assert "Upbit sell bot" in text_of(await bot.command("/help"))


async def test_quick_sell_percentages_shape_the_buttons(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    shown = await bot.command("/settings quick 10 33% 100")
    assert "Quick-sell buttons: 10% / 33% / 100%" in text_of(shown)
    balance = await bot.command("/balance")
    data = [b["callback_data"] for row in _buttons(balance) for b in row]
    assert "qs:KRW-BTC:10" in data and "qs:KRW-BTC:33" in data and "qs:KRW-BTC:100" in data
    assert not any(d.endswith((":25", ":50")) for d in data)

    mark = await bot.press(message_id(balance), "qs:KRW-BTC:33")
    preview = await bot.message_after(mark, contains="Sell preview")
    # 33% of 0.1 BTC.
    assert "0.033 BTC" in text_of(preview)
    assert posts(bot) == []


async def test_the_database_is_the_memory(bot_factory: BotFactory, tmp_path: Path) -> None:
    """A choice written by another process (straight into the database) is used at once."""
    bot = await bot_factory()
    assert "Upbit sell bot" in text_of(await bot.command("/help"))
    engine = create_engine(f"sqlite:///{tmp_path}/bot.db")
    try:
        await SqlUserSettings(create_sessionmaker(engine)).save_settings(
            USER, UserSettings(Language.KO, (20, 40))
        )
    finally:
        await engine.dispose()
    assert "업비트 매도 봇" in text_of(await bot.command("/help"))
    balance = await bot.command("/balance")
    data = {b["callback_data"] for row in _buttons(balance) for b in row}
    assert {"qs:KRW-BTC:20", "qs:KRW-BTC:40"} <= data


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("/settings lang fr", "<code>fr</code> is not a language choice"),
        ("/settings quick 0 50", "1 to 4 whole numbers from 1 to 100"),
        ("/settings quick 101", "1 to 4 whole numbers from 1 to 100"),
        ("/settings quick 10 20 30 40 50", "1 to 4 whole numbers"),
        ("/settings quick 12.5", "1 to 4 whole numbers"),
        ("/settings quick abc", "(got <code>abc</code>)"),
        ("/settings colour blue", "Usage: <code>/settings</code>"),
    ],
)
async def test_bad_settings_change_nothing(
    bot_factory: BotFactory, command: str, says: str
) -> None:
    bot = await bot_factory()
    assert says in text_of(await bot.command(command))
    shown = await bot.command("/settings")
    assert "Language: Auto" in text_of(shown)
    assert "Quick-sell buttons: 25% / 50% / 100%" in text_of(shown)


async def test_bad_settings_reply_in_korean(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    reply = await bot.command("/settings quick 0", language_code="ko")
    assert "빠른 매도 비율은 1~100 사이 정수" in text_of(reply)
