"""Per-user settings: the reply language and the quick-sell percentages.

Two rules live here and nowhere else: which language a user is answered in
(`resolve_lang`) and which quick-sell percentages their buttons offer
(`UserSettings.quick_sell_percents`). Both are kept in the database, so every process sees
the same choice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.services.errors import ServiceError


class Language(StrEnum):
    AUTO = "auto"  # from the Telegram app's language
    KO = "ko"
    EN = "en"


DEFAULT_QUICK_SELL_PERCENTS: tuple[int, ...] = (25, 50, 100)
MAX_QUICK_SELL_BUTTONS = 4

_PERCENT = re.compile(r"([0-9]{1,3})%?", re.ASCII)


def resolve_lang(preference: Language | str, language_code: str | None) -> str:
    """The language to answer in: the user's choice, else Korean for a Telegram
    ``language_code`` starting with ``ko``, else English."""
    if preference in (Language.KO, Language.EN):
        return str(preference)
    return "ko" if language_code and language_code.lower().startswith("ko") else "en"


@dataclass(frozen=True, slots=True)
class UserSettings:
    language: Language = Language.AUTO
    quick_sell_percents: tuple[int, ...] = DEFAULT_QUICK_SELL_PERCENTS

    def lang(self, language_code: str | None) -> str:
        return resolve_lang(self.language, language_code)


DEFAULT_SETTINGS = UserSettings()


class SettingsRefused(ServiceError):
    """A settings change that was not made."""


def parse_language(text: str) -> Language:
    word = text.strip().lower()
    aliases = {
        "auto": Language.AUTO,
        "자동": Language.AUTO,
        "ko": Language.KO,
        "korean": Language.KO,
        "한국어": Language.KO,
        "en": Language.EN,
        "english": Language.EN,
        "영어": Language.EN,
    }
    if word not in aliases:
        raise SettingsRefused("settings_bad_language", value=text)
    return aliases[word]


def parse_quick_sell(words: Sequence[str]) -> tuple[int, ...]:
    """``["10", "25%", "100"]`` → (10, 25, 100): 1 to 4 distinct whole percents in 1..100."""
    if not 1 <= len(words) <= MAX_QUICK_SELL_BUTTONS:
        raise SettingsRefused("settings_bad_percents", value=" ".join(words)[:40])
    percents: set[int] = set()
    for word in words:
        match = _PERCENT.fullmatch(word.strip())
        value = int(match.group(1)) if match else 0
        if not 1 <= value <= 100:
            raise SettingsRefused("settings_bad_percents", value=word[:40])
        percents.add(value)
    return tuple(sorted(percents))


class SettingsRepository(Protocol):
    async def get_settings(self, user_id: int) -> UserSettings | None: ...

    async def save_settings(self, user_id: int, settings: UserSettings) -> None: ...


class SettingsService:
    def __init__(self, repo: SettingsRepository) -> None:
        self._repo = repo

    async def get(self, user_id: int) -> UserSettings:
        return await self._repo.get_settings(user_id) or DEFAULT_SETTINGS

    async def set_language(self, user_id: int, text: str) -> UserSettings:
        current = await self.get(user_id)
        changed = UserSettings(parse_language(text), current.quick_sell_percents)
        await self._repo.save_settings(user_id, changed)
        return changed

    async def set_quick_sell(self, user_id: int, words: Sequence[str]) -> UserSettings:
        current = await self.get(user_id)
        changed = UserSettings(current.language, parse_quick_sell(words))
        await self._repo.save_settings(user_id, changed)
        return changed
