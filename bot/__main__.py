"""Start the bot: settings → logging → migrations → Telegram (polling or webhook)."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.config import Settings, load_settings_or_exit
from bot.logging_setup import CodeSource, configure_logging

log = logging.getLogger("bot")


def main() -> None:
    settings = load_settings_or_exit()
    configure_logging(
        settings.log_level, settings.secret_values(), one_time_codes=_one_time_codes(settings)
    )
    # Imported only now, so a configuration error is reported without loading the world.
    from bot.db.migrate_process import MigrationFailed, upgrade_in_child_process
    from bot.db.revision import is_at_head
    from bot.db.sqlite_schema import create_if_new

    # Alembic (in a child process) only when the schema is behind: most starts find it at
    # head (a cheap look at alembic_version), and a new SQLite database gets the schema the
    # migrations build from their snapshot, in-process; either saves the child's start-up.
    if not is_at_head(settings.database_url) and not create_if_new(settings.database_url):
        try:
            upgrade_in_child_process(settings.database_url, settings.log_level)
        except MigrationFailed as exc:
            log.error("%s", exc)
            raise SystemExit(1) from None

    _import_ptb_without_its_webhook_server()
    from bot.app import build_application
    from bot.runner import serve

    try:
        asyncio.run(serve(build_application(settings), settings))
    except Exception as exc:
        # Logged (and so redacted: PTB puts the token in InvalidToken's message), never
        # left to Python's default traceback printer.
        log.critical("bot stopped: %s", exc, exc_info=True)
        raise SystemExit(1) from None


# python-telegram-bot imports its own webhook server (and with it tornado, ~2.7 MB and
# ~20 ms) whenever tornado is installed; this bot serves webhooks with its own server
# (`bot.telegram.webhook`, which loads tornado only in webhook mode) and never calls
# `Updater.start_webhook`. PTB treats an unimportable webhook module as "webhooks not
# installed" (telegram/ext/_updater.py), which is exactly the case for it here.
PTB_WEBHOOK_SERVER = "telegram.ext._utils.webhookhandler"


def _import_ptb_without_its_webhook_server() -> None:
    if "telegram.ext" in sys.modules:
        return
    sys.modules[PTB_WEBHOOK_SERVER] = None  # type: ignore[assignment]  # "cannot import"
    try:
        import telegram.ext  # noqa: F401
    finally:
        if sys.modules.get(PTB_WEBHOOK_SERVER, ...) is None:
            del sys.modules[PTB_WEBHOOK_SERVER]


def _one_time_codes(settings: Settings) -> CodeSource | None:
    """The TOTP codes to keep out of the logs, when TOTP_SECRET is set."""
    if settings.totp_secret is None:
        return None
    from bot.services.guards import codes_near

    return codes_near(settings.totp_secret.get_secret_value())


if __name__ == "__main__":
    main()
