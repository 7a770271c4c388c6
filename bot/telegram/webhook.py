"""The webhook server: a request Telegram did not send costs nothing, none costs over 1 MB.

python-telegram-bot's own webhook server reads the whole body into memory before it looks
at the secret (a 90 MB POST cost the process 180 MB). This one runs on tornado as well,
which is already installed with PTB's ``webhooks`` extra, so no new dependency; but its
handler streams the body (``@stream_request_body``): ``prepare()`` runs as soon as the
headers are in, before any of the body is read. There

* a wrong path, a missing or wrong ``X-Telegram-Bot-Api-Secret-Token`` (compared in constant
  time) gets 403/404 and the connection is closed unread;
* a declared ``Content-Length`` over `MAX_BODY` gets 413 the same way;
* a body that turns out longer (chunked, or lying about its length) gets 413 as soon as it
  passes `MAX_BODY`, so at most that much is ever held.

A good request is parsed into an `Update` and put on the `Application`'s update queue,
exactly where PTB's own server would put it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from telegram import Bot, Update
from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.web import Application as TornadoApp
from tornado.web import RequestHandler, stream_request_body

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


@stream_request_body
class _UpdateHandler(RequestHandler):
    SUPPORTED_METHODS = ("POST",)

    def initialize(self, path: str, secret: bytes, bot: Bot, queue: asyncio.Queue[object]) -> None:
        self._path = path
        self._secret = secret
        self._bot = bot
        self._queue = queue
        self._chunks: list[bytes] = []
        self._size = 0

    def prepare(self) -> None:
        given = (self.request.headers.get(SECRET_HEADER) or "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request without the right secret refused")
            self._refuse(403)
            return
        if self.request.path != self._path:
            self._refuse(404)
            return
        declared = self.request.headers.get("Content-Length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            log.warning("webhook request of %s bytes refused", declared)
            self._refuse(413)

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._size += len(chunk)
        if self._size > MAX_BODY:
            log.warning("webhook request body over %d bytes refused", MAX_BODY)
            self._chunks.clear()
            self._refuse(413)
            return
        self._chunks.append(chunk)

    async def post(self) -> None:
        try:
            data = json.loads(b"".join(self._chunks))
            update = Update.de_json(data, self._bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("webhook request with a body that is not an Update refused")
            self._refuse(400)
            return
        self._chunks.clear()
        await self._queue.put(update)
        self.set_status(200)
        self.finish()

    def _refuse(self, status: int) -> None:
        # Finishing before the body is read makes tornado close the connection once the
        # answer is written: the rest of the body is never read.
        self.set_status(status)
        self.finish()

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, StreamClosedError):
            return  # a refused request whose connection we closed
        super().log_exception(typ, value, tb)


class WebhookServer:
    """Serves ``path`` on ``host:port``; updates go to ``queue``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        path: str,
        secret: str,
        bot: Bot,
        queue: asyncio.Queue[object],
    ) -> None:
        self._host = host
        self._port = port
        app = TornadoApp(
            [
                (
                    r"/.*",
                    _UpdateHandler,
                    {"path": path, "secret": secret.encode(), "bot": bot, "queue": queue},
                )
            ],
            log_function=lambda _handler: None,  # no access log: paths can carry secrets
        )
        self._server = HTTPServer(app, xheaders=False)

    async def start(self) -> None:
        self._server.listen(self._port, address=self._host)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()
