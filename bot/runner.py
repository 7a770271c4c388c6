"""Run the application until SIGINT/SIGTERM, in our own event loop.

python-telegram-bot's ``run_polling`` cannot be interrupted cleanly while it is still
starting (a signal during ``deleteWebhook`` ends in a traceback). Here a signal only sets an
event; start-up finishes what it is doing, and then everything stops in order: updates,
handlers, the fill watcher and resources (``post_shutdown``), the HTTP clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application

from bot.config import Settings

log = logging.getLogger(__name__)


async def serve(app: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await app.initialize()
        try:
            if app.post_init is not None:
                await app.post_init(app)
            await _start_updates(app, settings)
            await app.start()
            log.info("serving; SIGINT or SIGTERM stops")
            await stop.wait()
            log.info("stopping")
        finally:
            await _stop(app)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _start_updates(
    app: Application[Any, Any, Any, Any, Any, Any], settings: Settings
) -> None:
    updater = app.updater
    if updater is None:  # pragma: no cover - the builder always makes one
        raise RuntimeError("no updater")
    if settings.webhook_url:
        if settings.webhook_secret is None:  # pragma: no cover - config validation forbids it
            raise SystemExit("WEBHOOK_SECRET is required with WEBHOOK_URL")
        log.info("serving webhook on %s:%s", settings.webhook_host, settings.webhook_port)
        await updater.start_webhook(
            listen=settings.webhook_host,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=3,
        )
    else:
        await updater.start_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=3)


async def _stop(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    if app.updater is not None and app.updater.running:
        with contextlib.suppress(Exception):
            await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
    await app.shutdown()
