"""Settings read from the environment and an optional `.env` file (the README's "Settings").

`load_settings()` builds a frozen `Settings`; `load_settings_or_exit()` is what `main()` calls:
any missing or invalid variable stops start-up with one line on stderr that names the
variable, and exit code 2. Secrets are `SecretStr`, so `repr()` and tracebacks show
`'**********'`; error messages never echo the value of a secret, a URL or the database URL.
There is no module-level singleton: build `Settings` in `main()` and pass it down.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import sys
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, NoReturn
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "LOG_LEVELS",
    "ConfigError",
    "Settings",
    "load_settings",
    "load_settings_or_exit",
    "normalize_totp_secret",
]

PROG = "upbit-sell-bot"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# BotFather tokens are `<bot id>:<35 URL-safe chars>`; any URL-safe tail is accepted so test
# stand-ins can use readable fake tokens. The token goes into a URL path, hence URL-safe only.
_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_USER_ID_RE = re.compile(r"\d+")
_CURRENCY_RE = re.compile(r"[A-Z0-9]{1,15}")
# Plain decimal notation only: no sign, exponent, underscores, `inf` or `nan`.
_AMOUNT_RE = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
# What Telegram accepts as `secret_token` in setWebhook.
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DB_BACKENDS = ("sqlite", "postgresql")
_BASE32_RE = re.compile(r"[A-Z2-7]+")
# What authenticator apps commonly issue (16 base32 characters); RFC 4226 recommends 160.
TOTP_MIN_SECRET_BITS = 80

# Fields whose value must never appear in an error message.
_SENSITIVE_FIELDS = frozenset(
    {
        "telegram_bot_token",
        "upbit_access_key",
        "upbit_secret_key",
        "webhook_secret",
        "database_url",  # may carry a password
        "webhook_url",  # some people put the bot token in the path
        "telegram_api_url",
        "upbit_api_url",
        "upbit_ws_url",
        "totp_secret",
    }
)


class ConfigError(Exception):
    """The configuration is missing or invalid; `str()` is one line naming the variable(s)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems  # (ENV_VARIABLE, message) pairs
        super().__init__("; ".join(f"{var}: {msg}" for var, msg in problems))


def _empty_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _check_http_url(value: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ValueError(f"must be a URL starting with {' or '.join(f'{s}://' for s in schemes)}")
    return value


class Settings(BaseSettings):
    """All settings of the bot. Field names are the environment variables, lower-cased."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        # ValidationError's str() would otherwise print raw inputs, secrets included.
        hide_input_in_errors=True,
    )

    telegram_bot_token: SecretStr
    allowed_user_ids: Annotated[frozenset[int], NoDecode]
    # Declared before the Upbit keys: their validator reads it from `info.data`.
    paper_trading: bool = False
    upbit_access_key: SecretStr | None = Field(default=None, validate_default=True)
    upbit_secret_key: SecretStr | None = Field(default=None, validate_default=True)
    database_url: str = "sqlite:///data/upbit-sell-bot.db"
    telegram_api_url: str = "https://api.telegram.org"
    upbit_api_url: str = "https://api.upbit.com"
    upbit_ws_url: str = "wss://api.upbit.com/websocket/v1"
    confirm_timeout_seconds: int = Field(default=60, ge=5, le=3600)
    paper_balances: Annotated[dict[str, Decimal], NoDecode] = Field(
        default_factory=lambda: {"KRW": Decimal(1000000)}
    )
    # Declared before the secret: its validator reads it from `info.data`.
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0:8443"  # all interfaces: the container publishes the port
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    log_level: str = "INFO"
    timezone: str = "Asia/Seoul"
    # Guards against a stolen phone or Telegram account (all off by default).
    daily_sell_limit_krw: Decimal | None = None
    totp_secret: SecretStr | None = None
    # Declared after the secret: its validator reads it from `info.data`.
    totp_above_krw: Decimal | None = None  # None: 0, every sell needs a code
    # The smp_type sent with every order; Upbit's own default since 2026-11-09 is
    # cancel_maker (https://docs.upbit.com/kr/changelog/add-smp-type-default).
    self_trade_prevention: Literal["cancel_maker", "cancel_taker", "reduce", "none"] = (
        "cancel_maker"
    )
    # Operational extras with safe defaults.
    heartbeat_file: str = "/tmp/upbit-sell-bot.heartbeat"  # noqa: S108 - empty turns it off
    poll_interval_seconds: float = Field(default=1.0, gt=0, le=3600, allow_inf_nan=False)
    # One batched GET /v1/ticker for every watched market per interval: a price crossing
    # reaches the user within about a second while polling, at one quotation call a second
    # (the order sweeps take at most 4 of the bot's 5 Upbit calls a second).
    alert_interval_seconds: float = Field(default=1.0, ge=0.1, le=3600, allow_inf_nan=False)

    # --- validators -------------------------------------------------------------------------

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _check_token(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("required")
        raw = raw.strip()
        if not _TOKEN_RE.fullmatch(raw):
            raise ValueError("must look like a BotFather token (<digits>:<letters, digits, _ ->)")
        return raw

    @field_validator("allowed_user_ids", mode="before")
    @classmethod
    def _parse_user_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                raise ValueError(
                    "must list at least one numeric Telegram user id (empty refuses to start)"
                )
            ids: set[int] = set()
            for part in text.split(","):
                item = part.strip()
                if not item:
                    raise ValueError(
                        f"must be comma-separated numeric Telegram user ids "
                        f"(empty entry in {text!r})"
                    )
                if re.fullmatch(r"[-+]?\d+", item) and int(item) <= 0:
                    raise ValueError(f"must be positive Telegram user ids (got {item!r})")
                if not _USER_ID_RE.fullmatch(item):
                    raise ValueError(
                        f"must be comma-separated numeric Telegram user ids (got {item!r})"
                    )
                ids.add(int(item))
            return frozenset(ids)
        return value

    @field_validator("allowed_user_ids")
    @classmethod
    def _check_user_ids(cls, value: frozenset[int]) -> frozenset[int]:
        if not value:
            raise ValueError(
                "must list at least one numeric Telegram user id (empty refuses to start)"
            )
        bad = sorted(v for v in value if v <= 0)
        if bad:
            raise ValueError(f"must be positive Telegram user ids (got {bad[0]})")
        return value

    @field_validator("upbit_access_key", "upbit_secret_key", "webhook_secret", mode="before")
    @classmethod
    def _blank_secret_is_none(cls, value: Any) -> Any:
        return _empty_to_none(value)

    @field_validator("upbit_access_key", "upbit_secret_key")
    @classmethod
    def _check_upbit_key(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if "paper_trading" not in info.data:
            return value  # PAPER_TRADING itself is invalid and reported on its own
        if info.data["paper_trading"]:
            return None  # paper trading never touches Upbit's private API
        if value is None or not value.get_secret_value().strip():
            raise ValueError("required unless PAPER_TRADING=true")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        value = value.strip()
        hint = (
            "must be a SQLAlchemy URL like sqlite:///PATH or postgresql://user:pass@host:port/db"
        )
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(hint) from None
        if url.get_backend_name() not in _DB_BACKENDS:
            raise ValueError(f"{hint} (only sqlite and postgresql are supported)")
        return value

    @field_validator("telegram_api_url", "upbit_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        # Callers append `/bot{token}/...` and `/v1/...`: no trailing slash.
        return _check_http_url(value.strip()).rstrip("/")

    @field_validator("upbit_ws_url")
    @classmethod
    def _check_ws_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""  # WebSocket off: polling only
        return _check_http_url(value, schemes=("ws", "wss")).rstrip("/")

    @field_validator("paper_balances", mode="before")
    @classmethod
    def _parse_paper_balances(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _parse_balances(value)
        if isinstance(value, Mapping):
            return {
                _check_currency(str(k)): _check_amount(str(v), str(k)) for k, v in value.items()
            }
        return value

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _blank_url_is_none(cls, value: Any) -> Any:
        return _empty_to_none(value)

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_http_url(value.strip())

    @field_validator("webhook_listen")
    @classmethod
    def _check_webhook_listen(cls, value: str) -> str:
        value = value.strip()
        _split_host_port(value)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is None:
            if info.data.get("webhook_url"):
                raise ValueError("required when WEBHOOK_URL is set")
            return None
        if not _WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("self_trade_prevention", mode="before")
    @classmethod
    def _normalise_smp(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _check_log_level(cls, value: Any) -> Any:
        if isinstance(value, str):
            level = value.strip().upper()
            if level not in LOG_LEVELS:
                raise ValueError(f"must be one of {', '.join(LOG_LEVELS)} (got {value!r})")
            return level
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        value = value.strip()
        try:
            # tzdata ships with the package: the host's zone files never matter.
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"must be an IANA time zone such as Asia/Seoul or UTC (got {value!r})"
            ) from None
        return value

    @field_validator("daily_sell_limit_krw", "totp_above_krw", mode="before")
    @classmethod
    def _parse_krw(cls, value: Any) -> Any:
        value = _empty_to_none(value)
        if isinstance(value, str):
            text = value.strip().replace(",", "")
            if not _AMOUNT_RE.fullmatch(text):
                raise ValueError(
                    f"must be a plain non-negative KRW amount such as 5000000 (got {value!r})"
                )
            return Decimal(text)
        return value

    @field_validator("daily_sell_limit_krw", "totp_above_krw")
    @classmethod
    def _check_krw(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and (not value.is_finite() or value < 0):
            raise ValueError("must be a plain non-negative KRW amount such as 5000000")
        return value

    @field_validator("totp_secret", mode="before")
    @classmethod
    def _check_totp_secret(cls, value: Any) -> Any:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        raw = _empty_to_none(raw)
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise ValueError("must be a base32 TOTP secret")
        return normalize_totp_secret(raw)

    @field_validator("totp_above_krw")
    @classmethod
    def _threshold_needs_secret(
        cls, value: Decimal | None, info: ValidationInfo
    ) -> Decimal | None:
        if value is not None and "totp_secret" in info.data and info.data["totp_secret"] is None:
            # Someone who sets a threshold believes large sells are guarded: they are not.
            raise ValueError("needs TOTP_SECRET (without it no sell asks for a code)")
        return value

    # --- derived values ---------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The zone every time shown to a person is written in (`TIMEZONE`)."""
        return ZoneInfo(self.timezone)

    @property
    def ws_enabled(self) -> bool:
        """False when `UPBIT_WS_URL` is empty: fills are found by polling only."""
        return bool(self.upbit_ws_url)

    @property
    def webhook_host(self) -> str:
        """Host part of `WEBHOOK_LISTEN` (IPv6 brackets removed)."""
        return _split_host_port(self.webhook_listen)[0]

    @property
    def webhook_port(self) -> int:
        """Port part of `WEBHOOK_LISTEN`."""
        return _split_host_port(self.webhook_listen)[1]

    def secret_values(self) -> list[str]:
        """Every configured secret in plain text, for the log redaction filter only."""
        secrets = [self.telegram_bot_token.get_secret_value()]
        for secret in (
            self.upbit_access_key,
            self.upbit_secret_key,
            self.webhook_secret,
            self.totp_secret,
        ):
            if secret is not None:
                secrets.append(secret.get_secret_value())
        if self.totp_secret is not None:
            secrets.append(self.totp_secret.get_secret_value().lower())
        password = make_url(self.database_url).password
        if password:
            secrets.append(str(password))
        return [s for s in secrets if s]

    def __repr_args__(self) -> Any:
        # The database URL may carry a password; show it masked.
        for name, value in super().__repr_args__():
            if name == "database_url":
                yield name, make_url(self.database_url).render_as_string(hide_password=True)
            else:
                yield name, value


def normalize_totp_secret(raw: str) -> str:
    """A base32 TOTP secret as authenticator apps show it (spaces, lower case, padding
    allowed) → upper-case base32 without padding; ValueError (never echoing it) if invalid."""
    secret = "".join(raw.split()).replace("-", "").upper().rstrip("=")
    if not _BASE32_RE.fullmatch(secret):
        raise ValueError("must be base32 (letters A-Z and digits 2-7), as the authenticator shows")
    try:
        decoded = base64.b32decode(secret + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("must be valid base32 (letters A-Z and digits 2-7)") from None
    if len(decoded) * 8 < TOTP_MIN_SECRET_BITS:
        raise ValueError(
            f"is too short: at least {TOTP_MIN_SECRET_BITS} bits (16 base32 characters)"
        )
    return secret


def _split_host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"must be host:port with a port from 1 to 65535 (got {value!r})")
    return host, int(port)


def _check_currency(raw: str) -> str:
    currency = raw.strip().upper()
    if not _CURRENCY_RE.fullmatch(currency):
        raise ValueError(
            f"must be CURRENCY=AMOUNT entries like KRW=1000000,BTC=0.05 (bad currency {raw!r})"
        )
    return currency


def _check_amount(raw: str, currency: str) -> Decimal:
    text = raw.strip()
    try:
        amount = Decimal(text) if _AMOUNT_RE.fullmatch(text) else None
    except InvalidOperation:  # pragma: no cover - the regex already rules this out
        amount = None
    if amount is None or not math.isfinite(amount):
        raise ValueError(
            f"must be CURRENCY=AMOUNT entries with a plain non-negative amount "
            f"(bad amount {raw!r} for {currency})"
        )
    return amount


def _parse_balances(text: str) -> dict[str, Decimal]:
    if not text.strip():
        raise ValueError("must list CURRENCY=AMOUNT entries like KRW=1000000,BTC=0.05 (empty)")
    balances: dict[str, Decimal] = {}
    for part in text.split(","):
        entry = part.strip()
        if not entry:
            raise ValueError(f"must be CURRENCY=AMOUNT entries (empty entry in {text!r})")
        currency_raw, sep, amount_raw = entry.partition("=")
        if not sep:
            raise ValueError(
                f"must be CURRENCY=AMOUNT entries like KRW=1000000,BTC=0.05 (got {entry!r})"
            )
        currency = _check_currency(currency_raw)
        if currency in balances:
            raise ValueError(f"lists {currency} twice")
        balances[currency] = _check_amount(amount_raw, currency)
    return balances


def _describe(error: Mapping[str, Any]) -> tuple[str, str]:
    """Turn one pydantic error into (ENV_VARIABLE, message) without leaking secrets."""
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else ""
    var = field.upper() if field else "settings"
    if error.get("type") == "missing":
        return var, "required"
    msg = str(error.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = error.get("input")
    if (
        field
        and field not in _SENSITIVE_FIELDS
        and "(" not in msg  # the validator already said what it got
        and isinstance(value, str | int | float)
        and not isinstance(value, bool)
    ):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        msg = f"{msg} (got {shown})"
    return var, " ".join(msg.split())  # one line, whatever the message held


def load_settings(env_file: str | None = ".env") -> Settings:
    """Build `Settings` from the environment and `env_file` (None: environment only).

    Raises `ConfigError` (never `ValidationError`, whose context would carry raw inputs).
    """
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        problems = [_describe(err) for err in exc.errors()]
    except SettingsError as exc:
        problems = [("settings", " ".join(str(exc).split()))]
    raise ConfigError(problems)


def load_settings_or_exit(env_file: str | None = ".env") -> Settings:
    """`load_settings()`, or one line on stderr and exit code 2 on a configuration error."""
    try:
        return load_settings(env_file)
    except ConfigError as exc:
        _exit(str(exc))


def _exit(message: str) -> NoReturn:
    print(f"{PROG}: configuration error: {message}", file=sys.stderr)
    sys.exit(2)
