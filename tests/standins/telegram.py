"""A Telegram Bot API stand-in: a real HTTP server on 127.0.0.1 for end-to-end tests.

It reproduces what python-telegram-bot 22 sends and needs back (see
https://core.telegram.org/bots/api#making-requests): ``POST /bot<token>/<method>`` with
empty, form-urlencoded (JSON-encoded nested values),
JSON or multipart bodies; ``{"ok": true, "result": ...}`` answers; Telegram-shaped errors.

It runs a stdlib ``ThreadingHTTPServer`` in a daemon thread, so it works the same from
pytest-asyncio tests, from sync code and from a benchmark script. All state lives behind one
``threading.Condition``.

Build a PTB application against it::

    stand = TelegramStandin(token=TOKEN).start()
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{stand.url}/bot")           # == stand.base_url
        .base_file_url(f"{stand.url}/file/bot")  # == stand.base_file_url
        .build()
    )

Drive it like a user (``send_command``, ``send_text``, ``press_button``, ...), then look at what
the bot did (``wait_for_message``, ``wait_for_edit``, ``calls``, ``bot_messages``). In async
tests where the bot runs in the test's event loop, use the ``await_*`` variants: the blocking
``wait_for_*`` would block the very loop the bot needs to answer (they refuse to run there).

Run by hand: ``python -m tests.standins.telegram --port 8081 --token 123:ABC``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.message
import email.parser
import email.policy
import html.parser
import itertools
import json
import logging
import math
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, TypeVar

__all__ = [
    "Call",
    "StoredMessage",
    "TelegramStandin",
    "UploadedFile",
]

_LOGGER = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456789:TEST-standin-token"
T = TypeVar("T")
Predicate = Callable[["Call"], bool]

# Parameters whose form value is always a plain string: never JSON-decode them ("42" stays "42").
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "url",
        "secret_token",
        "description",
        "short_description",
        "name",
        "title",
        "query",
        "inline_message_id",
        "parse_mode",
        "emoji",
        "custom_emoji_id",
        "language_code",
        "action",
        "ip_address",
        "file_id",
        "business_connection_id",
        "message_effect_id",
    }
)

DELETE_WINDOW_SECONDS = 48 * 3600  # deleteMessage refuses older messages
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_ALLOWED_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_FAILURE_KINDS = frozenset({"drop", "slow"})

# Telegram's limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
# and https://core.telegram.org/bots/api#inlinekeyboardbutton, read 2026-12-02): at most 100
# inline buttons and about 10 kB of reply markup per message, 1-64 bytes of callback data,
# 4096 characters of text; about 30 messages a second overall, 20 a minute in one group,
# about one a second in one chat with short bursts allowed. Over a rate: 429 with
# parameters.retry_after. The exact burst sizes are not published [I].
MAX_INLINE_BUTTONS = 100
MAX_MARKUP_BYTES = 10 * 1024
_MARKUP_TOO_LONG = "Bad Request: reply markup is too long"
# Methods that send or change a message in a chat: the ones flood control counts.
_RATE_LIMITED_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "sendmediagroup",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
        "copymessage",
        "forwardmessage",
    }
)


class _Bucket:
    """A leaky bucket: ``capacity`` messages at once, draining ``rate`` per second (the
    shape python-telegram-bot's own `AIORateLimiter` uses, so a client that follows it is
    never refused)."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.level = 0.0
        self.at = now

    def take(self, now: float) -> float | None:
        """Count one message; None if it fits, else the seconds until it would."""
        self.level = max(0.0, self.level - (now - self.at) * self.rate)
        self.at = now
        if self.level + 1 > self.capacity:
            return (self.level + 1 - self.capacity) / self.rate
        self.level += 1
        return None


# --------------------------------------------------------------------------- data classes


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request (``sendDocument`` etc.)."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    def text(self, encoding: str = "utf-8-sig") -> str:
        """The file decoded as text (BOM stripped), e.g. to parse an exported CSV."""
        return self.data.decode(encoding)


@dataclass
class Call:
    """One recorded Bot API request; ``call["text"]`` reads ``call.params["text"]``."""

    index: int
    method: str
    params: dict[str, Any]
    raw: dict[str, str]
    files: dict[str, UploadedFile]
    content_type: str | None
    at: float
    status: int | None = None
    result: Any = None
    description: str | None = None
    done: bool = False

    @property
    def ok(self) -> bool:
        """True when the stand-in answered 200 with ``ok: true``."""
        return self.status == HTTPStatus.OK

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    @property
    def callback_data(self) -> list[str]:
        """Every ``callback_data`` of the inline keyboard sent with this call, row by row."""
        return _callback_data_of(self.reply_markup)


@dataclass
class StoredMessage:
    """The stand-in's copy of one message in a chat: what the user currently sees."""

    chat_id: int
    message_id: int
    from_bot: bool
    data: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    sent_text: str | None = None
    parse_mode: str | None = None
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """Plain text as Telegram shows it (HTML tags removed, entities unescaped)."""
        value = self.data.get("text", self.data.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        markup = self.data.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [list(row) for row in rows]

    @property
    def callback_data(self) -> list[str]:
        return _callback_data_of(self.reply_markup)

    @property
    def edits(self) -> list[dict[str, Any]]:
        """Previous versions of the message, oldest first (the current one is ``data``)."""
        return list(self.history)


@dataclass
class _Failure:
    kind: str
    times: int
    description: str | None
    retry_after: int
    delay: float


@dataclass
class _Chat:
    id: int
    type: str
    info: dict[str, Any]
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    blocked: bool = False
    left: bool = False  # the bot left (leaveChat): sends get 403, like Telegram's


class _DropConnection(Exception):
    """Close the connection without answering."""


class _ApiError(Exception):
    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _callback_data_of(markup: dict[str, Any] | None) -> list[str]:
    if not markup:
        return []
    return [
        str(button["callback_data"])
        for row in markup.get("inline_keyboard") or []
        for button in row
        if "callback_data" in button
    ]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _HtmlChecker(html.parser.HTMLParser):
    """Telegram-like HTML parse-mode check; collects the plain text the user would see."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_HTML_TAGS and self.error is None:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.error is not None:
            return
        if not self.stack or self.stack[-1] != tag:
            self.error = f'Unmatched end tag "{tag}"'
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _html_to_text(text: str) -> str:
    """Return the plain text of an HTML-formatted message or raise a Telegram-like 400."""
    # A "<" that does not open a tag is a parse error on Telegram; HTMLParser would keep it.
    for match in re.finditer(r"<", text):
        if not re.match(r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?>", text[match.start() :]):
            offset = len(text[: match.start()].encode())
            raise _ApiError(
                400,
                "Bad Request: can't parse entities: Unexpected end of name token at byte "
                f"offset {offset}",
            )
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    if checker.error is not None:
        raise _ApiError(400, f"Bad Request: can't parse entities: {checker.error}")
    return "".join(checker.parts)


def _decode_value(key: str, value: str) -> Any:
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _ApiError(400, f"Bad Request: invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    raise _ApiError(400, f"Bad Request: invalid {name} specified")


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    standin: TelegramStandin

    def __init__(self, address: tuple[str, int], standin: TelegramStandin) -> None:
        self.standin = standin
        self.connections: dict[threading.Thread, socket.socket] = {}
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup: skip it.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"telegram-standin-conn-{client_address[1]}",
            daemon=True,
        )
        with self.connections_lock:
            self.connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.connections.pop(threading.current_thread(), None)

    def close_connections(self, timeout: float) -> None:
        with self.connections_lock:
            items = list(self.connections.items())
        for _thread, sock in items:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread, _sock in items:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "telegram-standin/1.0"
    # Headers and body go out in two writes; without TCP_NODELAY the body waits ~40 ms for
    # the client's delayed ACK on every answer (Nagle), which would distort every timing.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        _LOGGER.debug("%s %s", self.address_string(), format % args)

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        standin = self.server.standin
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = standin._handle_http(
                self.command, self.path, self.headers, body
            )
        except _DropConnection:
            self.close_connection = True
            return
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:  # the client went away (e.g. a cancelled long poll)
            self.close_connection = True


# --------------------------------------------------------------------------- the stand-in


class TelegramStandin:
    """A Bot API server on 127.0.0.1 with user-side helpers, recorded calls and failures."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "upbit_sell_test_bot",
        bot_first_name: str = "Upbit Sell Test Bot",
        retry_after: int = 1,
        slow_delay: float = 6.0,
        max_poll_timeout: float = 50.0,
        strict_html: bool = True,
        strict_chats: bool = False,
    ) -> None:
        self.token = token
        self.host = host
        self.requested_port = port
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123456789
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.retry_after = retry_after
        self.slow_delay = slow_delay
        self.max_poll_timeout = max_poll_timeout
        self.strict_html = strict_html
        self.strict_chats = strict_chats
        # Flood control (module constants): set rate_limits=False to turn it off.
        self.rate_limits = True
        self.global_per_second = 30.0
        self.group_per_minute = 20.0
        self.chat_per_second = 1.0
        self.chat_burst = 20.0
        # A message arrives a little after the client's limiter let it go, so arrivals
        # bunch up by the delivery delay: Telegram's "about 30" tolerates that, and so does
        # the stand-in, for this many seconds of delay at each rate.
        self.jitter_seconds = 0.2
        self.rate_limited: list[Call] = []  # every call answered 429 by flood control
        self.clock: Callable[[], float] = time.monotonic  # tests may freeze it
        self._global_bucket: _Bucket | None = None
        self._chat_buckets: dict[int, _Bucket] = {}

        self._cond = threading.Condition(threading.RLock())
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._calls: list[Call] = []
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._chats: dict[int, _Chat] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._offline = False
        self._stopping = threading.Event()
        self._poll_generation = 0
        self._allowed_updates: list[str] = []
        self._open_queries: dict[str, dict[str, Any]] = {}
        self.answered_queries: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] = {"url": ""}
        self.files: dict[str, UploadedFile] = {}
        self.delivered_update_ids: list[int] = []
        self.on_call: Callable[[Call], None] | None = None

        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> TelegramStandin:
        """Bind (random free port by default) and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="telegram-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, end waiting long polls, close every connection and join threads."""
        server, thread = self._server, self._thread
        if server is None:
            return
        with self._cond:
            self._stopping.set()
            self._notify()
        server.shutdown()
        server.server_close()
        server.close_connections(timeout)
        if thread is not None:
            thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> TelegramStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> TelegramStandin:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("TelegramStandin is not started")
        return self._server.server_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (what ``TELEGRAM_API_URL`` should be set to)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB ``base_url``: ``{url}/bot`` (PTB appends ``<token>/<method>``)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ----------------------------------------------------------------- control

    def fail_next(
        self,
        method: str,
        kind: str | int,
        times: int = 1,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any method) fail.

        ``kind``: ``"429"`` (RetryAfter, ``retry_after`` seconds), any other status such as
        ``"400"`` (with ``description``), ``"403"``, ``"409"``, ``"502"`` (non-JSON body),
        ``"drop"`` (close the connection without answering) or ``"slow"`` (answer normally
        after ``delay`` seconds, default ``slow_delay`` = longer than PTB's 5 s read timeout).
        """
        kind = str(kind)
        if kind not in _FAILURE_KINDS and not kind.isdigit():
            raise ValueError(f"unknown failure kind {kind!r}")
        failure = _Failure(
            kind=kind,
            times=times,
            description=description,
            retry_after=self.retry_after if retry_after is None else retry_after,
            delay=self.slow_delay if delay is None else delay,
        )
        with self._cond:
            self._failures.setdefault(method.lower(), deque()).append(failure)

    def clear_failures(self) -> None:
        with self._cond:
            self._failures.clear()

    def set_offline(self, offline: bool = True) -> None:
        """While offline every request (waiting long polls too) is dropped without an answer."""
        with self._cond:
            self._offline = offline
            self._notify()

    def set_blocked(self, chat_id: int, blocked: bool = True) -> None:
        """The user blocked the bot: sends to this chat get 403 Forbidden."""
        with self._cond:
            self._chat(chat_id).blocked = blocked

    # ----------------------------------------------------------------- user side

    def build_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "en",
        first_name: str = "Alice",
        username: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        command_entity: bool = True,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Build (and store) a user's Message in a chat; not queued as an update.
        ``reply_to``: the id of a message in that chat this one replies to (Telegram sends
        that message along as ``reply_to_message``)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        with self._cond:
            chat = self._chat(
                self._default_chat_id(user_id, chat_type) if chat_id is None else chat_id,
                chat_type=chat_type,
                user=user,
            )
            message: dict[str, Any] = {
                "message_id": self._next_message_id(chat),
                "date": int(time.time()),
                "chat": dict(chat.info),
                "from": user,
                "text": text,
            }
            if entities is None and command_entity and text.startswith("/"):
                command = re.split(r"\s", text, maxsplit=1)[0]
                entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
            if entities:
                message["entities"] = entities
            if reply_to is not None:
                if reply_to not in chat.messages:
                    raise AssertionError(f"no message {reply_to} in chat {chat.id} to reply to")
                message["reply_to_message"] = _copy(chat.messages[reply_to].data)
            chat.messages[message["message_id"]] = StoredMessage(
                chat_id=chat.id,
                message_id=message["message_id"],
                from_bot=False,
                data=message,
                sent_text=text,
            )
            return message

    def next_update_id(self) -> int:
        with self._cond:
            return next(self._update_ids)

    def build_command_update(self, user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """A ``message`` Update (not queued), e.g. for ``post_update_to`` a webhook."""
        message = self.build_message(user_id, text, **kwargs)
        return {"update_id": self.next_update_id(), "message": message}

    def send_command(self, user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """Inject a ``message`` update; a leading ``/word`` (or ``/word@bot``) gets a
        ``bot_command`` entity. kwargs: chat_id, chat_type, language_code, first_name,
        username, entities. Returns the Update dict."""
        return self.inject_update({"message": self.build_message(user_id, text, **kwargs)})

    def send_text(self, user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """Inject a plain text ``message`` update (no entities)."""
        kwargs.setdefault("command_entity", False)
        return self.inject_update({"message": self.build_message(user_id, text, **kwargs)})

    def edit_user_message(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Inject an ``edited_message`` update for a message the user sent earlier."""
        with self._cond:
            stored = self.message(user_id if chat_id is None else chat_id, message_id)
            if stored.from_bot:
                raise AssertionError("the user can only edit their own messages")
            stored.history.append(dict(stored.data))
            message = dict(stored.data, text=text, edit_date=int(time.time()))
            message.pop("entities", None)
            if text.startswith("/"):
                command = re.split(r"\s", text, maxsplit=1)[0]
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
                ]
            stored.data = message
            return self.inject_update({"edited_message": dict(message)})

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Alice",
        username: str | None = None,
        forge: bool = False,
    ) -> dict[str, Any]:
        """Inject a ``callback_query`` for a button on the bot's message.

        Raises ``AssertionError`` if the message (as the user currently sees it) has no button
        with that ``callback_data``, unless ``forge=True`` (a forged/stale callback)."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        with self._cond:
            target_chat = user_id if chat_id is None else chat_id
            try:
                stored: StoredMessage | None = self.message(target_chat, message_id)
            except KeyError:
                stored = None
            if not forge:
                if stored is None or stored.deleted:
                    raise AssertionError(f"no message {message_id} in chat {target_chat}")
                if callback_data not in stored.callback_data:
                    raise AssertionError(
                        f"message {message_id} has no button {callback_data!r}; "
                        f"buttons: {stored.callback_data}"
                    )
            if stored is not None:
                message = _copy(stored.data)
            else:
                chat = self._chat(target_chat)
                message = {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": dict(chat.info),
                    "from": self.bot_user,
                    "text": "(forged)",
                }
            query_id = f"cbq{next(self._callback_ids)}"
            query = {
                "id": query_id,
                "from": user,
                "chat_instance": f"ci{target_chat}",
                "data": callback_data,
                "message": message,
            }
            self._open_queries[query_id] = query
            return self.inject_update({"callback_query": query})

    def add_bot_to_chat(
        self,
        user_id: int,
        chat_id: int,
        *,
        chat_type: str = "group",
        status: str = "member",
        first_name: str = "Alice",
    ) -> dict[str, Any]:
        """A user adds the bot to a group, supergroup or channel: inject the ``my_chat_member``
        update Telegram sends (old status ``left``, new ``status``); the bot is a member again."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        with self._cond:
            chat = self._chat(chat_id, chat_type=chat_type, user=user)
            chat.left = False
            new_member: dict[str, Any] = {"user": self.bot_user, "status": status}
            if status == "administrator":
                new_member.update(
                    can_be_edited=False,
                    is_anonymous=False,
                    can_manage_chat=True,
                    can_delete_messages=False,
                    can_manage_video_chats=False,
                    can_restrict_members=False,
                    can_promote_members=False,
                    can_change_info=False,
                    can_invite_users=False,
                    can_post_stories=False,
                    can_edit_stories=False,
                    can_delete_stories=False,
                )
            member = {
                "chat": dict(chat.info),
                "from": user,
                "date": int(time.time()),
                "old_chat_member": {"user": self.bot_user, "status": "left"},
                "new_chat_member": new_member,
            }
            return self.inject_update({"my_chat_member": member})

    def post_in_channel(self, chat_id: int, text: str) -> dict[str, Any]:
        """Inject a ``channel_post`` (no ``from``: channels post as the chat itself)."""
        with self._cond:
            chat = self._chat(chat_id, chat_type="channel")
            post = {
                "message_id": self._next_message_id(chat),
                "date": int(time.time()),
                "chat": dict(chat.info),
                "sender_chat": dict(chat.info),
                "text": text,
            }
            return self.inject_update({"channel_post": post})

    @property
    def left_chats(self) -> list[int]:
        """Chats the bot has left with ``leaveChat`` (and not been added back to)."""
        with self._cond:
            return [chat.id for chat in self._chats.values() if chat.left]

    def inject_update(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Queue a raw Update (``update_id`` added if missing) for getUpdates; returns it."""
        with self._cond:
            queued = dict(update)
            queued.setdefault("update_id", next(self._update_ids))
            self._updates.append(queued)
            self._notify()
            return queued

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._updates)

    # ----------------------------------------------------------------- observing

    def mark(self) -> int:
        """Index of the next call: pass it as ``after=`` to only see calls from now on."""
        with self._cond:
            return len(self._calls)

    def calls(self, method: str | None = None, *, after: int = 0) -> list[Call]:
        with self._cond:
            return [
                c
                for c in self._calls[after:]
                if method is None or c.method.lower() == method.lower()
            ]

    def chat_ids(self) -> list[int]:
        with self._cond:
            return list(self._chats)

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        """The stand-in's copy of a message; ``KeyError`` if unknown."""
        with self._cond:
            return self._chats[chat_id].messages[message_id]

    def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[StoredMessage]:
        """The bot's messages in a chat, oldest first: what the user sees."""
        with self._cond:
            chat = self._chats.get(chat_id)
            if chat is None:
                return []
            return [
                m
                for m in chat.messages.values()
                if m.from_bot and (include_deleted or not m.deleted)
            ]

    def last_bot_message(self, chat_id: int) -> StoredMessage:
        messages = self.bot_messages(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1]

    # ----------------------------------------------------------------- waiting (sync)

    def wait_for_call(
        self,
        method: str,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        after: int | None = None,
        *,
        completed: bool = True,
    ) -> Call:
        """First call of ``method`` at index ≥ ``after`` (default 0) matching ``predicate``.

        With ``completed`` (default) only calls already answered count, so ``call.result``
        is set. Raises ``TimeoutError``. Not for use inside a running event loop."""
        return self._wait_sync(self._finder(method, predicate, after, completed), timeout)

    def wait_for_message(
        self,
        chat_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> Call:
        """A successful ``sendMessage`` to ``chat_id``; ``call.result`` is the Message."""
        return self._wait_sync(self._message_finder(chat_id, predicate, after), timeout)

    def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> Call:
        """A successful editMessageText/ReplyMarkup/Caption of that message."""
        return self._wait_sync(self._edit_finder(chat_id, message_id, predicate, after), timeout)

    # ----------------------------------------------------------------- waiting (async)

    async def await_call(
        self,
        method: str,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        after: int | None = None,
        *,
        completed: bool = True,
    ) -> Call:
        """Async ``wait_for_call``: does not block the event loop the bot runs in."""
        return await self._wait_async(self._finder(method, predicate, after, completed), timeout)

    async def await_message(
        self,
        chat_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> Call:
        return await self._wait_async(self._message_finder(chat_id, predicate, after), timeout)

    async def await_edit(
        self,
        chat_id: int,
        message_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        after: int | None = None,
    ) -> Call:
        return await self._wait_async(
            self._edit_finder(chat_id, message_id, predicate, after), timeout
        )

    async def await_no_call(
        self, method: str, within: float = 0.5, after: int | None = None
    ) -> None:
        """Assert that no call of ``method`` arrives within ``within`` seconds."""
        with contextlib.suppress(TimeoutError):
            call = await self.await_call(method, timeout=within, after=after, completed=False)
            raise AssertionError(f"unexpected {method}: {call.params}")

    # ----------------------------------------------------------------- webhook helper

    def post_update_to(
        self,
        url: str,
        update: Mapping[str, Any],
        secret_token: str | None = None,
        *,
        content_type: str = "application/json",
        timeout: float = 5.0,
    ) -> int:
        """POST an Update to a bot's webhook like Telegram does; returns the HTTP status.

        Blocking: from a test whose event loop runs the bot, use ``apost_update_to``."""
        body = json.dumps(dict(update)).encode()
        request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
        request.add_header("Content-Type", content_type)
        if secret_token is not None:
            request.add_header("X-Telegram-Bot-Api-Secret-Token", secret_token)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            with exc:
                return int(exc.code)

    async def apost_update_to(
        self,
        url: str,
        update: Mapping[str, Any],
        secret_token: str | None = None,
        **kwargs: Any,
    ) -> int:
        return await asyncio.to_thread(self.post_update_to, url, update, secret_token, **kwargs)

    # ----------------------------------------------------------------- internals: waiting

    def _notify(self) -> None:
        # Caller holds self._cond.
        self._cond.notify_all()
        for loop, event in list(self._async_waiters):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed
                self._async_waiters.discard((loop, event))

    def _finder(
        self, method: str, predicate: Predicate | None, after: int | None, completed: bool
    ) -> Callable[[], Call | None]:
        wanted = method.lower()

        def find() -> Call | None:
            for call in self._calls[after or 0 :]:
                if call.method.lower() != wanted or (completed and not call.done):
                    continue
                if predicate is None or predicate(call):
                    return call
            return None

        return find

    def _message_finder(
        self, chat_id: int, predicate: Predicate | None, after: int | None
    ) -> Callable[[], Call | None]:
        def matches(call: Call) -> bool:
            return (
                call.ok
                and str(call.params.get("chat_id")) == str(chat_id)
                and (predicate is None or predicate(call))
            )

        return self._finder("sendMessage", matches, after, True)

    def _edit_finder(
        self, chat_id: int, message_id: int, predicate: Predicate | None, after: int | None
    ) -> Callable[[], Call | None]:
        methods = {"editmessagetext", "editmessagereplymarkup", "editmessagecaption"}

        def find() -> Call | None:
            for call in self._calls[after or 0 :]:
                if (
                    call.done
                    and call.ok
                    and call.method.lower() in methods
                    and str(call.params.get("chat_id")) == str(chat_id)
                    and str(call.params.get("message_id")) == str(message_id)
                    and (predicate is None or predicate(call))
                ):
                    return call
            return None

        return find

    def _wait_sync(self, find: Callable[[], T | None], timeout: float) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "blocking wait inside a running event loop would starve the bot: "
                "use the await_* variants"
            )
        result: T | None = None

        def ready() -> bool:
            nonlocal result
            result = find()
            return result is not None

        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise TimeoutError(self._timeout_message(timeout))
        assert result is not None
        return result

    async def _wait_async(self, find: Callable[[], T | None], timeout: float) -> T:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + timeout
        with self._cond:
            self._async_waiters.add(waiter)
        try:
            while True:
                with self._cond:
                    event.clear()
                    result = find()
                if result is not None:
                    return result
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_message(timeout))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._cond:
                self._async_waiters.discard(waiter)

    def _timeout_message(self, timeout: float) -> str:
        recent = ", ".join(f"{c.method}({c.status})" for c in self._calls[-10:])
        return f"nothing matched within {timeout} s; last calls: [{recent}]"

    # ----------------------------------------------------------------- internals: chats

    def _default_chat_id(self, user_id: int, chat_type: str) -> int:
        if chat_type == "group":
            return -abs(user_id)
        if chat_type in {"supergroup", "channel"}:
            return int(f"-100{abs(user_id)}")
        return user_id

    def _chat(
        self, chat_id: int, *, chat_type: str | None = None, user: dict[str, Any] | None = None
    ) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            kind = chat_type or ("private" if chat_id > 0 else "group")
            info: dict[str, Any] = {"id": chat_id, "type": kind}
            if kind == "private":
                info["first_name"] = (user or {}).get("first_name", "Alice")
                if user and "username" in user:
                    info["username"] = user["username"]
            else:
                info["title"] = f"Test {kind}"
            chat = self._chats[chat_id] = _Chat(id=chat_id, type=kind, info=info)
        return chat

    def _next_message_id(self, chat: _Chat) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def _target_chat(self, params: Mapping[str, Any]) -> _Chat:
        if "chat_id" not in params:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _as_int(params["chat_id"], "chat_id")
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                raise _ApiError(400, "Bad Request: chat not found")
            chat = self._chat(chat_id)
        if chat.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.left:
            raise _ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _stored_target(self, params: Mapping[str, Any], what: str) -> StoredMessage:
        chat = self._target_chat(params)
        if "message_id" not in params:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        stored = chat.messages.get(_as_int(params["message_id"], "message_id"))
        if stored is None or stored.deleted:
            raise _ApiError(400, f"Bad Request: message to {what} not found")
        return stored

    # ----------------------------------------------------------------- internals: HTTP

    def _handle_http(
        self, verb: str, path: str, headers: email.message.Message, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parsed = urllib.parse.urlsplit(path)
        route = urllib.parse.unquote(parsed.path)  # PTB quotes the ":" of file URLs
        if route.startswith("/__control/"):
            return self._handle_control(route.removeprefix("/__control/"), body)
        with self._cond:
            offline = self._offline
        if offline or self._stopping.is_set():
            raise _DropConnection
        if route.startswith("/file/bot"):
            return self._handle_file(route.removeprefix("/file/bot"))
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", route)
        if match is None:
            return _json_response(404, _error_body(404, "Not Found"))
        if match.group(1) != self.token:
            return _json_response(401, _error_body(401, "Unauthorized"))
        method = match.group(2)
        content_type = headers.get("Content-Type")
        try:
            params, raw, files = _parse_body(content_type, body, parsed.query)
        except ValueError as exc:
            return _json_response(400, _error_body(400, f"Bad Request: {exc}"))
        with self._cond:
            call = Call(
                index=len(self._calls),
                method=method,
                params=params,
                raw=raw,
                files=files,
                content_type=content_type,
                at=time.time(),
            )
            self._calls.append(call)
            self._notify()
            failure = self._take_failure(method)
        try:
            status, payload = self._answer(call, failure)
        except _DropConnection:
            self._finish(call, 0, None, "connection dropped")
            raise
        if status == HTTPStatus.BAD_GATEWAY and failure is not None:
            self._finish(call, status, None, "Bad Gateway")
            return status, {"Content-Type": "text/html"}, _BAD_GATEWAY_HTML
        if payload.get("ok"):
            self._finish(call, status, payload["result"], None)
        else:
            self._finish(call, status, None, payload.get("description"))
        if self.on_call is not None:
            self.on_call(call)
        return _json_response(status, payload)

    def _finish(self, call: Call, status: int, result: Any, description: str | None) -> None:
        with self._cond:
            call.status = status
            call.result = result
            call.description = description
            call.done = True
            self._notify()

    def _take_failure(self, method: str) -> _Failure | None:
        for key in (method.lower(), "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.popleft()
                return failure
        return None

    def _bucket(self, count: float, period: float, now: float) -> _Bucket:
        """``count`` messages at once, draining ``count`` per ``period`` seconds, plus the
        jitter allowance."""
        rate = count / period
        return _Bucket(count + rate * self.jitter_seconds, rate, now)

    def _flood_control(self, call: Call) -> tuple[int, dict[str, Any]] | None:
        """429 with ``retry_after`` when the call would go over Telegram's rates."""
        if not self.rate_limits or call.method.lower() not in _RATE_LIMITED_METHODS:
            return None
        raw_chat = call.params.get("chat_id")
        try:
            chat_id = int(raw_chat) if raw_chat is not None else None
        except (TypeError, ValueError):
            chat_id = None  # a @channel username: counted as a group below
            if isinstance(raw_chat, str) and raw_chat.startswith("@"):
                chat_id = -1
        if chat_id is None:
            return None  # inline messages carry no chat
        now = self.clock()
        with self._cond:
            if self._global_bucket is None:
                self._global_bucket = self._bucket(self.global_per_second, 1.0, now)
            bucket = self._chat_buckets.get(chat_id)
            if bucket is None:
                if chat_id < 0:  # groups, supergroups and channels
                    bucket = self._bucket(self.group_per_minute, 60.0, now)
                else:
                    period = self.chat_burst / self.chat_per_second
                    bucket = self._bucket(self.chat_burst, period, now)
                self._chat_buckets[chat_id] = bucket
            # Both must have room; neither counts a refused message.
            wait_chat = bucket.take(now)
            wait_global = self._global_bucket.take(now) if wait_chat is None else None
            if wait_chat is None and wait_global is not None:
                bucket.level -= 1
            wait = wait_chat if wait_chat is not None else wait_global
            if wait is None:
                return None
            self.rate_limited.append(call)
        retry = max(1, math.ceil(wait))
        return 429, _error_body(
            429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
        )

    def _answer(self, call: Call, failure: _Failure | None) -> tuple[int, dict[str, Any]]:
        flooded = self._flood_control(call) if failure is None else None
        if flooded is not None:
            return flooded
        if failure is not None:
            if failure.kind == "drop":
                raise _DropConnection
            if failure.kind == "slow":
                if self._stopping.wait(failure.delay):
                    raise _DropConnection
            elif failure.kind == "429":
                return 429, _error_body(
                    429,
                    failure.description or f"Too Many Requests: retry after {failure.retry_after}",
                    {"retry_after": failure.retry_after},
                )
            elif failure.kind == "502":
                return 502, {}
            else:
                status = int(failure.kind)
                description = failure.description or HTTPStatus(status).phrase
                return status, _error_body(status, description)
        handler = getattr(self, f"_m_{call.method.lower()}", None)
        try:
            result = handler(call.params, call) if handler is not None else True
        except _ApiError as exc:
            return exc.status, _error_body(exc.status, exc.description, exc.parameters)
        except _DropConnection:
            raise
        except Exception as exc:  # a stand-in bug or odd input: answer, don't hang the client
            _LOGGER.exception("stand-in failed on %s", call.method)
            return 500, _error_body(500, f"Internal Server Error: stand-in raised {exc!r}")
        return 200, {"ok": True, "result": result}

    def _handle_file(self, rest: str) -> tuple[int, dict[str, str], bytes]:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _json_response(401, _error_body(401, "Unauthorized"))
        with self._cond:
            uploaded = self.files.get(file_path.removeprefix("documents/"))
        if uploaded is None:
            return _json_response(404, _error_body(404, "Not Found"))
        return 200, {"Content-Type": "application/octet-stream"}, uploaded.data

    # ----------------------------------------------------------------- Bot API methods

    def _m_getme(self, params: dict[str, Any], call: Call) -> Any:
        return dict(
            self.bot_user,
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
            can_connect_to_business=False,
            has_main_web_app=False,
        )

    def _m_logout(self, params: dict[str, Any], call: Call) -> Any:
        return True

    def _m_setwebhook(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            self.webhook = {
                "url": str(params.get("url") or ""),
                "secret_token": params.get("secret_token"),
                "allowed_updates": params.get("allowed_updates"),
                "max_connections": params.get("max_connections", 40),
            }
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._notify()
        return True

    def _m_deletewebhook(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            self.webhook = {"url": ""}
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._notify()
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            info: dict[str, Any] = {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self.webhook.get("url"):
                info["max_connections"] = self.webhook.get("max_connections", 40)
                if self.webhook.get("allowed_updates"):
                    info["allowed_updates"] = self.webhook["allowed_updates"]
            return info

    def _m_setmycommands(self, params: dict[str, Any], call: Call) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _ApiError(400, "Bad Request: command description is empty")
        with self._cond:
            self.commands[self._commands_key(params)] = commands
        return True

    def _m_getmycommands(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            return self.commands.get(self._commands_key(params), [])

    def _m_deletemycommands(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            self.commands.pop(self._commands_key(params), None)
        return True

    @staticmethod
    def _commands_key(params: Mapping[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else str(scope)
        return str(params.get("language_code") or ""), scope_type

    def _m_getupdates(self, params: dict[str, Any], call: Call) -> Any:
        offset = _as_int(params.get("offset", 0), "offset")
        limit = max(1, min(100, _as_int(params.get("limit", 100), "limit")))
        timeout = max(0.0, min(float(params.get("timeout", 0) or 0), self.max_poll_timeout))
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook.get("url"):
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = list(params["allowed_updates"])
            self._poll_generation += 1
            generation = self._poll_generation
            self._notify()  # ends an older waiting poll with 409
            while True:
                if self._stopping.is_set() or self._offline:
                    raise _DropConnection
                if generation != self._poll_generation:
                    raise _ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                batch = self._confirm_and_select(offset, limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0:
                    self.delivered_update_ids.extend(u["update_id"] for u in batch)
                    return batch
                self._cond.wait(remaining)

    def _confirm_and_select(self, offset: int, limit: int) -> list[dict[str, Any]]:
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        elif offset:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        if self._allowed_updates:
            allowed = set(self._allowed_updates)
            self._updates = deque(
                u for u in self._updates if any(k in allowed for k in u if k != "update_id")
            )
        return [_copy(u) for u in itertools.islice(self._updates, limit)]

    def _render_text(self, params: Mapping[str, Any], key: str, required: bool) -> str | None:
        text = params.get(key)
        if text is None:
            if required:
                raise _ApiError(400, "Bad Request: message text is empty")
            return None
        text = str(text)
        if required and not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        limit = 4096 if key == "text" else 1024
        if len(text) > limit:
            what = "message" if key == "text" else "message caption"
            raise _ApiError(400, f"Bad Request: {what} is too long")
        parse_mode = str(params.get("parse_mode") or "")
        if parse_mode.upper() == "HTML" and self.strict_html:
            return _html_to_text(text)
        return text

    @staticmethod
    def _check_markup(params: Mapping[str, Any]) -> None:
        """Telegram refuses inline buttons whose callback_data is not 1-64 bytes, more than
        100 buttons, and reply markup over about 10 kB (module constants)."""
        markup = params.get("reply_markup")
        if not isinstance(markup, dict):
            return
        buttons = 0
        for row in markup.get("inline_keyboard") or ():
            for button in row:
                buttons += 1
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        size = len(json.dumps(markup, ensure_ascii=False, separators=(",", ":")).encode())
        if buttons > MAX_INLINE_BUTTONS or size > MAX_MARKUP_BYTES:
            raise _ApiError(400, _MARKUP_TOO_LONG)

    def _new_bot_message(
        self, chat: _Chat, params: Mapping[str, Any], extra: dict[str, Any]
    ) -> dict[str, Any]:
        self._check_markup(params)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat),
            "from": self.bot_user,
            "date": int(time.time()),
            "chat": dict(chat.info),
            **extra,
        }
        if isinstance(params.get("entities"), list) and "text" in message:
            message["entities"] = params["entities"]
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = StoredMessage(
            chat_id=chat.id,
            message_id=message["message_id"],
            from_bot=True,
            data=message,
            sent_text=params.get("text", params.get("caption")),
            parse_mode=params.get("parse_mode"),
        )
        return _copy(message)

    def _m_sendmessage(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            chat = self._target_chat(params)
            text = self._render_text(params, "text", required=True)
            return self._new_bot_message(chat, params, {"text": text})

    def _m_senddocument(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            chat = self._target_chat(params)
            caption = self._render_text(params, "caption", required=False)
            document = params.get("document")
            uploaded = call.files.get("document")
            if isinstance(document, str) and document.startswith("attach://"):
                uploaded = call.files.get(document.removeprefix("attach://"))
            extra: dict[str, Any] = {}
            if uploaded is not None:
                file_id = f"doc{next(self._file_ids)}"
                self.files[file_id] = uploaded
                extra["document"] = {
                    "file_id": file_id,
                    "file_unique_id": f"u{file_id}",
                    "file_name": uploaded.filename or "document",
                    "mime_type": uploaded.content_type or "application/octet-stream",
                    "file_size": len(uploaded.data),
                }
            elif isinstance(document, str) and document in self.files:
                extra["document"] = {"file_id": document, "file_unique_id": f"u{document}"}
            else:
                raise _ApiError(400, "Bad Request: there is no document in the request")
            if caption is not None:
                extra["caption"] = caption
            return self._new_bot_message(chat, params, extra)

    def _m_sendphoto(self, params: dict[str, Any], call: Call) -> Any:
        """Like Telegram: an uploaded photo of at most 10 MB that decodes as an image (PNG or
        JPEG here), width + height at most 10000, ratio at most 20
        (https://core.telegram.org/bots/api#sendphoto); answered with ``photo`` sizes."""
        with self._cond:
            chat = self._target_chat(params)
            caption = self._render_text(params, "caption", required=False)
            photo = params.get("photo")
            uploaded = call.files.get("photo")
            if isinstance(photo, str) and photo.startswith("attach://"):
                uploaded = call.files.get(photo.removeprefix("attach://"))
            if uploaded is None:
                raise _ApiError(400, "Bad Request: there is no photo in the request")
            if len(uploaded.data) > 10 * 1024 * 1024:
                raise _ApiError(400, "Bad Request: file is too big")
            size = image_size(uploaded.data)
            if size is None:
                raise _ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            width, height = size
            if width + height > 10_000 or max(width, height) > 20 * min(width, height):
                raise _ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
            file_id = f"photo{next(self._file_ids)}"
            self.files[file_id] = uploaded
            extra: dict[str, Any] = {
                "photo": [
                    {
                        "file_id": file_id,
                        "file_unique_id": f"u{file_id}",
                        "width": width,
                        "height": height,
                        "file_size": len(uploaded.data),
                    }
                ]
            }
            if caption is not None:
                extra["caption"] = caption
            return self._new_bot_message(chat, params, extra)

    def _m_getfile(self, params: dict[str, Any], call: Call) -> Any:
        file_id = str(params.get("file_id", ""))
        with self._cond:
            uploaded = self.files.get(file_id)
        if uploaded is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(uploaded.data),
            "file_path": f"documents/{file_id}",
        }

    def _edit(self, params: Mapping[str, Any], *, text_key: str | None) -> Any:
        self._check_markup(params)
        if params.get("inline_message_id"):
            return True
        with self._cond:
            stored = self._stored_target(params, "edit")
            if not stored.from_bot:
                raise _ApiError(400, "Bad Request: message can't be edited")
            new = dict(stored.data)
            if text_key is not None:
                rendered = self._render_text(params, text_key, required=text_key == "text")
                if text_key == "caption" and "document" not in new:
                    raise _ApiError(400, "Bad Request: there is no caption in the message")
                if text_key == "text" and "text" not in new:
                    raise _ApiError(400, "Bad Request: there is no text in the message to edit")
                new.pop("entities", None)
                if rendered is None:
                    new.pop(text_key, None)
                else:
                    new[text_key] = rendered
                if isinstance(params.get("entities"), list):
                    new["entities"] = params["entities"]
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and markup.get("inline_keyboard"):
                new["reply_markup"] = markup
            else:
                new.pop("reply_markup", None)
            same_source = text_key is None or (
                params.get(text_key) == stored.sent_text
                and params.get("parse_mode") == stored.parse_mode
            )
            if same_source and _without_edit_date(new) == _without_edit_date(stored.data):
                raise _ApiError(400, _NOT_MODIFIED)
            new["edit_date"] = int(time.time())
            stored.history.append(stored.data)
            stored.data = new
            if text_key is not None:
                stored.sent_text = params.get(text_key)
                stored.parse_mode = params.get("parse_mode")
            return _copy(new)

    def _m_editmessagetext(self, params: dict[str, Any], call: Call) -> Any:
        return self._edit(params, text_key="text")

    def _m_editmessagecaption(self, params: dict[str, Any], call: Call) -> Any:
        return self._edit(params, text_key="caption")

    def _m_editmessagereplymarkup(self, params: dict[str, Any], call: Call) -> Any:
        return self._edit(params, text_key=None)

    def _m_deletemessage(self, params: dict[str, Any], call: Call) -> Any:
        # https://core.telegram.org/bots/api#deletemessage: only messages sent less than 48
        # hours ago; a bot deletes incoming messages in private chats only (it is no group
        # admin here).
        with self._cond:
            stored = self._stored_target(params, "delete")
            chat = self._chats[stored.chat_id]
            too_old = time.time() - float(stored.data.get("date", 0)) >= DELETE_WINDOW_SECONDS
            if too_old or (not stored.from_bot and chat.type != "private"):
                raise _ApiError(400, "Bad Request: message can't be deleted")
            stored.deleted = True
        return True

    def _m_answercallbackquery(self, params: dict[str, Any], call: Call) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        with self._cond:
            if query_id not in self._open_queries:
                raise _ApiError(400, _QUERY_TOO_OLD)
            self._open_queries.pop(query_id)
            self.answered_queries[query_id] = dict(params)
        return True

    def _m_leavechat(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            chat = self._target_chat(params)
            if chat.type == "private":
                raise _ApiError(
                    400, "Bad Request: chat member status can't be changed in private chats"
                )
            chat.left = True
        return True

    def _m_sendchataction(self, params: dict[str, Any], call: Call) -> Any:
        with self._cond:
            self._target_chat(params)
        return True

    # ----------------------------------------------------------------- control endpoints

    def _handle_control(self, action: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """``POST /__control/<action>`` with a JSON object, for driving the stand-in by hand."""
        try:
            args: dict[str, Any] = json.loads(body or b"{}")
            result: Any
            if action == "send_command":
                result = self.send_command(args.pop("user_id"), args.pop("text"), **args)
            elif action == "send_text":
                result = self.send_text(args.pop("user_id"), args.pop("text"), **args)
            elif action == "press_button":
                result = self.press_button(
                    args.pop("user_id"), args.pop("message_id"), args.pop("callback_data"), **args
                )
            elif action == "inject_update":
                result = self.inject_update(args)
            elif action == "fail_next":
                self.fail_next(args.pop("method"), args.pop("kind"), **args)
                result = True
            elif action == "set_offline":
                self.set_offline(bool(args.get("offline", True)))
                result = True
            elif action == "calls":
                result = [
                    {"index": c.index, "method": c.method, "params": c.params, "status": c.status}
                    for c in self.calls(args.get("method"), after=int(args.get("after", 0)))
                ]
            elif action == "messages":
                result = [m.data for m in self.bot_messages(int(args["chat_id"]))]
            else:
                return _json_response(404, {"ok": False, "description": f"unknown {action}"})
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            return _json_response(400, {"ok": False, "description": repr(exc)})
        return _json_response(200, {"ok": True, "result": result})


_BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a well-formed PNG (signature, IHDR with its CRC, IEND) or a JPEG
    (SOI and a start-of-frame marker); None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if len(data) < 33 or data[12:16] != b"IHDR" or not data.endswith(b"IEND\xaeB`\x82"):
            return None
        if zlib.crc32(data[12:29]) != int.from_bytes(data[29:33], "big"):
            return None
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return (width, height) if width and height else None
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2 : index + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height = int.from_bytes(data[index + 5 : index + 7], "big")
                width = int.from_bytes(data[index + 7 : index + 9], "big")
                return (width, height) if width and height else None
            index += 2 + length
    return None


def _copy(message: Mapping[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(message))
    return copied


def _without_edit_date(message: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "edit_date"}


def _error_body(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _json_response(status: int, payload: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _parse_body(
    content_type: str | None, body: bytes, query: str
) -> tuple[dict[str, Any], dict[str, str], dict[str, UploadedFile]]:
    """Decode an empty, query-string, form-urlencoded, JSON or multipart request."""
    raw: dict[str, str] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    files: dict[str, UploadedFile] = {}
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime == "application/json" and body:
        decoded = json.loads(body)
        as_json: dict[str, Any] = dict(decoded) if isinstance(decoded, dict) else {}
        raw.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in as_json.items()})
        return as_json, raw, files
    if mime == "multipart/form-data":
        header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        for part in message.walk():
            if part.is_multipart():
                continue
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str) or not name:
                continue
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                payload = b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = UploadedFile(
                    field=name,
                    filename=filename,
                    content_type=part.get_content_type(),
                    data=payload,
                )
            else:
                charset = part.get_content_charset() or "utf-8"
                raw[name] = payload.decode(charset)
    elif body:
        raw.update(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
    params: dict[str, Any] = {k: _decode_value(k, v) for k, v in raw.items()}
    for name in files:
        params.setdefault(name, f"attach://{name}")
    return params, raw, files


# --------------------------------------------------------------------------- by hand


def _print_call(call: Call) -> None:
    if call.method.lower() == "getupdates":
        return
    shown = {k: v for k, v in call.params.items() if k not in {"chat_id"}}
    print(f"<- {call.method} [{call.status}] chat={call.params.get('chat_id')} {shown}")
    if isinstance(call.result, dict) and "message_id" in call.result:
        print(f"   message_id={call.result['message_id']} buttons={call.callback_data}")


def _console(stand: TelegramStandin, user_id: int, lines: Iterator[str]) -> None:
    print(
        "Type a message (e.g. /start) to send it as user "
        f"{user_id}; 'press MESSAGE_ID DATA' presses a button; 'user ID' switches user; "
        "'fail METHOD KIND'; 'quit'."
    )
    for line in lines:
        text = line.strip()
        if not text:
            continue
        word, _, rest = text.partition(" ")
        try:
            if text == "quit":
                return
            if word == "press":
                message_id, _, data = rest.partition(" ")
                stand.press_button(user_id, int(message_id), data)
            elif word == "user":
                user_id = int(rest)
            elif word == "fail":
                method, _, kind = rest.partition(" ")
                stand.fail_next(method, kind)
            elif text.startswith("/"):
                stand.send_command(user_id, text)
            else:
                stand.send_text(user_id, text)
        except (AssertionError, KeyError, ValueError) as exc:
            print(f"!! {exc}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Telegram Bot API stand-in on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--user-id", type=int, default=1001)
    parser.add_argument("--username", default="upbit_sell_test_bot")
    parser.add_argument("--no-console", action="store_true", help="serve until Ctrl-C")
    args = parser.parse_args(argv)
    stand = TelegramStandin(token=args.token, port=args.port, bot_username=args.username)
    stand.on_call = _print_call
    stand.start()
    print(f"Bot API stand-in at {stand.url}  (TELEGRAM_API_URL={stand.url}, token {stand.token})")
    print(f"Control: curl -XPOST {stand.url}/__control/send_command -d '{{...}}'")
    try:
        if args.no_console:
            threading.Event().wait()
        else:
            _console(stand, args.user_id, iter(sys.stdin))
    except KeyboardInterrupt:
        pass
    finally:
        stand.stop()


if __name__ == "__main__":
    main()
