"""Start the bot: settings → logging → migrations → Telegram (polling or webhook)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from bot.config import load_settings_or_exit
from bot.logging_setup import configure_logging

log = logging.getLogger("bot")


def main() -> None:
    settings = load_settings_or_exit()
    configure_logging(settings.log_level, settings.secret_values())
    # Imported only now, so a configuration error is reported without loading the world.
    from telegram import Update

    from bot.app import build_application
    from bot.db.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)
    app = build_application(settings)
    if settings.webhook_url:
        if settings.webhook_secret is None:  # pragma: no cover - config validation forbids it
            raise SystemExit("WEBHOOK_SECRET is required with WEBHOOK_URL")
        path = urlsplit(settings.webhook_url).path.lstrip("/")
        log.info("serving webhook on %s:%s", settings.webhook_host, settings.webhook_port)
        app.run_webhook(
            listen=settings.webhook_host,
            port=settings.webhook_port,
            url_path=path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=3)


if __name__ == "__main__":
    main()
