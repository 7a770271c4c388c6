"""Logging: secrets never reach the output, whichever logger or level emits them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logging_setup import RedactingFilter, configure_logging, redact

TOKEN = "123456789:AAFakeTokenFakeTokenFakeToken_-12345"
SECRET_KEY = "upbit-secret-key-0123456789abcdefghij"
ACCESS_KEY = "upbit-access-key-9876543210zyxwvu"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJhY2Nlc3Nfa2V5IjoiYWJjIiwibm9uY2UiOiIxMjMifQ"
    ".c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU"
)
SECRETS = (TOKEN, SECRET_KEY, ACCESS_KEY)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Logging configured into a buffer; the previous root set-up is restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    buffer = io.StringIO()
    configure_logging("DEBUG", SECRETS, stream=buffer)
    yield buffer
    restore_root(saved_handlers, saved_level)
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)


def restore_root(saved_handlers: list[logging.Handler], saved_level: int) -> None:
    """Drop our handler; put back what was there, except pytest's per-phase capture handlers
    (pytest adds and removes those itself, so re-adding a stale one would leak it)."""
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if any(isinstance(f, RedactingFilter) for f in handler.filters):
            root.removeHandler(handler)
    for handler in saved_handlers:
        if not type(handler).__module__.startswith("_pytest") and handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(saved_level)


def assert_clean(output: str) -> None:
    for secret in (*SECRETS, JWT, TOKEN.split(":")[1]):
        assert secret not in output
    for part in JWT.split("."):
        assert part not in output


def test_noisy_loggers_at_warning(stream: io.StringIO) -> None:
    for name in ("httpx", "httpcore", "websockets", "apscheduler"):
        assert logging.getLogger(name).level == logging.WARNING
    assert logging.getLogger().level == logging.DEBUG
    logging.getLogger("httpx").info(
        "HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN
    )
    assert stream.getvalue() == ""


def test_single_handler_with_filter(stream: io.StringIO) -> None:
    # pytest adds its own capture handlers to the root logger; count only ours.
    ours = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.StreamHandler) and h.stream is stream
    ]
    assert len(ours) == 1
    assert any(isinstance(f, RedactingFilter) for f in ours[0].filters)
    assert not logging.getLogger().filters  # on the handler, not the logger


def test_token_in_url_from_httpx_child_logger(stream: io.StringIO) -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    # At WARNING: gets through the httpx level and must be masked by the handler filter.
    logging.getLogger("httpx._client").warning('HTTP Request: POST %s "HTTP/1.1 200 OK"', url)
    # Even when someone turns httpx up to DEBUG, the handler filter still masks.
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("httpx._client").debug("HTTP Request: POST %s", url)
    output = stream.getvalue()
    assert_clean(output)
    assert output.count("https://api.telegram.org/bot***/getUpdates") == 2
    assert " DEBUG httpx._client: " in output


def test_token_from_bot_logger_at_debug(stream: io.StringIO) -> None:
    log = logging.getLogger("bot.x")
    log.debug("calling https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.debug(f"f-string leak {TOKEN} and {SECRET_KEY} and {ACCESS_KEY}")  # noqa: G004
    log.info("dict args %(key)s", {"key": SECRET_KEY})
    output = stream.getvalue()
    assert_clean(output)
    assert "bot***/sendMessage" in output
    assert "f-string leak *** and *** and ***" in output
    assert "dict args ***" in output


def test_bearer_and_jwt(stream: io.StringIO) -> None:
    log = logging.getLogger("bot.upbit")
    log.warning("headers: %s", {"Authorization": f"Bearer {JWT}"})
    log.warning("raw header Authorization: Bearer %s", "opaque-value-123")
    log.error("token was %s", JWT)
    output = stream.getvalue()
    assert_clean(output)
    assert "opaque-value-123" not in output
    assert "'Authorization': 'Bearer ***'" in output
    assert "Authorization: Bearer ***" in output
    assert "token was ***" in output


def test_exception_with_token_is_masked(stream: io.StringIO) -> None:
    log = logging.getLogger("bot.telegram")
    try:
        raise RuntimeError(f"Client error '404' for url 'https://x/bot{TOKEN}/getMe' {SECRET_KEY}")
    except RuntimeError:
        log.exception("request failed")
    output = stream.getvalue()
    assert_clean(output)
    assert "Traceback" in output
    assert "RuntimeError: Client error '404' for url 'https://x/bot***/getMe' ***" in output


def test_exc_info_from_httpx_child(stream: io.StringIO) -> None:
    try:
        raise ValueError(f"secret {ACCESS_KEY}")
    except ValueError as exc:
        logging.getLogger("httpcore.connection").error("boom", exc_info=exc)
    output = stream.getvalue()
    assert_clean(output)
    assert "ValueError: secret ***" in output


def test_stack_info_is_masked(stream: io.StringIO) -> None:
    logging.getLogger("bot.x").warning("with stack %s", TOKEN, stack_info=True)
    output = stream.getvalue()
    assert_clean(output)
    assert "Stack (most recent call last)" in output


def test_format_is_plain_text(stream: io.StringIO) -> None:
    logging.getLogger("bot.x").info("hello %s", "world")
    line = stream.getvalue().strip()
    assert line.endswith(" INFO bot.x: hello world")


def test_level_from_settings_string() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    try:
        configure_logging("warning", stream=buffer)
        assert root.level == logging.WARNING
        logging.getLogger("bot.x").info("hidden")
        logging.getLogger("bot.x").warning("shown bot%s/x", TOKEN)
        assert buffer.getvalue().count("\n") == 1
        assert "shown bot***/x" in buffer.getvalue()
    finally:
        restore_root(saved_handlers, saved_level)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"https://api.telegram.org/bot{TOKEN}/getMe", "https://api.telegram.org/bot***/getMe"),
        ("/bot1:x/getMe", "/bot***/getMe"),
        (f"Authorization: Bearer {JWT}", "Authorization: Bearer ***"),
        (f"authorization: bearer {JWT}", "authorization: Bearer ***"),
        (f"jwt={JWT} end", "jwt=*** end"),
        (f"bare {TOKEN} token", "bare *** token"),
        (f"key {SECRET_KEY}!", "key ***!"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text, SECRETS) == expected


def test_redact_longest_secret_first_and_ignores_empty() -> None:
    assert redact("abcdef abc", ["abc", "abcdef", ""]) == "*** ***"
    assert redact("plain", [""]) == "plain"


def test_one_time_codes_are_masked_in_every_shape() -> None:
    buffer = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("DEBUG", SECRETS, stream=buffer, one_time_codes=lambda: ["428913"])
    try:
        logging.getLogger("telegram.ext").debug(
            "update %s", {"message": {"text": "428913", "id": 1}}
        )
        logging.getLogger("bot").info("typed with a space: 428 913, with a dash: 428-913")
        logging.getLogger("bot").info("price 14289130 and id 428913777 stay")
    finally:
        restore_root(saved_handlers, saved_level)
    output = buffer.getvalue()
    assert "428913'" not in output
    assert "428 913" not in output and "428-913" not in output
    assert "{'text': '***'" in output
    assert "price 14289130 and id 428913777 stay" in output


def test_redact_masks_codes_only_as_whole_numbers() -> None:
    assert redact("code=123456.", codes=["123456"]) == "code=***."
    assert redact("0.1234567", codes=["123456"]) == "0.1234567"
