"""Settings: the README's names and defaults, one-line errors, no secret leaks."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parent.parent

TOKEN = "123456:TEST-token-abcdefghijklmnop"
ACCESS = "ACCESS-key-0123456789abcdef"
SECRET = "SECRET-key-fedcba9876543210"
WEBHOOK_SECRET = "hook-secret_0123456789"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

ENV_VARS = [name.upper() for name in Settings.model_fields]

BASE_ENV = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "ALLOWED_USER_IDS": "11111111",
    "UPBIT_ACCESS_KEY": ACCESS,
    "UPBIT_SECRET_KEY": SECRET,
}


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer's environment or `.env` leaks into a test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in {**BASE_ENV, **values}.items():
        monkeypatch.setenv(name, value)


def test_env_var_names_match_spec() -> None:
    assert set(ENV_VARS) == {
        "TELEGRAM_BOT_TOKEN",
        "ALLOWED_USER_IDS",
        "UPBIT_ACCESS_KEY",
        "UPBIT_SECRET_KEY",
        "DATABASE_URL",
        "TELEGRAM_API_URL",
        "UPBIT_API_URL",
        "UPBIT_WS_URL",
        "CONFIRM_TIMEOUT_SECONDS",
        "SELF_TRADE_PREVENTION",
        "PAPER_TRADING",
        "PAPER_BALANCES",
        "WEBHOOK_URL",
        "WEBHOOK_LISTEN",
        "WEBHOOK_SECRET",
        "LOG_LEVEL",
        "TIMEZONE",
        "DAILY_SELL_LIMIT_KRW",
        "TOTP_SECRET",
        "TOTP_ABOVE_KRW",
        "HEARTBEAT_FILE",
        "POLL_INTERVAL_SECONDS",
        "ALERT_INTERVAL_SECONDS",
    }


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)
    s = load_settings()
    assert s.telegram_bot_token.get_secret_value() == TOKEN
    assert s.allowed_user_ids == frozenset({11111111})
    assert s.upbit_access_key is not None
    assert s.upbit_access_key.get_secret_value() == ACCESS
    assert s.upbit_secret_key is not None
    assert s.upbit_secret_key.get_secret_value() == SECRET
    assert s.database_url == "sqlite:///data/upbit-sell-bot.db"
    assert s.telegram_api_url == "https://api.telegram.org"
    assert s.upbit_api_url == "https://api.upbit.com"
    assert s.upbit_ws_url == "wss://api.upbit.com/websocket/v1"
    assert s.ws_enabled
    assert s.confirm_timeout_seconds == 60
    assert s.paper_trading is False
    assert s.paper_balances == {"KRW": Decimal(1000000)}
    assert s.webhook_url is None
    assert s.webhook_url is None
    assert s.webhook_listen == "0.0.0.0:8443"
    assert (s.webhook_host, s.webhook_port) == ("0.0.0.0", 8443)  # noqa: S104
    assert s.webhook_secret is None
    assert s.log_level == "INFO"
    assert s.heartbeat_file == "/tmp/upbit-sell-bot.heartbeat"  # noqa: S108
    assert s.poll_interval_seconds == 1.0
    assert s.timezone == "Asia/Seoul" and str(s.tz) == "Asia/Seoul"


def test_timezone_comes_from_the_shipped_tzdata(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, TIMEZONE="America/New_York")
    assert str(load_settings().tz) == "America/New_York"


def test_full_config(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(
        monkeypatch,
        ALLOWED_USER_IDS="1, 2,3",
        DATABASE_URL="postgresql://bot:pw@db:5432/bot",
        TELEGRAM_API_URL="http://127.0.0.1:8081/",
        UPBIT_API_URL="http://127.0.0.1:8082",
        UPBIT_WS_URL="",
        CONFIRM_TIMEOUT_SECONDS="120",
        PAPER_BALANCES="krw=1000000, BTC=0.05,ETH=1.2",
        WEBHOOK_URL="https://bot.example.com/hook",
        WEBHOOK_LISTEN="[::]:9000",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        LOG_LEVEL="debug",
        POLL_INTERVAL_SECONDS="0.5",
    )
    s = load_settings()
    assert s.allowed_user_ids == frozenset({1, 2, 3})
    assert s.database_url == "postgresql://bot:pw@db:5432/bot"
    assert s.telegram_api_url == "http://127.0.0.1:8081"  # no trailing slash
    assert s.upbit_api_url == "http://127.0.0.1:8082"
    assert s.upbit_ws_url == ""
    assert not s.ws_enabled
    assert s.confirm_timeout_seconds == 120
    assert s.paper_balances == {
        "KRW": Decimal(1000000),
        "BTC": Decimal("0.05"),
        "ETH": Decimal("1.2"),
    }
    assert s.webhook_url == "https://bot.example.com/hook"
    assert s.webhook_url is not None
    assert (s.webhook_host, s.webhook_port) == ("::", 9000)
    assert s.webhook_secret is not None
    assert s.webhook_secret.get_secret_value() == WEBHOOK_SECRET
    assert s.log_level == "DEBUG"
    assert s.poll_interval_seconds == 0.5
    assert set(s.secret_values()) == {TOKEN, ACCESS, SECRET, WEBHOOK_SECRET, "pw"}


def test_settings_are_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)
    s = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        s.log_level = "DEBUG"  # type: ignore[misc]


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nALLOWED_USER_IDS=5,6\nPAPER_TRADING=true\n"
        "PAPER_BALANCES=KRW=5000\nLOG_LEVEL=warning\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("LOG_LEVEL", "error")  # the environment wins over the file
    s = load_settings()
    assert s.telegram_bot_token.get_secret_value() == TOKEN
    assert s.allowed_user_ids == frozenset({5, 6})
    assert s.paper_trading
    assert s.paper_balances == {"KRW": Decimal(5000)}
    assert s.log_level == "ERROR"


def test_env_file_none_ignores_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env_file=None)
    assert ("TELEGRAM_BOT_TOKEN", "required") in excinfo.value.problems


def test_env_example_lists_every_variable_and_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    example = REPO / ".env.example"
    text = example.read_text(encoding="utf-8")
    for name in ENV_VARS:
        assert f"{name}=" in text, name
    s = load_settings(env_file=str(example))
    assert s.allowed_user_ids
    # Uncommenting every optional line (the documented defaults/examples) must load too.
    uncommented = "\n".join(
        line.removeprefix("# ") if _is_var_line(line) else line for line in text.splitlines()
    )
    full = Path("full.env")
    full.write_text(uncommented, encoding="utf-8")
    s = load_settings(env_file=str(full))
    assert s.webhook_url is not None
    assert s.paper_trading is False


def _is_var_line(line: str) -> bool:
    body = line.removeprefix("# ")
    name, sep, _ = body.partition("=")
    return bool(sep) and name in ENV_VARS


def test_paper_trading_needs_and_ignores_upbit_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, PAPER_TRADING="true")
    monkeypatch.delenv("UPBIT_ACCESS_KEY")
    monkeypatch.delenv("UPBIT_SECRET_KEY")
    assert load_settings().paper_trading
    monkeypatch.setenv("UPBIT_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("UPBIT_SECRET_KEY", SECRET)
    s = load_settings()
    assert s.upbit_access_key is None
    assert s.upbit_secret_key is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", {1}), ("1, 2,3", {1, 2, 3}), (" 7 ,7", {7}), ("123456789012", {123456789012})],
)
def test_allowed_user_ids_parse(monkeypatch: pytest.MonkeyPatch, raw: str, expected: set[int]):
    set_env(monkeypatch, ALLOWED_USER_IDS=raw)
    assert load_settings().allowed_user_ids == frozenset(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("KRW=0", {"KRW": Decimal(0)}),
        ("KRW=1000000,BTC=0.05,ETH=1.2", None),
        ("btc=.5, xrp = 10.", {"BTC": Decimal("0.5"), "XRP": Decimal(10)}),
        ("1INCH=3", {"1INCH": Decimal(3)}),
    ],
)
def test_paper_balances_parse(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: dict[str, Decimal] | None
) -> None:
    set_env(monkeypatch, PAPER_BALANCES=raw)
    balances = load_settings().paper_balances
    if expected is None:
        expected = {"KRW": Decimal(1000000), "BTC": Decimal("0.05"), "ETH": Decimal("1.2")}
    assert balances == expected
    assert all(isinstance(v, Decimal) for v in balances.values())


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///data/x.db",
        "sqlite:////abs/x.db",
        "sqlite+aiosqlite:///x.db",
        "postgresql://u:p@h:5432/db",
        "postgresql+asyncpg://u:p@h/db",
    ],
)
def test_database_urls_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    set_env(monkeypatch, DATABASE_URL=url)
    assert load_settings().database_url == url


def test_repr_and_str_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(
        monkeypatch,
        DATABASE_URL="postgresql://bot:db-password-xyz@db/bot",
        WEBHOOK_URL="https://bot.example.com/hook",
        WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    s = load_settings()
    for text in (repr(s), str(s), f"{s}", repr(s.model_dump())):
        for secret in (TOKEN, ACCESS, SECRET, WEBHOOK_SECRET):
            assert secret not in text
    assert "db-password-xyz" not in repr(s)
    assert "**********" in repr(s)


def test_validation_error_text_hides_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a raw ValidationError (from `Settings()` directly) does not print inputs."""
    set_env(monkeypatch, TELEGRAM_BOT_TOKEN="not a token but a secret value")
    with pytest.raises(ValueError, match="validation error") as excinfo:
        Settings(_env_file=None)
    assert "secret value" not in str(excinfo.value)


def test_config_error_has_no_chained_context(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, TELEGRAM_BOT_TOKEN="bad token value")
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert excinfo.value.__context__ is None
    assert excinfo.value.__cause__ is None
    assert "bad token value" not in str(excinfo.value)


# --- the start-up path: one line, named variable, exit code 2 ------------------------------


def run_loader(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from bot.config import load_settings_or_exit; load_settings_or_exit()",
        ],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def without(*names: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in BASE_ENV.items() if k not in names}
    env.update(extra)
    return env


SECRETS = (TOKEN, ACCESS, SECRET, WEBHOOK_SECRET, TOTP_SECRET)

BAD_CONFIGS = [
    pytest.param(without("TELEGRAM_BOT_TOKEN"), "TELEGRAM_BOT_TOKEN: required", id="no-token"),
    pytest.param(
        without(TELEGRAM_BOT_TOKEN="abc-secret-looking-value"),
        "TELEGRAM_BOT_TOKEN",
        id="token-shape",
    ),
    pytest.param(without("ALLOWED_USER_IDS"), "ALLOWED_USER_IDS: required", id="no-ids"),
    pytest.param(
        without(ALLOWED_USER_IDS="abc"),
        "ALLOWED_USER_IDS: must be comma-separated numeric Telegram user ids (got 'abc')",
        id="ids-abc",
    ),
    pytest.param(without(ALLOWED_USER_IDS=""), "ALLOWED_USER_IDS", id="ids-empty"),
    pytest.param(without(ALLOWED_USER_IDS="  "), "ALLOWED_USER_IDS", id="ids-blank"),
    pytest.param(without(ALLOWED_USER_IDS="1,,2"), "ALLOWED_USER_IDS", id="ids-empty-entry"),
    pytest.param(without(ALLOWED_USER_IDS="1,-2"), "ALLOWED_USER_IDS", id="ids-negative"),
    pytest.param(without(ALLOWED_USER_IDS="0"), "ALLOWED_USER_IDS", id="ids-zero"),
    pytest.param(without(ALLOWED_USER_IDS="[1, 2]"), "ALLOWED_USER_IDS", id="ids-json"),
    pytest.param(without("UPBIT_ACCESS_KEY"), "UPBIT_ACCESS_KEY: required", id="no-access"),
    pytest.param(without("UPBIT_SECRET_KEY"), "UPBIT_SECRET_KEY: required", id="no-secret"),
    pytest.param(
        without(UPBIT_SECRET_KEY=""), "UPBIT_SECRET_KEY: required", id="empty-secret-key"
    ),
    pytest.param(without(PAPER_TRADING="maybe"), "PAPER_TRADING", id="paper-bool"),
    pytest.param(without(PAPER_BALANCES="BTC"), "PAPER_BALANCES", id="bal-no-eq"),
    pytest.param(without(PAPER_BALANCES="BTC=abc"), "PAPER_BALANCES", id="bal-abc"),
    pytest.param(without(PAPER_BALANCES="=5"), "PAPER_BALANCES", id="bal-no-currency"),
    pytest.param(without(PAPER_BALANCES="BTC=-1"), "PAPER_BALANCES", id="bal-negative"),
    pytest.param(without(PAPER_BALANCES="BTC=1e5"), "PAPER_BALANCES", id="bal-exponent"),
    pytest.param(without(PAPER_BALANCES="BTC=NaN"), "PAPER_BALANCES", id="bal-nan"),
    pytest.param(without(PAPER_BALANCES="BTC=inf"), "PAPER_BALANCES", id="bal-inf"),
    pytest.param(without(PAPER_BALANCES="KRW=1,KRW=2"), "PAPER_BALANCES", id="bal-dup"),
    pytest.param(without(PAPER_BALANCES="B-TC=1"), "PAPER_BALANCES", id="bal-currency"),
    pytest.param(without(PAPER_BALANCES="KRW=1,"), "PAPER_BALANCES", id="bal-trailing"),
    pytest.param(without(DATABASE_URL="not a url"), "DATABASE_URL", id="db-garbage"),
    pytest.param(without(DATABASE_URL="mysql://u:p@h/db"), "DATABASE_URL", id="db-mysql"),
    pytest.param(without(DATABASE_URL=""), "DATABASE_URL", id="db-empty"),
    pytest.param(without(TELEGRAM_API_URL="api.telegram.org"), "TELEGRAM_API_URL", id="tg-url"),
    pytest.param(without(UPBIT_API_URL="ftp://x"), "UPBIT_API_URL", id="upbit-url"),
    pytest.param(without(UPBIT_WS_URL="https://x"), "UPBIT_WS_URL", id="ws-url"),
    pytest.param(
        without(CONFIRM_TIMEOUT_SECONDS="abc"), "CONFIRM_TIMEOUT_SECONDS", id="timeout-abc"
    ),
    pytest.param(without(CONFIRM_TIMEOUT_SECONDS="4"), "CONFIRM_TIMEOUT_SECONDS", id="timeout-4"),
    pytest.param(
        without(CONFIRM_TIMEOUT_SECONDS="3601"), "CONFIRM_TIMEOUT_SECONDS", id="timeout-3601"
    ),
    pytest.param(
        without(WEBHOOK_URL="https://bot.example.com/hook"),
        "WEBHOOK_SECRET: required when WEBHOOK_URL is set",
        id="webhook-no-secret",
    ),
    pytest.param(
        without(WEBHOOK_URL="https://bot.example.com/hook", WEBHOOK_SECRET="has spaces!"),
        "WEBHOOK_SECRET",
        id="webhook-secret-chars",
    ),
    pytest.param(
        without(WEBHOOK_URL="bot.example.com/hook", WEBHOOK_SECRET=WEBHOOK_SECRET),
        "WEBHOOK_URL",
        id="webhook-url",
    ),
    pytest.param(without(WEBHOOK_LISTEN="8443"), "WEBHOOK_LISTEN", id="listen-no-host"),
    pytest.param(without(WEBHOOK_LISTEN="0.0.0.0:0"), "WEBHOOK_LISTEN", id="listen-port-0"),
    pytest.param(without(WEBHOOK_LISTEN="0.0.0.0:70000"), "WEBHOOK_LISTEN", id="listen-big"),
    pytest.param(without(WEBHOOK_LISTEN="0.0.0.0:http"), "WEBHOOK_LISTEN", id="listen-name"),
    pytest.param(without(LOG_LEVEL="verbose"), "LOG_LEVEL", id="log-level"),
    pytest.param(without(TIMEZONE="Mars/Olympus"), "TIMEZONE", id="timezone"),
    pytest.param(without(TIMEZONE="../../etc/passwd"), "TIMEZONE", id="timezone-path"),
    pytest.param(without(POLL_INTERVAL_SECONDS="0"), "POLL_INTERVAL_SECONDS", id="poll-0"),
    pytest.param(
        without(DAILY_SELL_LIMIT_KRW="-1"),
        "DAILY_SELL_LIMIT_KRW: must be a plain non-negative KRW amount",
        id="limit-negative",
    ),
    pytest.param(without(DAILY_SELL_LIMIT_KRW="lots"), "DAILY_SELL_LIMIT_KRW", id="limit-abc"),
    pytest.param(without(DAILY_SELL_LIMIT_KRW="1e9"), "DAILY_SELL_LIMIT_KRW", id="limit-exp"),
    pytest.param(without(DAILY_SELL_LIMIT_KRW="NaN"), "DAILY_SELL_LIMIT_KRW", id="limit-nan"),
    pytest.param(
        without(TOTP_SECRET=TOTP_SECRET[:-1] + "1"),
        "TOTP_SECRET: must be base32",
        id="totp-not-base32",
    ),
    pytest.param(
        without(TOTP_SECRET="JBSWY3DPEHPK"), "TOTP_SECRET: is too short", id="totp-short"
    ),
    pytest.param(
        without(TOTP_SECRET=TOTP_SECRET, TOTP_ABOVE_KRW="-5"), "TOTP_ABOVE_KRW", id="above-neg"
    ),
    pytest.param(
        without(TOTP_ABOVE_KRW="100000"), "TOTP_ABOVE_KRW: needs TOTP_SECRET", id="above-alone"
    ),
    pytest.param(without(ALERT_INTERVAL_SECONDS="0"), "ALERT_INTERVAL_SECONDS", id="alert-0"),
]


@pytest.mark.parametrize(("env", "expected"), BAD_CONFIGS)
def test_bad_config_exits_with_one_line(tmp_path: Path, env: dict[str, str], expected: str):
    result = run_loader(tmp_path, env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("upbit-sell-bot: configuration error: ")
    assert expected in line
    assert "Traceback" not in result.stderr
    for secret in (*SECRETS, env.get("TELEGRAM_BOT_TOKEN", TOKEN)):
        assert secret not in result.stderr


def test_good_config_starts(tmp_path: Path) -> None:
    result = run_loader(tmp_path, without())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_paper_without_keys_starts(tmp_path: Path) -> None:
    result = run_loader(
        tmp_path, without("UPBIT_ACCESS_KEY", "UPBIT_SECRET_KEY", PAPER_TRADING="true")
    )
    assert result.returncode == 0, result.stderr


def test_several_problems_still_one_line(tmp_path: Path) -> None:
    result = run_loader(tmp_path, {"ALLOWED_USER_IDS": "abc", "LOG_LEVEL": "loud"})
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    for name in ("TELEGRAM_BOT_TOKEN", "ALLOWED_USER_IDS", "UPBIT_ACCESS_KEY", "LOG_LEVEL"):
        assert name in lines[0]


def test_secret_in_bad_database_url_not_echoed(tmp_path: Path) -> None:
    result = run_loader(tmp_path, without(DATABASE_URL="mysql://u:db-password-xyz@h/db"))
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "db-password-xyz" not in result.stderr


# --- guards: DAILY_SELL_LIMIT_KRW, TOTP_SECRET, TOTP_ABOVE_KRW, TIMEZONE --------------------


def test_guards_are_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)
    s = load_settings()
    assert s.daily_sell_limit_krw is None
    assert s.totp_secret is None
    assert s.totp_above_krw is None
    assert s.timezone == "Asia/Seoul"


def test_guard_settings_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    # As an authenticator app shows a secret: lower case, in groups of four.
    shown = " ".join(TOTP_SECRET.lower()[i : i + 4] for i in range(0, len(TOTP_SECRET), 4))
    set_env(
        monkeypatch,
        DAILY_SELL_LIMIT_KRW="5,000,000",
        TOTP_SECRET=shown,
        TOTP_ABOVE_KRW="1000000.5",
        TIMEZONE="UTC",
    )
    s = load_settings()
    assert s.daily_sell_limit_krw == Decimal(5000000)
    assert s.totp_secret is not None
    assert s.totp_secret.get_secret_value() == TOTP_SECRET
    assert s.totp_above_krw == Decimal("1000000.5")
    assert s.timezone == "UTC"
    assert TOTP_SECRET in s.secret_values()
    assert TOTP_SECRET not in repr(s)
    assert TOTP_SECRET not in str(s)


def test_zero_limit_and_threshold_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, DAILY_SELL_LIMIT_KRW="0", TOTP_SECRET=TOTP_SECRET, TOTP_ABOVE_KRW="0")
    s = load_settings()
    assert s.daily_sell_limit_krw == 0
    assert s.totp_above_krw == 0


def test_bad_totp_secret_is_never_echoed(tmp_path: Path) -> None:
    almost = "ABCDEFGHIJKLMNOP1QRSTUVW"  # "1" is not base32
    result = run_loader(tmp_path, without(TOTP_SECRET=almost))
    assert result.returncode == 2
    assert "TOTP_SECRET" in result.stderr
    assert almost not in result.stderr
    assert almost.lower() not in result.stderr.lower()
