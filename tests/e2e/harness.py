"""Run the real bot (real python-telegram-bot, httpx, SQLite/PostgreSQL) in the test's loop,
against the Telegram and Upbit stand-ins, and drive it like a user.

``bot_factory(**overrides)`` builds the bot with the same pieces ``python -m bot`` uses
(settings, migrations, ``build_application``, ``post_init``, long polling, ``post_shutdown``)
but drives them itself in the test's event loop; the process entry point (``bot.runner``,
signals, logging set-up) is covered by the subprocess tests (``tests/e2e/process.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings
from bot.db.migrate import upgrade_to_head_async
from bot.telegram.context import SERVICES_KEY, Services
from tests.standins.fixtures_telegram import DEFAULT_TOKEN
from tests.standins.telegram import Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn

USER = 1001  # allowed
OTHER = 2002  # allowed too
STRANGER = 3003  # not allowed


def bot_settings(
    tg: TelegramStandin, upbit: UpbitStandIn, database_url: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": DEFAULT_TOKEN,
        "allowed_user_ids": f"{USER},{OTHER}",
        "upbit_access_key": upbit.access_key,
        "upbit_secret_key": upbit.secret_key,
        "database_url": database_url,
        "telegram_api_url": tg.url,
        "upbit_api_url": upbit.url,
        "upbit_ws_url": upbit.ws_url,
        "heartbeat_file": "",
        "poll_interval_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class RunningBot:
    app: Application  # type: ignore[type-arg]
    settings: Settings
    tg: TelegramStandin
    upbit: UpbitStandIn

    @property
    def services(self) -> Services:
        found = self.app.bot_data[SERVICES_KEY]
        assert isinstance(found, Services)
        return found

    async def command(self, text: str, user: int = USER, **kwargs: Any) -> Call:
        """Send a command and return the bot's next message to that chat."""
        mark = self.tg.mark()
        self.tg.send_command(user, text, **kwargs)
        chat_id = kwargs.get("chat_id", user)
        return await self.tg.await_message(chat_id, after=mark, timeout=10)

    async def press(self, message_id: int, data: str, user: int = USER, **kwargs: Any) -> int:
        """Press a button; returns the call mark from before the press."""
        mark = self.tg.mark()
        self.tg.press_button(user, message_id, data, **kwargs)
        return mark

    async def edit_after(self, mark: int, message_id: int, chat_id: int = USER) -> Call:
        return await self.tg.await_edit(chat_id, message_id, after=mark, timeout=10)

    async def message_after(
        self, mark: int, chat_id: int = USER, contains: str | None = None, timeout: float = 10
    ) -> Call:
        def match(call: Call) -> bool:
            return contains is None or contains in str(call.params.get("text", ""))

        return await self.tg.await_message(chat_id, match, after=mark, timeout=timeout)


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, tg: TelegramStandin, upbit: UpbitStandIn
) -> AsyncIterator[RunningBot]:
    await upgrade_to_head_async(settings.database_url)
    app = build_application(settings)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    try:
        yield RunningBot(app, settings, tg, upbit)
    finally:
        await app.updater.stop()
        await app.stop()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        await app.shutdown()


BotFactory = Callable[..., Awaitable[RunningBot]]


@pytest.fixture
async def bot_factory(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> AsyncIterator[BotFactory]:
    """``await bot_factory(**settings_overrides)`` → a running bot; stopped after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> RunningBot:
            overrides.setdefault("database_url", f"sqlite:///{tmp_path}/bot.db")
            settings = bot_settings(telegram_standin, upbit_standin, **overrides)
            return await stack.enter_async_context(
                running_bot(settings, telegram_standin, upbit_standin)
            )

        yield start
