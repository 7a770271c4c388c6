"""Run the application until SIGINT/SIGTERM, in our own event loop.

python-telegram-bot's ``run_polling`` cannot be interrupted cleanly while it is still
starting (a signal during ``deleteWebhook`` ends in a traceback). Here a signal only sets an
event; start-up finishes what it is doing, and then everything stops in order: updates,
handlers, the fill watcher and resources (``post_shutdown``), the HTTP clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application

from bot.config import Settings

if TYPE_CHECKING:  # tornado is loaded only in webhook mode (start-up time)
    from bot.telegram.webhook import WebhookServer

log = logging.getLogger(__name__)

BOOTSTRAP_ATTEMPTS = 4


async def serve(app: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    webhook: WebhookServer | None = None
    try:
        await app.initialize()
        try:
            if app.post_init is not None:
                await app.post_init(app)
            # What start-up made (modules, PTB, SQLAlchemy's mappers, the clients) lives as
            # long as the process: keep it out of the collector's full passes, which would
            # walk it all and stall the event loop (about 100 ms each, a fill notice behind).
            gc.freeze()
            webhook = await _start_updates(app, settings)
            await app.start()
            log.info("serving; SIGINT or SIGTERM stops")
            await stop.wait()
            log.info("stopping")
        finally:
            if webhook is not None:
                with contextlib.suppress(Exception):
                    await webhook.stop()
            await _stop(app)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start_updates(
    app: Application[Any, Any, Any, Any, Any, Any], settings: Settings
) -> WebhookServer | None:
    """Long polling (PTB's updater), or our own webhook server (`bot.telegram.webhook`)."""
    if not settings.webhook_url:
        updater = app.updater
        if updater is None:  # pragma: no cover - the builder always makes one
            raise RuntimeError("no updater")
        await updater.start_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=3)
        return None
    if settings.webhook_secret is None:  # pragma: no cover - config validation forbids it
        raise SystemExit("WEBHOOK_SECRET is required with WEBHOOK_URL")
    from bot.telegram.webhook import WebhookServer

    secret = settings.webhook_secret.get_secret_value()
    server = WebhookServer(
        host=settings.webhook_host,
        port=settings.webhook_port,
        path=urlsplit(settings.webhook_url).path or "/",
        secret=secret,
        bot=app.bot,
        queue=app.update_queue,
    )
    await server.start()
    log.info("serving webhook on %s:%s", settings.webhook_host, settings.webhook_port)
    for attempt in range(1, BOOTSTRAP_ATTEMPTS + 1):
        try:
            await app.bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
            break
        except Exception:
            if attempt == BOOTSTRAP_ATTEMPTS:
                await server.stop()
                raise
            log.warning("setWebhook failed (attempt %d); retrying", attempt)
            await asyncio.sleep(attempt)
    return server


async def _stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    if app.updater is not None and app.updater.running:
        with contextlib.suppress(Exception):
            await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
    await app.shutdown()
