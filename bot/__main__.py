"""Start the bot: settings → logging → migrations → Telegram (polling or webhook)."""

from __future__ import annotations

import asyncio
import logging

from bot.config import load_settings_or_exit
from bot.logging_setup import configure_logging

log = logging.getLogger("bot")


def main() -> None:
    settings = load_settings_or_exit()
    configure_logging(settings.log_level, settings.secret_values())
    # Imported only now, so a configuration error is reported without loading the world.
    from bot.db.migrate_process import MigrationFailed, upgrade_in_child_process

    try:
        upgrade_in_child_process(settings.database_url, settings.log_level)
    except MigrationFailed as exc:
        log.error("%s", exc)
        raise SystemExit(1) from None

    from bot.app import build_application
    from bot.runner import serve

    try:
        asyncio.run(serve(build_application(settings), settings))
    except Exception as exc:
        # Logged (and so redacted: PTB puts the token in InvalidToken's message), never
        # left to Python's default traceback printer.
        log.critical("bot stopped: %s", exc, exc_info=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
