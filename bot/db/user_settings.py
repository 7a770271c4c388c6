"""`SqlUserSettings`: what each user chose in /settings (one row per user, upserted)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import UserSettingsRow
from bot.services.settings import DEFAULT_QUICK_SELL_PERCENTS, Language, UserSettings


def _percents(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(p) for p in text.split(",") if p)
    except ValueError:
        return DEFAULT_QUICK_SELL_PERCENTS
    return values if values and all(1 <= v <= 100 for v in values) else DEFAULT_QUICK_SELL_PERCENTS


class SqlUserSettings:
    """Implements `bot.services.settings.SettingsRepository`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get_settings(self, user_id: int) -> UserSettings | None:
        async with self._sessions() as session, session.begin():
            row = await session.get(UserSettingsRow, user_id)
            if row is None:
                return None
            try:
                language = Language(row.language)
            except ValueError:
                language = Language.AUTO
            return UserSettings(language, _percents(row.quick_sell_percents))

    async def save_settings(self, user_id: int, settings: UserSettings) -> None:
        values = {
            "user_id": user_id,
            "language": settings.language.value,
            "quick_sell_percents": ",".join(str(p) for p in settings.quick_sell_percents),
            "updated_at": datetime.now(UTC),
        }
        async with self._sessions() as session, session.begin():
            dialect = (await session.connection()).dialect.name
            if dialect in ("postgresql", "sqlite"):
                maker = _insert_for(dialect)
                stmt = maker(UserSettingsRow).values(**values)
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[UserSettingsRow.user_id],
                        set_={k: stmt.excluded[k] for k in values if k != "user_id"},
                    )
                )
                return
            row = await session.get(UserSettingsRow, user_id)
            if row is None:
                session.add(UserSettingsRow(**values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)


def _insert_for(dialect: str) -> Any:
    """The dialect's INSERT (with ON CONFLICT), imported on first use: the other
    dialect's module is never loaded (start-up time)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert
