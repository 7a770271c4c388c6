"""Logging set-up: one stderr handler, plain text, with secret redaction.

httpx logs every request URL, and python-telegram-bot puts the bot token in that URL
(`/bot<token>/getUpdates`); the Upbit JWT travels as `Authorization: Bearer <jwt>`. So:

1. the chatty transport loggers (httpx, httpcore, websockets, apscheduler) sit at WARNING;
2. a `RedactingFilter` on the *handler* (a logger's filters never see records propagated
   from child loggers) masks the configured secrets, `bot<id>:<token>` URL segments,
   `Bearer ...` values and JWTs in the message, its arguments, tracebacks and stack info;
3. with `TOTP_SECRET` set, the one-time codes valid around now are masked too (at DEBUG,
   python-telegram-bot logs whole updates, and a code travels as a message's text).
"""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import Callable, Iterable
from typing import IO, Any

__all__ = ["NOISY_LOGGERS", "RedactingFilter", "configure_logging", "redact"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY_LOGGERS = ("httpx", "httpcore", "websockets", "apscheduler")
MASK = "***"

# (pattern, replacement); applied after the literal secrets.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Telegram Bot API path segment: /bot123456:AAE.../getMe
    (re.compile(r"bot\d+:[A-Za-z0-9_-]+"), "bot" + MASK),
    # A bare BotFather-shaped token: <bot id>:<35 URL-safe chars>
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), MASK),
    # Authorization header values
    (re.compile(r"\bBearer\s+[^\s'\",;]+", re.IGNORECASE), "Bearer " + MASK),
    # JWTs: base64url('{"...') . base64url('{"...') . signature
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), MASK),
)


CodeSource = Callable[[], Iterable[str]]


def redact(text: str, secrets: Iterable[str] = (), codes: Iterable[str] = ()) -> str:
    """Return `text` with every secret in `secrets`, every one-time code in `codes` (as
    ``123456``, ``123 456`` or ``123-456``, not inside a longer number) and every
    token-shaped string masked."""
    # Longest first, so a secret that contains another is masked whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for code in {c for c in codes if c}:
        if code in text or code[:3] in text:
            half = len(code) // 2
            shape = rf"(?<!\d){re.escape(code[:half])}[ -]?{re.escape(code[half:])}(?!\d)"
            text = re.sub(shape, MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record before any formatter sees it. Attach it to handlers.

    It renders the message (`msg % args`) and the exception text itself, redacts both,
    and stores the results back on the record, so the formatter has nothing left to
    interpolate. It never drops a record.
    """

    def __init__(self, secrets: Iterable[str] = (), codes: CodeSource | None = None) -> None:
        super().__init__()
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        self._codes = codes
        self._exc_formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        """`redact()` with this filter's secrets and the codes valid now."""
        return redact(text, self._secrets, self._codes() if self._codes is not None else ())

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not hide the text or crash logging
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._exc_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(
    level: str | int,
    secrets: Iterable[str] = (),
    *,
    stream: IO[str] | None = None,
    one_time_codes: CodeSource | None = None,
) -> None:
    """Send all logging to one handler on stderr (or `stream`) with redaction.

    `level` is the root level (`LOG_LEVEL`); `secrets` are literal values to mask, for
    example `Settings.secret_values()`; `one_time_codes` gives the TOTP codes to mask at the
    moment a record is written. Calling it again replaces the previous set-up.
    """
    if isinstance(level, str):
        level = level.strip().upper()
    redacting_filter = RedactingFilter(secrets, one_time_codes)
    config: dict[str, Any] = {
        "version": 1,
        # Loggers created at import time (module-level `getLogger(__name__)`) must keep working.
        "disable_existing_loggers": False,
        "formatters": {"text": {"format": TEXT_FORMAT}},
        # A factory, so the secret strings never pass through dictConfig's value converter.
        "filters": {"redact": {"()": lambda: redacting_filter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": stream if stream is not None else "ext://sys.stderr",
                "formatter": "text",
                "filters": ["redact"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        # httpx logs every request URL at INFO, and Telegram's URLs contain the bot token.
        "loggers": {name: {"level": "WARNING"} for name in NOISY_LOGGERS},
    }
    logging.config.dictConfig(config)
