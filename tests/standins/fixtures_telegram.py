"""Pytest fixture for the Telegram Bot API stand-in.

Use it from a conftest with ``pytest_plugins = ["tests.standins.fixtures_telegram"]`` or
import the fixture into a test module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.telegram import DEFAULT_TOKEN, TelegramStandin

__all__ = ["DEFAULT_TOKEN", "telegram_standin"]


@pytest.fixture
def telegram_standin() -> Iterator[TelegramStandin]:
    """A started stand-in (random port on 127.0.0.1, token ``DEFAULT_TOKEN``), stopped after."""
    stand = TelegramStandin(token=DEFAULT_TOKEN).start()
    try:
        yield stand
    finally:
        stand.stop()
