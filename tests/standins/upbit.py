"""A local stand-in for Upbit's REST API and private WebSocket, for tests and by-hand runs.

Real servers on 127.0.0.1 (random free ports unless given), each in a daemon thread, so the
bot's real httpx client and a ``websockets`` client talk to it unmodified: from a
pytest-asyncio test (its own loop is never touched), from synchronous code, from a benchmark.
Behaviour follows Upbit's public documentation:

- auth: https://docs.upbit.com/kr/reference/auth
- errors: https://docs.upbit.com/kr/reference/rest-api-guide
- limits: https://docs.upbit.com/kr/reference/rate-limits
- orders: https://docs.upbit.com/reference/%EC%A3%BC%EB%AC%B8%ED%95%98%EA%B8%B0
- WebSocket: https://docs.upbit.com/kr/reference/websocket-myorder

where Upbit's behaviour is undocumented the choice made here is marked ``[I]``.

Quick start::

    stand = UpbitStandIn()                  # access "test-access-key", secret "test-secret-key"
    stand.seed_basic()                      # or add_market()/set_account() by hand
    stand.start()
    stand.url                               # "http://127.0.0.1:PORT"   (UPBIT_API_URL)
    stand.ws_url                            # "ws://127.0.0.1:PORT2/websocket/v1" (UPBIT_WS_URL)
    ...
    stand.stop()

or ``with UpbitStandIn() as stand: ...`` (starts and stops), or from a shell:
``python -m tests.standins.upbit --port 0 [--ws-port 0] [--seed demo|basic|none]``.

Note: PyJWT >= 2.10 warns (``InsecureKeyLengthWarning``) when *signing* with a secret shorter
than the hash (32 bytes for HS256, 64 for HS512); the default secret is 15 bytes, so a client
that signs with plain ``jwt.encode`` under ``filterwarnings=error`` must silence that warning
or the test must pass a longer ``secret_key``. The stand-in checks signatures with ``hmac``
itself and never warns.

Public API (everything else is private)
--------------------------------------
Construction / lifecycle
  ``UpbitStandIn(access_key=, secret_key=, host="127.0.0.1", port=0, ws_port=0)``
  ``start()`` / ``stop()`` (idempotent; joins every thread, closes every socket); context manager.
  ``url`` REST root; ``ws_url`` WebSocket root (the private stream is ``ws_url + "/private"``).
  ``access_key``, ``secret_key`` (settable before or after start).
  ``api_key_expire_at`` (aware datetime; in the past → every private call 401
  ``expired_access_key``); ``scopes`` (set of "view_account", "make_orders", "view_orders";
  a missing scope → 403 ``out_of_scope``).

State (amounts are ``Decimal``; getters return copies)
  ``add_market(code, bids=, asks=, min_total=, max_total=, ask_fee=, bid_fee=, state=,
  ask_types=, bid_types=, korean_name=, english_name=, trade_price=, prev_closing_price=,
  warning=)`` — books are lists of ``(price, size)``; bids best (highest) first, asks best
  (lowest) first; defaults per quote currency (KRW: min 5000, max 1e9, fee 0.0005).
  ``tick_size=`` (price step served by ``/v1/orderbook/instruments`` and enforced on limit
  prices; default from Upbit's KRW price-unit table, 1e-8 elsewhere).
  ``set_orderbook(code, bids=, asks=)`` (resting limit sells that the new bids reach fill at
  once), ``set_market_state(code, "active"|"offline")``,
  ``set_ticker(code, trade_price=, prev_closing_price=)``, ``market(code)``, ``markets``.
  ``set_account(currency, balance=, locked=0, avg_buy_price=0, unit_currency="KRW")``,
  ``remove_account(currency)``, ``account(currency)``, ``accounts``.
  ``orders`` (dict uuid → Order copy), ``order(uuid)``, ``order_by_identifier(identifier)``.
  ``seed_basic()`` / ``seed_demo()`` — see their docstrings for the exact numbers.

Fills
  ``auto_fill`` (default True), ``fill_delay`` seconds (default 0: the 201 still says "wait",
  the order is "done" before the response is sent), ``partial_fills`` (auto fills execute
  ``partial_fill_ratio`` of the volume, default 0.5, the rest is cancelled and returned),
  ``consume_book`` (fills remove liquidity from the book; default False),
  ``fill_order(uuid, partial=False, volume=None)`` fills an open order now, walking the bids.
  ``cancel_order(uuid)`` cancels an open order (as DELETE /v1/order would).
  Limit sells (``ord_type=limit`` with a ``price`` on the tick) execute at once against the
  bids at or above their price (at the bids' prices); ``time_in_force=ioc`` cancels the rest,
  ``fok`` executes all or nothing; without it the rest rests (``wait``) and executes when
  `set_orderbook` brings bids up to its price. ``auto_fill`` does not apply to them, and the
  bid liquidity they execute against is always taken from the book.
  ``identifier_consumed_on_failure`` (default True: an identifier sent with an order that is
  then rejected by validation can never be used again, as the order page says; a reuse is
  answered ``duplicated_identifier``; identifiers longer than 64 characters are refused).

Self-trade prevention and the account's own buy orders
  ``place_own_bid(code, price, volume)`` rests a limit buy of the account (as a limit
  ``side=bid`` POST does): it shows in ``/v1/orderbook`` and ``/v1/orders/open``, and the
  account's sells meet it by their ``smp_type`` (default ``cancel_maker``; ``cancel_taker``,
  ``reduce``, ``none``), with ``prevented_volume``/``prevented_locked`` and ``prevented``
  WebSocket events. ``thirdparty_agreed`` (default True; False: orders on BTC and USDT
  markets get 403 ``thirdparty_agreement_required``). A market sell beyond the bids of the
  30 best levels is refused (400 ``create_ask_error`` [I: the name is undocumented]).

Rate limits
  ``rate_limit_enabled`` (default True), ``rate_limits`` (group → calls per second:
  default 30, order 12, order-test 8, ticker/orderbook/market 10), ``rate_limited_count``
  (number of 429 responses sent, injected ones included). ``block_after_429s`` 429s within
  ``block_window`` seconds block every call with 418 for ``block_seconds`` (doubling with
  each block); ``blocked_count``, ``unblock()``.

Failure injection
  ``fail_next(method, path, kind, times=1, status=None)``; ``clear_failures()``;
  ``slow_seconds`` (default 2.0). Kinds: "429", "418", "500", "502", "drop",
  "drop_after_create", "slow", "proxy_error" (a proxy in front of Upbit answers an HTML error
  page, ``status`` default 404, and Upbit sees nothing), "proxy_error_after_create" (Upbit
  handles the request, e.g. creates the order, then the proxy answers that HTML page
  instead of Upbit's answer), or an Upbit error name (``ERRORS`` keys, e.g.
  "market_offline", "expired_access_key", "no_authorization_ip", "insufficient_funds_ask",
  "under_min_total_market_ask", "invalid_volume_ask", "out_of_scope"). Injected failures
  apply after rate limiting and after authentication (so the nonce is consumed); an error
  name is answered with its HTTP status and JSON body and creates nothing.

Recording
  ``requests`` (list copy of ``RecordedRequest``), ``requests_to(method, path)``,
  ``private_calls()``, ``last_request(method=None, path=None)``, ``clear_requests()``.
  ``ws_events`` (every myOrder/myAsset event generated, delivered or not).

WebSocket
  ``ws_enabled`` (False → new connections get HTTP 503), ``ws_idle_timeout`` (default 120 s),
  ``ws_connections_made``, ``ws_rejected_count``, ``ws_subscriber_count``,
  ``ws_connect_times`` (time.monotonic() of every upgrade request), ``ws_connect_limit``
  (default 5: more upgrade requests in one second get HTTP 429, as Upbit's
  ``websocket-connect`` group), ``ws_close_on_subscribe`` (True: every connection is closed
  right after its subscription is accepted — a flapping server),
  ``wait_for_ws_subscribers(count=1, timeout=5.0)``, ``drop_ws_connections(abrupt=False)``,
  ``ws_broadcast(obj)`` (send any JSON value to every open private connection).
  The public endpoint ``/websocket/v1`` (no authentication) serves ``ticker``
  (https://docs.upbit.com/kr/reference/websocket-ticker): a SNAPSHOT per known code on
  subscribing (unless ``is_only_realtime``), then a REALTIME message whenever
  ``set_ticker`` changes that market's price (unless ``is_only_snapshot``);
  ``ws_public_connections_made``, ``ws_ticker_codes()`` (the codes of every open ticker
  subscription), ``wait_for_ticker_subscription(codes, timeout)``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import hashlib
import heapq
import hmac
import itertools
import json
import math
import queue
import re
import signal
import socket
import sys
import threading
import time
import uuid as uuid_mod
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_SECRET_KEY",
    "ERRORS",
    "Account",
    "Market",
    "Order",
    "RecordedRequest",
    "Trade",
    "UpbitStandIn",
    "main",
]

DEFAULT_ACCESS_KEY = "test-access-key"
DEFAULT_SECRET_KEY = "test-secret-key"
KST = timezone(timedelta(hours=9))
ZERO = Decimal(0)
EIGHT_PLACES = Decimal("0.00000001")
PLAIN_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
TOO_MANY = "Too many API requests."
ALL_SCOPES = frozenset({"view_account", "make_orders", "view_orders"})
# docs.upbit.com/kr/reference/new-order: an identifier has at most 64 characters.
MAX_IDENTIFIER_LENGTH = 64
# docs.upbit.com/kr/v1.6.4/docs/smp and /kr/changelog/add-smp-type-default (2026-11-09).
SMP_TYPES = ("cancel_maker", "cancel_taker", "reduce", "none")
# Market sells see (and are refused beyond) the bids of 30 levels since 2025-05-07
# (docs.upbit.com/kr/changelog/orderbook_expansion).
BOOK_LEVELS = 30
# BTC and USDT markets need a one-time consent in Upbit's app since 2025-06-11 (notice
# "[중요] BTC, USDT 마켓 주문 시 1회 동의 필수", docs.upbit.com/kr/changelog?page=3).
AGREEMENT_QUOTES = frozenset({"BTC", "USDT"})


DEFAULT_RATE_LIMITS: dict[str, int] = {
    "default": 30,
    "order": 12,
    "order-test": 8,
    "ticker": 10,
    "orderbook": 10,
    "market": 10,
}

# name -> (HTTP status, message); messages partly made up. Statuses per
# https://docs.upbit.com/kr/reference/rest-api-guide
ERRORS: dict[str, tuple[int, str]] = {
    "create_ask_error": (400, "주문 요청 정보가 올바르지 않습니다."),
    "insufficient_funds_ask": (400, "주문가능한 금액이 부족합니다."),
    "under_min_total_market_ask": (
        400,
        "최소 주문 금액은 {min_total} {quote}입니다. "
        "시장가 매도시 주문금액은 주문 수량 * 매수 1호가로 계산합니다.",
    ),
    "over_max_total_market_ask": (400, "최대 주문 가능 금액 {max_total} {quote}를 초과했습니다."),
    "invalid_volume_ask": (400, "주문 수량이 올바르지 않습니다."),
    "invalid_parameter": (400, "잘못된 파라미터입니다."),
    "notfoundmarket": (400, "다음 마켓에 없는 종목입니다: {market}"),
    "validation_error": (400, "잘못된 요청입니다."),
    # docs.upbit.com/kr/reference/new-order (2026): a spent identifier, refused ones included.
    "duplicated_identifier": (400, "이미 사용된 identifier 입니다."),
    "create_bid_error": (400, "주문 요청 정보가 올바르지 않습니다."),
    "insufficient_funds_bid": (400, "주문가능한 금액이 부족합니다."),
    "under_min_total_bid": (400, "최소 주문 금액 미만입니다."),
    "invalid_price_bid": (400, "주문 가격 단위가 올바르지 않습니다."),
    "invalid_time_in_force": (400, "주문 조건이 올바르지 않습니다."),
    "invalid_query_payload": (401, "Jwt의 query를 검증하는데 실패하였습니다."),
    "jwt_verification": (401, "Jwt 토큰 검증에 실패했습니다."),
    "expired_access_key": (401, "API 키가 만료되었습니다."),
    "nonce_used": (401, "이미 요청한 nonce값이 다시 사용되었습니다."),
    "no_authorization_ip": (401, "This is not a verified IP."),
    "invalid_access_key": (401, "잘못된 엑세스 키입니다."),
    "no_authorization_token": (401, "인증 토큰이 존재하지 않습니다."),
    # 401 in the old error table, 403 in the current REST guide: 403 here.
    "out_of_scope": (403, "권한이 부족합니다."),
    "market_offline": (403, "현재 거래가 지원되지 않는 마켓입니다."),
    # Message as ccxt's upbit.ts quotes it; the HTTP status is undocumented: 403 here [I].
    "thirdparty_agreement_required": (403, "개인정보 제 3자 제공 동의가 필요합니다."),
    "order_not_found": (404, "주문을 찾지 못했습니다."),
}


def _proxy_page(status: int) -> _Reply:
    """A proxy's own error page (nginx style): HTML, not Upbit's JSON error."""
    html = (
        f"<html><head><title>{status} Error</title></head>"
        f"<body><center><h1>{status} Error</h1></center><hr><center>nginx</center></body></html>"
    )
    return _Reply(status, html.encode(), content_type="text/html")


FailureKind = str  # "429" | "418" | "500" | "502" | "drop" | "drop_after_create" | "slow" |
#                    "proxy_error" | "proxy_error_after_create" | name
_SPECIAL_KINDS = frozenset(
    {
        "429",
        "418",
        "500",
        "502",
        "drop",
        "drop_after_create",
        "slow",
        "proxy_error",
        "proxy_error_after_create",
    }
)


# --------------------------------------------------------------------------------------------
# Small helpers


def _d(value: Decimal | int | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def dec_str(value: Decimal) -> str:
    """Upbit-style decimal string: plain notation, no exponent, no trailing zeros."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _json_value(obj: Any) -> str:
    """JSON text with ``Decimal`` written as a JSON number (full precision, no float)."""
    if isinstance(obj, Decimal):
        return dec_str(obj)
    if obj is None or isinstance(obj, bool | int | float | str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, Mapping):
        inner = ",".join(
            f"{json.dumps(str(k), ensure_ascii=False)}:{_json_value(v)}" for k, v in obj.items()
        )
        return "{" + inner + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(_json_value(v) for v in obj) + "]"
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def _now_kst() -> datetime:
    return datetime.now(KST)


def _iso_seconds(moment: datetime) -> str:
    return moment.astimezone(KST).isoformat(timespec="seconds")


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(KST).isoformat(timespec="milliseconds")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# Upbit's KRW price units by price (https://docs.upbit.com/kr/docs/krw-market-info; the
# table changed 2025-07-31 and may again, which is why the bot reads
# /v1/orderbook/instruments instead of a table) [I for the exact steps].
_KRW_TICKS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal(2_000_000), Decimal(1000)),
    (Decimal(1_000_000), Decimal(500)),
    (Decimal(500_000), Decimal(100)),
    (Decimal(100_000), Decimal(50)),
    (Decimal(10_000), Decimal(10)),
    (Decimal(1_000), Decimal(1)),
    (Decimal(100), Decimal("0.1")),
    (Decimal(10), Decimal("0.01")),
    (Decimal(1), Decimal("0.001")),
    (Decimal("0.1"), Decimal("0.0001")),
    (Decimal("0.01"), Decimal("0.00001")),
    (Decimal("0.001"), Decimal("0.000001")),
    (Decimal("0.0001"), Decimal("0.0000001")),
)


def default_tick(quote: str, price: Decimal) -> Decimal:
    if quote == "KRW":
        for floor, tick in _KRW_TICKS:
            if price >= floor:
                return tick
    return EIGHT_PLACES


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _hash_text(value: Any) -> list[str] | str | None:
    """How one JSON body value is written into the POST hash input (None → left out)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [str(_hash_text(v)) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def post_hash_input(body: Mapping[str, Any]) -> str:
    """``unquote(urlencode(items, doseq=True))`` over the body's pairs, in body order.

    ``null`` values are left out (as the official SDK does) and booleans are ``true``/``false``.
    """
    items: list[tuple[str, str | list[str]]] = []
    for key, value in body.items():
        text = _hash_text(value)
        if text is not None:
            items.append((key, text))
    return unquote(urlencode(items, doseq=True))


# --------------------------------------------------------------------------------------------
# State types


@dataclass
class Account:
    currency: str
    balance: Decimal = ZERO
    locked: Decimal = ZERO
    avg_buy_price: Decimal = ZERO
    unit_currency: str = "KRW"
    avg_buy_price_modified: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "balance": dec_str(self.balance),
            "locked": dec_str(self.locked),
            "avg_buy_price": dec_str(self.avg_buy_price),
            "avg_buy_price_modified": self.avg_buy_price_modified,
            "unit_currency": self.unit_currency,
        }


@dataclass
class Market:
    code: str
    korean_name: str
    english_name: str
    bids: list[tuple[Decimal, Decimal]]
    asks: list[tuple[Decimal, Decimal]]
    min_total: Decimal
    max_total: Decimal
    ask_fee: Decimal
    bid_fee: Decimal
    state: str = "active"
    ask_types: tuple[str, ...] = ("limit", "market", "best_fok", "best_ioc")
    bid_types: tuple[str, ...] = ("limit", "price", "best_fok", "best_ioc")
    trade_price: Decimal | None = None
    prev_closing_price: Decimal | None = None
    warning: bool = False
    tick_size: Decimal = Decimal(1)

    @property
    def quote(self) -> str:
        return self.code.split("-", 1)[0]

    @property
    def base(self) -> str:
        return self.code.split("-", 1)[1]

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def last_price(self) -> Decimal:
        """``trade_price`` if set, else the best bid, else the best ask, else 0."""
        if self.trade_price is not None:
            return self.trade_price
        if self.bids:
            return self.bids[0][0]
        if self.asks:
            return self.asks[0][0]
        return ZERO


@dataclass
class Trade:
    uuid: str
    market: str
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    created_at: datetime
    side: str = "ask"
    trend: str = "down"

    def to_json(self) -> dict[str, Any]:
        return {
            "market": self.market,
            "uuid": self.uuid,
            "price": dec_str(self.price),
            "volume": dec_str(self.volume),
            "funds": dec_str(self.funds),
            "trend": self.trend,
            "created_at": _iso_millis(self.created_at),
            "side": self.side,
        }


@dataclass
class Order:
    uuid: str
    market: str
    side: str
    ord_type: str
    volume: Decimal
    created_at: datetime
    identifier: str | None = None
    price: Decimal | None = None
    state: str = "wait"
    remaining_volume: Decimal = ZERO
    executed_volume: Decimal = ZERO
    paid_fee: Decimal = ZERO
    locked: Decimal = ZERO
    trades: list[Trade] = field(default_factory=list)
    time_in_force: str | None = None
    smp_type: str | None = None
    prevented_volume: Decimal = ZERO
    prevented_locked: Decimal = ZERO
    reserved_fee: Decimal = ZERO

    @property
    def executed_funds(self) -> Decimal:
        return sum((t.funds for t in self.trades), ZERO)

    @property
    def trades_count(self) -> int:
        return len(self.trades)

    @property
    def avg_price(self) -> Decimal:
        if not self.executed_volume:
            return ZERO
        with localcontext() as ctx:
            ctx.prec = 40
            return self.executed_funds / self.executed_volume

    def to_json(self, *, trades: bool = False, executed_funds: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "uuid": self.uuid,
            "side": self.side,
            "ord_type": self.ord_type,
        }
        if self.price is not None:  # null fields are omitted, as Upbit's answers do
            data["price"] = dec_str(self.price)
        data.update(
            {
                "state": self.state,
                "market": self.market,
                "created_at": _iso_seconds(self.created_at),
                "volume": dec_str(self.volume),
                "remaining_volume": dec_str(self.remaining_volume),
                "reserved_fee": dec_str(self.reserved_fee),
                "remaining_fee": dec_str(max(self.reserved_fee - self.paid_fee, ZERO)),
                "paid_fee": dec_str(self.paid_fee),
                "locked": dec_str(self.locked),
                "executed_volume": dec_str(self.executed_volume),
                # Always present since 2026-11-09 (changelog/add-smp-type-default).
                "smp_type": self.smp_type or "cancel_maker",
                "prevented_volume": dec_str(self.prevented_volume),
                "prevented_locked": dec_str(self.prevented_locked),
                "trades_count": self.trades_count,
            }
        )
        if self.time_in_force is not None:
            data["time_in_force"] = self.time_in_force
        if executed_funds:
            data["executed_funds"] = dec_str(self.executed_funds)
        if self.identifier is not None:
            data["identifier"] = self.identifier
        if trades:
            data["trades"] = [t.to_json() for t in self.trades]
        return data


@dataclass(frozen=True)
class RecordedRequest:
    """One REST request as the stand-in saw it. ``headers`` keys are lower-case."""

    method: str
    path: str
    query_string: str  # raw, as sent (percent-encoded)
    query: dict[str, list[str]]
    body: Any  # parsed JSON body (floats as Decimal) or None
    headers: dict[str, str]
    status: int | None  # None when the connection was dropped without an answer
    time: float  # time.time() when the request arrived
    jwt_payload: dict[str, Any] | None  # unverified payload of the bearer token, if any
    response_text: str
    private: bool

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _ApiError(Exception):
    def __init__(self, status: int, name: str | int, message: str) -> None:
        super().__init__(f"{status} {name}: {message}")
        self.status = status
        self.name = name
        self.message = message


def _err(name: str, **fmt: object) -> _ApiError:
    status, message = ERRORS.get(name, (400, name))
    with contextlib.suppress(KeyError, IndexError):
        message = message.format(**fmt)
    return _ApiError(status, name, message)


def _quotation_err(status: int, message: str) -> _ApiError:
    return _ApiError(status, status, message)


@dataclass
class _Failure:
    method: str
    path: str
    kind: str
    remaining: int
    status: int | None


@dataclass
class _Ctx:
    method: str
    path: str
    raw_query: str
    pairs: list[tuple[str, str]]
    query: dict[str, list[str]]
    body: dict[str, Any] | None

    def one(self, key: str) -> str | None:
        values = self.query.get(key)
        return values[0] if values else None


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    drop: bool = False


Handler = Callable[["UpbitStandIn", _Ctx], tuple[int, Any]]


@dataclass(frozen=True)
class _Route:
    func: Handler
    group: str
    private: bool
    scope: str | None = None
    quotation: bool = False


# --------------------------------------------------------------------------------------------
# Rate limiting


class _RateLimiter:
    """Sliding one-second window per group."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}

    def take(self, group: str, limit: int, enforce: bool) -> int | None:
        """Count one call; the remaining calls this second, or None when over the limit."""
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(group, deque())
            while calls and now - calls[0] >= 1.0:
                calls.popleft()
            if enforce and len(calls) >= limit:
                return None
            calls.append(now)
            return max(limit - len(calls), 0)


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], stand: UpbitStandIn) -> None:
        self.stand = stand
        self._conn_lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self._work,
            args=(request, client_address),
            name="upbit-standin-http-conn",
            daemon=True,
        )
        with self._conn_lock:
            self._conns.add(request)
            self._workers.add(worker)
        worker.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self._conns.discard(request)
                self._workers.discard(threading.current_thread())

    def close_connections(self, timeout: float = 5.0) -> None:
        with self._conn_lock:
            conns = list(self._conns)
            workers = list(self._workers)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16  # headers and body leave in one write
    server: _HTTPServer
    server_version = "upbit-standin"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self, method: str) -> None:
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply, extra_headers = self.server.stand._handle(method, self.path, headers, body)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for key, value in extra_headers.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(reply.body)
            self.wfile.flush()


# --------------------------------------------------------------------------------------------
# WebSocket plumbing


class _TrackedConnection(ServerConnection):
    """A server connection that remembers when the last frame arrived (pings included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.last_activity = time.monotonic()
        self.public = False  # /websocket/v1 (quotation) rather than /websocket/v1/private
        super().__init__(*args, **kwargs)

    def process_event(self, event: Any) -> None:
        self.last_activity = time.monotonic()
        super().process_event(event)


@dataclass(eq=False)
class _WsClient:
    conn: _TrackedConnection
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    order_codes: set[str] | None = None  # None: not subscribed; empty: every market
    assets: bool = False
    ticket: str | None = None
    ticker_codes: set[str] | None = None  # public connections: the subscribed ticker codes
    ticker_realtime: bool = True

    def send(self, payload: Any) -> None:
        data = _json_value(payload).encode()
        with self.send_lock:
            self.conn.last_activity = time.monotonic()
            self.conn.send(data)  # bytes → BINARY frame, like Upbit


_STOP = object()


# --------------------------------------------------------------------------------------------
# The stand-in


class UpbitStandIn:
    """Fake Upbit REST + private WebSocket server. See the module docstring for the API."""

    def __init__(
        self,
        access_key: str = DEFAULT_ACCESS_KEY,
        secret_key: str = DEFAULT_SECRET_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ws_port: int = 0,
    ) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.host = host
        self._port = port
        self._ws_port = ws_port
        self.api_key_expire_at: datetime = _now_kst().replace(microsecond=0) + timedelta(days=300)
        self.scopes: set[str] = set(ALL_SCOPES)

        self.auto_fill = True
        self.fill_delay = 0.0
        self.partial_fills = False
        self.partial_fill_ratio = Decimal("0.5")
        self.consume_book = False
        self.identifier_consumed_on_failure = True
        # The one-time consent BTC and USDT markets need (False: thirdparty_agreement_required).
        self.thirdparty_agreed = True

        self.rate_limit_enabled = True
        self.rate_limits: dict[str, int] = dict(DEFAULT_RATE_LIMITS)
        self.rate_limited_count = 0
        # Sending on after 429s gets the caller blocked with 418 for a stated time, longer
        # each time (docs.upbit.com/kr/reference/rate-limits). How many 429s it takes is
        # undocumented [I]: ``block_after_429s`` within ``block_window`` seconds.
        self.block_after_429s = 20
        self.block_window = 10.0
        self.block_seconds = 60.0  # the first block; each further one doubles
        self.blocked_count = 0  # 418 answers sent because of a block (not injected ones)
        self._recent_429s: deque[float] = deque()
        self._blocked_until = 0.0
        self._blocks = 0

        self.slow_seconds = 2.0
        self.ws_enabled = True
        self.ws_idle_timeout = 120.0
        self.ws_connections_made = 0
        self.ws_public_connections_made = 0
        self.ws_rejected_count = 0
        self.ws_close_on_subscribe = False
        self.ws_connect_times: list[float] = []
        self.ws_connect_limit = 5  # websocket-connect: 5 a second per pocket

        self._lock = threading.RLock()
        self._accounts: dict[str, Account] = {}
        self._markets: dict[str, Market] = {}
        self._orders: dict[str, Order] = {}
        self._used_nonces: set[str] = set()
        self._used_identifiers: set[str] = set()
        self._failures: list[_Failure] = []
        self._requests: list[RecordedRequest] = []
        self._ws_events: list[dict[str, Any]] = []
        self._limiter = _RateLimiter()

        self._stopping = threading.Event()
        self._http: _HTTPServer | None = None
        self._http_thread: threading.Thread | None = None
        self._ws_server: Server | None = None
        self._ws_thread: threading.Thread | None = None
        self._ws_clients: set[_WsClient] = set()
        self._ws_cond = threading.Condition(self._lock)
        self._ws_queue: queue.Queue[object] = queue.Queue()
        self._dispatch_thread: threading.Thread | None = None
        self._fill_cond = threading.Condition(threading.Lock())
        self._fill_heap: list[tuple[float, int, str]] = []
        self._fill_seq = itertools.count()
        self._filler_thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        if self._http is not None:
            return self
        self._stopping.clear()
        self._http = _HTTPServer((self.host, self._port), self)
        self._port = self._http.server_address[1]
        self._http_thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="upbit-standin-http",
            daemon=True,
        )
        self._ws_server = serve(
            self._ws_handler,
            self.host,
            self._ws_port,
            process_request=self._ws_process_request,
            create_connection=_TrackedConnection,
            ping_interval=None,
            close_timeout=2,
            compression="deflate",
        )
        self._ws_port = self._ws_server.socket.getsockname()[1]
        self._ws_thread = threading.Thread(
            target=self._ws_server.serve_forever, name="upbit-standin-ws", daemon=True
        )
        self._dispatch_thread = threading.Thread(
            target=self._ws_dispatch_loop, name="upbit-standin-ws-dispatch", daemon=True
        )
        self._filler_thread = threading.Thread(
            target=self._filler_loop, name="upbit-standin-filler", daemon=True
        )
        for thread in (
            self._http_thread,
            self._ws_thread,
            self._dispatch_thread,
            self._filler_thread,
        ):
            thread.start()
        return self

    def stop(self) -> None:
        if self._http is None:
            return
        self._stopping.set()
        with self._fill_cond:
            self._fill_cond.notify_all()
        self._http.shutdown()
        self._http.close_connections()
        self._http.server_close()
        if self._ws_server is not None:
            self._ws_server.shutdown()
        self._ws_queue.put(_STOP)
        for thread in (
            self._http_thread,
            self._ws_thread,
            self._dispatch_thread,
            self._filler_thread,
        ):
            if thread is not None:
                thread.join(10)
        self._http = None
        self._ws_server = None
        self._http_thread = self._ws_thread = None
        self._dispatch_thread = self._filler_thread = None
        with self._lock:
            self._ws_clients.clear()
        self._ws_queue = queue.Queue()
        with self._fill_cond:
            self._fill_heap.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def ws_port(self) -> int:
        return self._ws_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self._ws_port}/websocket/v1"

    # ---------------------------------------------------------------- state setup

    def add_market(
        self,
        code: str,
        *,
        bids: Iterable[tuple[Decimal | int | str, Decimal | int | str]] = (),
        asks: Iterable[tuple[Decimal | int | str, Decimal | int | str]] = (),
        min_total: Decimal | None = None,
        max_total: Decimal | None = None,
        ask_fee: Decimal | None = None,
        bid_fee: Decimal | None = None,
        state: str = "active",
        ask_types: Sequence[str] = ("limit", "market", "best_fok", "best_ioc"),
        bid_types: Sequence[str] = ("limit", "price", "best_fok", "best_ioc"),
        korean_name: str | None = None,
        english_name: str | None = None,
        trade_price: Decimal | None = None,
        prev_closing_price: Decimal | None = None,
        warning: bool = False,
        tick_size: Decimal | int | str | None = None,
    ) -> Market:
        quote, _, base = code.partition("-")
        if not base:
            raise ValueError(f"market code must look like KRW-BTC, got {code!r}")
        defaults = {
            "KRW": (Decimal(5000), Decimal(1_000_000_000), Decimal("0.0005")),
            "BTC": (Decimal("0.00005"), Decimal(10), Decimal("0.0025")),
            "USDT": (Decimal("0.5"), Decimal(1_000_000), Decimal("0.0025")),
        }
        d_min, d_max, d_fee = defaults.get(quote, (ZERO, Decimal(10) ** 12, Decimal("0.0025")))
        market = Market(
            code=code,
            korean_name=korean_name or base,
            english_name=english_name or base,
            bids=[(_d(p), _d(s)) for p, s in bids],
            asks=[(_d(p), _d(s)) for p, s in asks],
            min_total=d_min if min_total is None else min_total,
            max_total=d_max if max_total is None else max_total,
            ask_fee=d_fee if ask_fee is None else ask_fee,
            bid_fee=d_fee if bid_fee is None else bid_fee,
            state=state,
            ask_types=tuple(ask_types),
            bid_types=tuple(bid_types),
            trade_price=trade_price,
            prev_closing_price=prev_closing_price,
            warning=warning,
        )
        if tick_size is not None:
            market.tick_size = _d(tick_size)
        else:
            market.tick_size = default_tick(quote, market.last_price)
        with self._lock:
            self._markets[code] = market
        return copy.deepcopy(market)

    def set_orderbook(
        self,
        code: str,
        *,
        bids: Iterable[tuple[Decimal | int | str, Decimal | int | str]] | None = None,
        asks: Iterable[tuple[Decimal | int | str, Decimal | int | str]] | None = None,
    ) -> None:
        with self._lock:
            market = self._markets[code]
            if bids is not None:
                market.bids = [(_d(p), _d(s)) for p, s in bids]
            if asks is not None:
                market.asks = [(_d(p), _d(s)) for p, s in asks]
            self._match_resting_locked(code)

    def set_tick_size(self, code: str, tick_size: Decimal | int | str) -> None:
        with self._lock:
            self._markets[code].tick_size = _d(tick_size)

    def set_market_state(self, code: str, state: str) -> None:
        with self._lock:
            self._markets[code].state = state

    def set_ticker(
        self,
        code: str,
        *,
        trade_price: Decimal | None = None,
        prev_closing_price: Decimal | None = None,
    ) -> None:
        with self._lock:
            market = self._markets[code]
            market.trade_price = trade_price
            if prev_closing_price is not None:
                market.prev_closing_price = prev_closing_price
        event = self._ticker_event(code, "REALTIME")
        if event is not None:
            self._ws_queue.put(event)  # to public ticker subscribers (not a myOrder event)

    def market(self, code: str) -> Market | None:
        with self._lock:
            found = self._markets.get(code)
            return copy.deepcopy(found) if found else None

    @property
    def markets(self) -> dict[str, Market]:
        with self._lock:
            return copy.deepcopy(self._markets)

    def set_account(
        self,
        currency: str,
        *,
        balance: Decimal | int | str = ZERO,
        locked: Decimal | int | str = ZERO,
        avg_buy_price: Decimal | int | str = ZERO,
        unit_currency: str = "KRW",
    ) -> Account:
        account = Account(
            currency=currency,
            balance=_d(balance),
            locked=_d(locked),
            avg_buy_price=_d(avg_buy_price),
            unit_currency=unit_currency,
        )
        with self._lock:
            self._accounts[currency] = account
            # Upbit tells a balance change of any cause (a deposit, a withdrawal, a trade
            # elsewhere) on myAsset: https://docs.upbit.com/kr/reference/websocket-myasset
            self._emit(self._asset_event([account]))
        return copy.deepcopy(account)

    def remove_account(self, currency: str) -> None:
        with self._lock:
            gone = self._accounts.pop(currency, None)
            if gone is not None:
                self._emit(self._asset_event([replace(gone, balance=ZERO, locked=ZERO)]))

    def account(self, currency: str) -> Account | None:
        with self._lock:
            found = self._accounts.get(currency)
            return copy.deepcopy(found) if found else None

    @property
    def accounts(self) -> list[Account]:
        with self._lock:
            return copy.deepcopy(list(self._accounts.values()))

    @property
    def orders(self) -> dict[str, Order]:
        with self._lock:
            return copy.deepcopy(self._orders)

    def order(self, uuid: str) -> Order | None:
        with self._lock:
            found = self._orders.get(uuid)
            return copy.deepcopy(found) if found else None

    def order_by_identifier(self, identifier: str) -> Order | None:
        with self._lock:
            for order in self._orders.values():
                if order.identifier == identifier:
                    return copy.deepcopy(order)
            return None

    @staticmethod
    def _ladder(
        best: Decimal, tick: Decimal, size: Decimal, levels: int, direction: int
    ) -> list[tuple[Decimal, Decimal]]:
        return [(best + direction * tick * i, size + size * i / 10) for i in range(levels)]

    def seed_basic(self) -> None:
        """Three KRW markets with 30-level books and a small account.

        - KRW-BTC: bids 100,000,000 − i×10,000 (i = 0..29), sizes 0.5 + 0.05·i; asks
          100,010,000 + i×10,000, same sizes.
        - KRW-ETH: bids 5,000,000 − i×1,000, sizes 2 + 0.2·i; asks from 5,001,000.
        - KRW-XRP: bids 800 − i×1, sizes 10,000 + 1,000·i; asks from 801.
        - Accounts: KRW 1,000,000; BTC 0.1 (avg 90,000,000); ETH 1.5 (avg 4,000,000);
          XRP 2,000 (avg 700). All markets: min_total 5000, ask/bid fee 0.0005.
        """
        one = Decimal(1)
        self.add_market(
            "KRW-BTC",
            korean_name="비트코인",
            english_name="Bitcoin",
            bids=self._ladder(Decimal(100_000_000), Decimal(10_000), Decimal("0.5"), 30, -1),
            asks=self._ladder(Decimal(100_010_000), Decimal(10_000), Decimal("0.5"), 30, 1),
        )
        self.add_market(
            "KRW-ETH",
            korean_name="이더리움",
            english_name="Ethereum",
            bids=self._ladder(Decimal(5_000_000), Decimal(1_000), Decimal(2), 30, -1),
            asks=self._ladder(Decimal(5_001_000), Decimal(1_000), Decimal(2), 30, 1),
        )
        self.add_market(
            "KRW-XRP",
            korean_name="리플",
            english_name="XRP",
            bids=self._ladder(Decimal(800), one, Decimal(10_000), 30, -1),
            asks=self._ladder(Decimal(801), one, Decimal(10_000), 30, 1),
        )
        self.set_account("KRW", balance=Decimal(1_000_000))
        self.set_account("BTC", balance=Decimal("0.1"), avg_buy_price=Decimal(90_000_000))
        self.set_account("ETH", balance=Decimal("1.5"), avg_buy_price=Decimal(4_000_000))
        self.set_account("XRP", balance=Decimal(2000), avg_buy_price=Decimal(700))

    def seed_demo(self) -> None:
        """``seed_basic()`` plus a dust coin: KRW-DOGE (bids from 200, sizes 5,000+),
        DOGE balance 10 (≈ 2,000 KRW, below the 5,000 KRW minimum), avg 250."""
        self.seed_basic()
        self.add_market(
            "KRW-DOGE",
            korean_name="도지코인",
            english_name="Dogecoin",
            bids=self._ladder(Decimal(200), Decimal("0.1"), Decimal(5_000), 30, -1),
            asks=self._ladder(Decimal("200.1"), Decimal("0.1"), Decimal(5_000), 30, 1),
        )
        self.set_account("DOGE", balance=Decimal(10), avg_buy_price=Decimal(250))

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        path: str,
        kind: FailureKind,
        times: int = 1,
        *,
        status: int | None = None,
    ) -> None:
        """Make the next ``times`` matching requests fail with ``kind`` (see module doc)."""
        if kind not in _SPECIAL_KINDS and kind not in ERRORS and status is None:
            raise ValueError(f"unknown failure kind {kind!r}; pass status= for a custom name")
        with self._lock:
            self._failures.append(_Failure(method.upper(), path, kind, times, status))

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.method == method and failure.path == path and failure.remaining > 0:
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        self._failures.remove(failure)
                    return failure
        return None

    # ---------------------------------------------------------------- recording

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        method = method.upper()
        return [r for r in self.requests if r.method == method and r.path == path]

    def wait_for_requests(
        self, method: str, path: str, *, since: float, count: int = 1, timeout: float = 10.0
    ) -> list[RecordedRequest]:
        """Block until ``count`` requests to ``method path`` that arrived after ``since`` (a
        ``time.time()``) are recorded, i.e. answered; returns them."""
        method = method.upper()
        deadline = time.monotonic() + timeout
        with self._ws_cond:
            while True:
                seen = [
                    r
                    for r in self._requests
                    if r.method == method and r.path == path and r.time > since
                ]
                if len(seen) >= count:
                    return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(seen)} of {count} {method} {path} after {since}")
                self._ws_cond.wait(left)

    def private_calls(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.private]

    def last_request(
        self, method: str | None = None, path: str | None = None
    ) -> RecordedRequest | None:
        for rec in reversed(self.requests):
            if (method is None or rec.method == method.upper()) and (
                path is None or rec.path == path
            ):
                return rec
        return None

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def ws_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._ws_events)

    # ---------------------------------------------------------------- request handling

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body_bytes: bytes
    ) -> tuple[_Reply, dict[str, str]]:
        arrived = time.time()
        split = urlsplit(raw_path)
        path, raw_query = split.path, split.query
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        query: dict[str, list[str]] = {}
        for key, value in pairs:
            query.setdefault(key, []).append(value)
        route = _ROUTES.get((method, path))
        group = route.group if route else "default"
        extra: dict[str, str] = {}
        jwt_payload = self._peek_jwt(headers.get("authorization"))
        body: Any = None
        if body_bytes:
            with contextlib.suppress(ValueError):
                body = json.loads(body_bytes, parse_float=Decimal)
        reply: _Reply
        failure: _Failure | None = None
        try:
            blocked = self._blocked_reply()
            if blocked is not None:
                reply = blocked
                raise _Answered
            limit = self.rate_limits.get(group, DEFAULT_RATE_LIMITS["default"])
            remaining = self._limiter.take(group, limit, self.rate_limit_enabled)
            extra["Remaining-Req"] = f"group={group}; min=1800; sec={remaining or 0}"
            if remaining is None:
                raise _RateLimited
            if route is None:
                known = any(p == path for (_, p) in _ROUTES)
                if known:
                    raise _ApiError(405, "method_not_allowed", "Method Not Allowed")
                raise _ApiError(404, "not_found", f"no such endpoint: {path}")
            ctx_body: dict[str, Any] | None = None
            if method in ("POST", "PUT", "PATCH") and body_bytes.strip():
                if not isinstance(body, dict):
                    raise _err("invalid_parameter")
                ctx_body = body
            if route.private:
                self._authenticate(headers.get("authorization"), method, raw_query, ctx_body)
                if route.scope and route.scope not in self.scopes:
                    raise _err("out_of_scope")
            failure = self._take_failure(method, path)
            if failure is not None:
                early = self._early_failure(failure)
                if early is not None:
                    reply = early
                    raise _Answered
            ctx = _Ctx(method, path, raw_query, pairs, query, ctx_body)
            status, payload = route.func(self, ctx)
            reply = _Reply(status, _json_value(payload).encode())
            if failure is not None and failure.kind == "drop_after_create":
                reply = _Reply(0, b"", drop=True)
            elif failure is not None and failure.kind == "proxy_error_after_create":
                reply = _proxy_page(failure.status or 404)
            elif failure is not None and failure.kind == "slow":
                self._stopping.wait(self.slow_seconds)
        except _Answered:
            pass
        except _RateLimited:
            reply = self._too_many()
        except _ApiError as exc:
            reply = _Reply(
                exc.status,
                _json_value({"error": {"name": exc.name, "message": exc.message}}).encode(),
            )
        except Exception as exc:  # a bug in the stand-in: answer 500, keep serving
            reply = _Reply(
                500,
                _json_value({"error": {"name": "standin_bug", "message": repr(exc)}}).encode(),
            )
        record = RecordedRequest(
            method=method,
            path=path,
            query_string=raw_query,
            query=query,
            body=body,
            headers=headers,
            status=None if reply.drop else reply.status,
            time=arrived,
            jwt_payload=jwt_payload,
            response_text=reply.body.decode("utf-8", "replace"),
            private=bool(route and route.private),
        )
        with self._ws_cond:
            self._requests.append(record)
            self._ws_cond.notify_all()
        return reply, extra

    def _too_many(self) -> _Reply:
        now = time.monotonic()
        with self._lock:
            self.rate_limited_count += 1
            self._recent_429s.append(now)
            while self._recent_429s and now - self._recent_429s[0] > self.block_window:
                self._recent_429s.popleft()
            if len(self._recent_429s) >= self.block_after_429s:
                self._recent_429s.clear()
                self._blocked_until = now + self.block_seconds * 2**self._blocks
                self._blocks += 1
        return _Reply(429, TOO_MANY.encode(), content_type="text/plain; charset=utf-8")

    def _blocked_reply(self) -> _Reply | None:
        """418 while a block lasts, stating the seconds left; the body's exact shape is
        undocumented [I] (it "includes the block time")."""
        with self._lock:
            left = self._blocked_until - time.monotonic()
            if left <= 0:
                return None
            self.blocked_count += 1
        seconds = max(1, math.ceil(left))
        text = f"Too many API requests. Your IP is temporarily blocked for {seconds} seconds."
        return _Reply(418, text.encode(), content_type="text/plain; charset=utf-8")

    def unblock(self) -> None:
        """End a 418 block now (tests)."""
        with self._lock:
            self._blocked_until = 0.0

    def _early_failure(self, failure: _Failure) -> _Reply | None:
        kind = failure.kind
        if kind == "429":
            return self._too_many()
        if kind == "418":
            # The real 418 body states the block time; its exact shape is unknown [I].
            return _Reply(
                failure.status or 418,
                b"Too many API requests. Your IP is temporarily blocked for 60 seconds.",
                content_type="text/plain; charset=utf-8",
            )
        if kind == "500":
            body = {"error": {"name": "server_error", "message": "Internal Server Error"}}
            return _Reply(failure.status or 500, _json_value(body).encode())
        if kind == "502":
            html = b"<html><head><title>502 Bad Gateway</title></head><body>502</body></html>"
            return _Reply(failure.status or 502, html, content_type="text/html")
        if kind == "drop":
            return _Reply(0, b"", drop=True)
        if kind == "proxy_error":
            return _proxy_page(failure.status or 404)
        if kind in ("drop_after_create", "slow", "proxy_error_after_create"):
            return None
        status, message = ERRORS.get(kind, (failure.status or 400, kind))
        body = {"error": {"name": kind, "message": message.split("{")[0].strip() or kind}}
        return _Reply(failure.status or status, _json_value(body).encode())

    # ---------------------------------------------------------------- auth

    @staticmethod
    def _peek_jwt(header: str | None) -> dict[str, Any] | None:
        if not header:
            return None
        token = header.partition(" ")[2]
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            payload = json.loads(_b64url_decode(parts[1]))
        except (ValueError, binascii.Error):
            return None
        return payload if isinstance(payload, dict) else None

    def _verify_token(self, header: str | None) -> dict[str, Any]:
        """Signature, access key and single-use nonce; returns the payload."""
        if not header:
            raise _err("no_authorization_token")
        scheme, _, token = header.partition(" ")
        parts = token.strip().split(".")
        if scheme != "Bearer" or len(parts) != 3:
            raise _err("jwt_verification")
        try:
            jwt_header = json.loads(_b64url_decode(parts[0]))
            payload = json.loads(_b64url_decode(parts[1]))
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error) as exc:
            raise _err("jwt_verification") from exc
        if not isinstance(jwt_header, dict) or not isinstance(payload, dict):
            raise _err("jwt_verification")
        digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}.get(str(jwt_header.get("alg")))
        if digest is None:
            raise _err("jwt_verification")
        if payload.get("access_key") != self.access_key:
            raise _err("invalid_access_key")
        expected = hmac.new(
            self.secret_key.encode(), f"{parts[0]}.{parts[1]}".encode(), digest
        ).digest()
        if not hmac.compare_digest(expected, signature):
            raise _err("jwt_verification")
        nonce = payload.get("nonce")
        if not isinstance(nonce, str) or not nonce:  # missing nonce: name undocumented [I]
            raise _err("jwt_verification")
        with self._lock:
            if nonce in self._used_nonces:
                raise _err("nonce_used")
            self._used_nonces.add(nonce)
        if self.api_key_expire_at <= _now_kst():
            raise _err("expired_access_key")
        return payload

    def _authenticate(
        self,
        header: str | None,
        method: str,
        raw_query: str,
        body: dict[str, Any] | None,
    ) -> None:
        payload = self._verify_token(header)
        if method in ("POST", "PUT", "PATCH"):
            hash_input = post_hash_input(body) if body else None
        else:
            # '+' decodes to a space, as a form decoder would [I].
            hash_input = unquote_plus(raw_query) if raw_query else None
        query_hash = payload.get("query_hash")
        if hash_input is None or hash_input == "":
            if query_hash is not None:
                raise _err("invalid_query_payload")
            return
        if not isinstance(query_hash, str):
            raise _err("invalid_query_payload")
        if payload.get("query_hash_alg", "SHA512") != "SHA512":
            raise _err("invalid_query_payload")
        expected = hashlib.sha512(hash_input.encode()).hexdigest()
        if not hmac.compare_digest(query_hash.lower(), expected):
            raise _err("invalid_query_payload")

    # ---------------------------------------------------------------- endpoints

    def _ep_accounts(self, ctx: _Ctx) -> tuple[int, Any]:
        with self._lock:
            return 200, [a.to_json() for a in self._accounts.values()]

    def _ep_api_keys(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, [
            {"access_key": self.access_key, "expire_at": _iso_seconds(self.api_key_expire_at)}
        ]

    def _account_or_zero(self, currency: str, unit: str = "KRW") -> Account:
        return self._accounts.get(currency) or Account(currency=currency, unit_currency=unit)

    def _ep_chance(self, ctx: _Ctx) -> tuple[int, Any]:
        code = ctx.one("market")
        if not code:
            raise _ApiError(400, "validation_error", "market is missing")
        with self._lock:
            market = self._markets.get(code)
            if market is None:
                raise _err("notfoundmarket", market=code)
            order_types = sorted(set(market.ask_types) | set(market.bid_types))
            return 200, {
                "bid_fee": dec_str(market.bid_fee),
                "ask_fee": dec_str(market.ask_fee),
                "maker_bid_fee": dec_str(market.bid_fee),
                "maker_ask_fee": dec_str(market.ask_fee),
                "market": {
                    "id": market.code,
                    "name": f"{market.base}/{market.quote}",
                    "order_types": order_types,
                    "order_sides": ["ask", "bid"],
                    "bid_types": list(market.bid_types),
                    "ask_types": list(market.ask_types),
                    "bid": {"currency": market.quote, "min_total": dec_str(market.min_total)},
                    "ask": {"currency": market.base, "min_total": dec_str(market.min_total)},
                    "max_total": dec_str(market.max_total),
                    "state": market.state,
                },
                "bid_account": self._account_or_zero(market.quote).to_json(),
                "ask_account": self._account_or_zero(market.base, market.quote).to_json(),
            }

    def _check_order_common(self, body: dict[str, Any]) -> tuple[Market, str]:
        """The checks every order request goes through first: required fields, the
        identifier (at most 64 characters, never used before by any request, refused ones
        included: docs.upbit.com/kr/reference/new-order), the market (exists, active, and
        for BTC/USDT markets the one-time consent), ``time_in_force`` and ``smp_type``.
        Returns the market and the ``smp_type`` that applies."""
        for key in ("market", "side", "ord_type"):
            if body.get(key) in (None, ""):
                raise _ApiError(400, "validation_error", f"{key} is missing")
        identifier = body.get("identifier")
        if identifier is not None and not isinstance(identifier, str):
            raise _ApiError(400, "validation_error", "identifier must be a string")
        if isinstance(identifier, str) and len(identifier) > MAX_IDENTIFIER_LENGTH:
            raise _ApiError(400, "validation_error", "identifier is longer than 64 characters")
        if identifier is not None and identifier in self._used_identifiers:
            raise _err("duplicated_identifier")
        code = str(body["market"])
        market = self._markets.get(code)
        if market is None:
            raise _err("notfoundmarket", market=code)
        if market.state != "active":
            raise _err("market_offline")
        if market.quote in AGREEMENT_QUOTES and not self.thirdparty_agreed:
            raise _err("thirdparty_agreement_required")
        ord_type, tif = body["ord_type"], body.get("time_in_force")
        if tif is not None and tif not in ("ioc", "fok", "post_only"):
            raise _err("invalid_time_in_force")
        if tif in ("ioc", "fok") and ord_type not in ("limit", "best"):
            raise _err("invalid_time_in_force")
        if tif == "post_only" and ord_type != "limit":
            raise _err("invalid_time_in_force")
        smp = body.get("smp_type")
        if smp is None:
            # Default since 2026-11-09; post_only orders without one behave as "none"
            # (docs.upbit.com/kr/changelog/add-smp-type-default).
            smp = "none" if tif == "post_only" else "cancel_maker"
        elif smp not in SMP_TYPES:
            raise _ApiError(400, "validation_error", "smp_type is invalid")
        elif tif == "post_only" and smp != "none":  # error name undocumented [I]
            raise _ApiError(400, "validation_error", "post_only works only with smp_type none")
        return market, str(smp)

    def _validate_market_sell(self, body: dict[str, Any], *, test: bool) -> tuple[Market, Decimal]:
        market, _ = self._check_order_common(body)
        side, ord_type = body["side"], body["ord_type"]
        if side not in ("ask", "bid"):
            raise _ApiError(400, "validation_error", "side is invalid")
        if ord_type not in ("limit", "price", "market", "best"):
            raise _ApiError(400, "validation_error", "ord_type is invalid")
        if side != "ask" or ord_type != "market":
            raise _ApiError(
                400, "invalid_parameter", "the stand-in supports only side=ask ord_type=market"
            )
        if "market" not in market.ask_types:  # name for this case undocumented [I]
            raise _ApiError(400, "create_ask_error", "market sells are not allowed here")
        if body.get("price") is not None:
            raise _err("create_ask_error")
        raw_volume = body.get("volume")
        if raw_volume is None:
            raise _ApiError(400, "validation_error", "volume is missing")
        volume = self._parse_volume(raw_volume)
        account = self._accounts.get(market.base)
        if account is None or volume > account.balance:
            raise _err("insufficient_funds_ask")
        best = market.best_bid
        with localcontext() as dctx:
            dctx.prec = 60
            total = volume * best if best is not None else ZERO
        if total < market.min_total:
            raise _err(
                "under_min_total_market_ask",
                min_total=dec_str(market.min_total),
                quote=market.quote,
            )
        if total > market.max_total:
            raise _err(
                "over_max_total_market_ask",
                max_total=dec_str(market.max_total),
                quote=market.quote,
            )
        depth = sum((size for _, size in self._merged_bids(market)[:BOOK_LEVELS]), ZERO)
        if volume > depth:
            # Refused at submission when larger than the bids of the 30 best levels, own
            # buy orders included (docs.upbit.com/kr/changelog/orderbook_expansion); the
            # error name is undocumented [I].
            raise _ApiError(
                400, "create_ask_error", "주문 수량이 매수 1~30호가 잔량보다 많습니다."
            )
        return market, volume

    @staticmethod
    def _parse_volume(raw: Any) -> Decimal:
        # Only plain decimal notation is accepted ("1E-8" is refused) — stricter than
        # documented, to catch str(Decimal) bugs [I].
        text = dec_str(raw) if isinstance(raw, Decimal) else str(raw)
        if isinstance(raw, bool) or not PLAIN_DECIMAL.match(text):
            raise _err("invalid_volume_ask")
        try:
            volume = Decimal(text)
        except InvalidOperation as exc:
            raise _err("invalid_volume_ask") from exc
        if volume <= 0 or volume != volume.quantize(EIGHT_PLACES, rounding=ROUND_DOWN):
            raise _err("invalid_volume_ask")
        return volume

    def _ep_create_order(self, ctx: _Ctx) -> tuple[int, Any]:
        body = ctx.body or {}
        if body.get("ord_type") == "limit":
            if body.get("side") == "bid":
                return self._create_limit_bid(body)
            return self._create_limit_sell(body)
        fill_now = False
        with self._lock:
            identifier = body.get("identifier")
            created = False
            try:
                market, volume = self._validate_market_sell(body, test=False)
                order = Order(
                    uuid=str(uuid_mod.uuid4()),
                    market=market.code,
                    side="ask",
                    ord_type="market",
                    volume=volume,
                    remaining_volume=volume,
                    locked=volume,
                    created_at=_now_kst(),
                    identifier=identifier,
                    smp_type=body.get("smp_type") or "cancel_maker",
                )
                account = self._accounts[market.base]
                account.balance -= volume
                account.locked += volume
                self._orders[order.uuid] = order
                created = True
                self._emit(self._order_event(order, "wait"))
                self._emit(self._asset_event([account]))
                snapshot = order.to_json()
                if self.auto_fill:
                    if self.fill_delay <= 0:
                        fill_now = True
                    else:
                        self._schedule_fill(order.uuid, self.fill_delay)
            finally:
                if isinstance(identifier, str) and (
                    created or self.identifier_consumed_on_failure
                ):
                    self._used_identifiers.add(identifier)
            if fill_now:
                self._fill_locked(order, partial=self.partial_fills, volume=None)
        return 201, snapshot

    def _create_limit_bid(self, body: dict[str, Any]) -> tuple[int, Any]:
        """A limit buy: the account's own order resting on the bid side, which the
        account's own sells then meet under self-trade prevention. It never executes
        against the stand-in's asks [I: a test knob, not a matching engine]."""
        with self._lock:
            identifier = body.get("identifier")
            created = False
            try:
                market, smp = self._check_order_common(body)
                if body.get("time_in_force") is not None:
                    raise _ApiError(
                        400, "invalid_parameter", "the stand-in rests plain limit buys only"
                    )
                raw_price = body.get("price")
                text = dec_str(raw_price) if isinstance(raw_price, Decimal) else str(raw_price)
                if raw_price is None or not PLAIN_DECIMAL.match(text):
                    raise _ApiError(400, "validation_error", "price is missing or not a number")
                price = Decimal(text)
                if price <= 0 or price % market.tick_size != 0:
                    raise _err("invalid_price_bid")
                volume = self._parse_volume(body.get("volume"))
                with localcontext() as dctx:
                    dctx.prec = 60
                    gross = price * volume
                    fee = gross * market.bid_fee
                if gross < market.min_total:
                    raise _err("under_min_total_bid")
                quote = self._accounts.get(market.quote)
                if quote is None or gross + fee > quote.balance:
                    raise _err("insufficient_funds_bid")
                order = Order(
                    uuid=str(uuid_mod.uuid4()),
                    market=market.code,
                    side="bid",
                    ord_type="limit",
                    volume=volume,
                    price=price,
                    remaining_volume=volume,
                    locked=gross + fee,
                    reserved_fee=fee,
                    created_at=_now_kst(),
                    identifier=identifier,
                    smp_type=smp,
                )
                quote.balance -= order.locked
                quote.locked += order.locked
                self._orders[order.uuid] = order
                created = True
                self._emit(self._order_event(order, "wait"))
                self._emit(self._asset_event([quote]))
                snapshot = order.to_json()
            finally:
                if isinstance(identifier, str) and (
                    created or self.identifier_consumed_on_failure
                ):
                    self._used_identifiers.add(identifier)
        return 201, snapshot

    def place_own_bid(
        self, code: str, price: Decimal | int | str, volume: Decimal | int | str
    ) -> Order:
        """Rest a buy order of the account on ``code`` (as POST /v1/orders would, checks
        included); the account's sells then meet it under self-trade prevention."""
        status, payload = self._create_limit_bid(
            {
                "market": code,
                "side": "bid",
                "ord_type": "limit",
                "price": dec_str(_d(price)),
                "volume": dec_str(_d(volume)),
            }
        )
        assert status == 201
        found = self.order(str(payload["uuid"]))
        assert found is not None
        return found

    def _validate_limit_sell(self, body: dict[str, Any]) -> tuple[Market, Decimal, Decimal]:
        """A limit sell as Upbit checks it (https://docs.upbit.com/kr/reference/new-order):
        price on the market's tick, ``time_in_force`` ``ioc``/``fok`` or none, price×volume
        within the market's minimum and maximum, enough balance."""
        market, _ = self._check_order_common(body)
        if body.get("side") != "ask":
            raise _ApiError(400, "invalid_parameter", "the stand-in supports only limit sells")
        if "limit" not in market.ask_types:
            raise _ApiError(400, "create_ask_error", "limit sells are not allowed here")
        tif = body.get("time_in_force")
        if tif is not None and tif not in ("ioc", "fok"):
            raise _ApiError(400, "invalid_time_in_force", "time_in_force must be ioc or fok")
        raw_price = body.get("price")
        text = dec_str(raw_price) if isinstance(raw_price, Decimal) else str(raw_price or "")
        if not PLAIN_DECIMAL.match(text):
            raise _ApiError(400, "validation_error", "price is missing or not a number")
        price = Decimal(text)
        if price <= 0 or price % market.tick_size != 0:
            raise _ApiError(
                400,
                "invalid_price_ask",
                "주문가격 단위를 잘못 입력하셨습니다. 확인 후 시도해주세요.",
            )
        volume = self._parse_volume(body.get("volume"))
        account = self._accounts.get(market.base)
        if account is None or volume > account.balance:
            raise _err("insufficient_funds_ask")
        with localcontext() as dctx:
            dctx.prec = 60
            total = volume * price
        if total < market.min_total:
            raise _ApiError(
                400, "under_min_total_ask", f"최소 주문 금액은 {dec_str(market.min_total)}입니다."
            )
        if total > market.max_total:
            raise _ApiError(400, "over_krw_funds_ask", "최대 주문 가능 금액을 초과했습니다.")
        return market, volume, price

    def _create_limit_sell(self, body: dict[str, Any]) -> tuple[int, Any]:
        with self._lock:
            identifier = body.get("identifier")
            created = False
            try:
                market, volume, price = self._validate_limit_sell(body)
                tif = body.get("time_in_force")
                order = Order(
                    uuid=str(uuid_mod.uuid4()),
                    market=market.code,
                    side="ask",
                    ord_type="limit",
                    volume=volume,
                    price=price,
                    remaining_volume=volume,
                    locked=volume,
                    created_at=_now_kst(),
                    identifier=identifier,
                    time_in_force=tif,
                    smp_type=body.get("smp_type") or "cancel_maker",
                )
                account = self._accounts[market.base]
                account.balance -= volume
                account.locked += volume
                self._orders[order.uuid] = order
                created = True
                self._emit(self._order_event(order, "wait"))
                self._emit(self._asset_event([account]))
                snapshot = order.to_json()
            finally:
                if isinstance(identifier, str) and (
                    created or self.identifier_consumed_on_failure
                ):
                    self._used_identifiers.add(identifier)
            reachable = self._bid_depth_at(market, price)
            if tif == "fok" and reachable < volume:
                self._cancel_locked(order)  # all or nothing: nothing
            else:
                self._execute_limit_locked(order, market)
                if tif == "ioc" and order.state == "wait":
                    self._cancel_locked(order)
        return 201, snapshot

    @staticmethod
    def _bid_depth_at(market: Market, price: Decimal) -> Decimal:
        return sum((size for p, size in market.bids[:30] if p >= price), ZERO)

    def _execute_limit_locked(self, order: Order, market: Market) -> None:
        """Execute a limit sell against the bids at or above its price, best first, at the
        bids' prices, with self-trade prevention against the account's own buy orders
        (`_walk`); it ends ``done`` when nothing remains, else stays as it was."""
        base = self._accounts.setdefault(
            market.base, Account(currency=market.base, unit_currency=market.quote)
        )
        quote = self._accounts.setdefault(market.quote, Account(currency=market.quote))
        before = (order.executed_volume, order.prevented_volume)
        # A limit sell always takes the liquidity it executed against.
        _, events = self._walk(order, market, order.remaining_volume, dry=False, consume=True)
        for event in events:
            self._emit(event)
        if (order.executed_volume, order.prevented_volume) == before:
            return
        if order.remaining_volume == 0:
            order.state = "done" if order.executed_volume > 0 else "cancel"
            base.locked -= order.locked
            base.balance += order.locked
            order.locked = ZERO
            self._emit(self._order_event(order, order.state))
        if base.balance == 0 and base.locked == 0 and market.base != "KRW":
            del self._accounts[market.base]  # Upbit drops empty rows [I]
        self._emit(self._asset_event([base, quote]))

    def _match_resting_locked(self, code: str) -> None:
        """The book moved: resting limit sells its bids now reach execute, lowest price
        first (then oldest)."""
        market = self._markets[code]
        resting = sorted(
            (
                o
                for o in self._orders.values()
                if o.market == code
                and o.ord_type == "limit"
                and o.side == "ask"
                and o.state == "wait"
            ),
            key=lambda o: (o.price or ZERO, o.created_at),
        )
        for order in resting:
            self._execute_limit_locked(order, market)

    def _ep_orderbook_instruments(self, ctx: _Ctx) -> tuple[int, Any]:
        """https://docs.upbit.com/kr/reference/list-orderbook-instruments"""
        return 200, [
            {
                "market": m.code,
                "quote_currency": m.quote,
                "tick_size": dec_str(m.tick_size),
                "supported_levels": ["0"],
            }
            for m in self._quotation_markets(ctx)
        ]

    def _ep_order_test(self, ctx: _Ctx) -> tuple[int, Any]:
        body = ctx.body or {}
        with self._lock:
            market, volume = self._validate_market_sell(body, test=True)
            order = Order(
                uuid=str(uuid_mod.uuid4()),
                market=market.code,
                side="ask",
                ord_type="market",
                volume=volume,
                remaining_volume=volume,
                locked=volume,
                created_at=_now_kst(),
                identifier=body.get("identifier"),
                smp_type=body.get("smp_type") or "cancel_maker",
            )
            return 201, order.to_json()

    def _find_order(self, ctx: _Ctx) -> Order:
        order_uuid, identifier = ctx.one("uuid"), ctx.one("identifier")
        if not order_uuid and not identifier:
            raise _ApiError(400, "validation_error", "uuid or identifier is required")
        if order_uuid:  # uuid wins when both are given
            found = self._orders.get(order_uuid)
        else:
            found = next((o for o in self._orders.values() if o.identifier == identifier), None)
        if found is None:
            raise _err("order_not_found")
        return found

    def _ep_get_order(self, ctx: _Ctx) -> tuple[int, Any]:
        with self._lock:
            return 200, self._find_order(ctx).to_json(trades=True)

    def _ep_cancel_order(self, ctx: _Ctx) -> tuple[int, Any]:
        with self._lock:
            order = self._find_order(ctx)
            if order.state != "wait":  # Upbit's answer for a closed order is undocumented [I]
                raise _err("order_not_found")
            snapshot = order.to_json()
            self._cancel_locked(order)
            return 200, snapshot

    def _ep_orders_uuids(self, ctx: _Ctx) -> tuple[int, Any]:
        uuids, identifiers = ctx.query.get("uuids[]"), ctx.query.get("identifiers[]")
        if bool(uuids) == bool(identifiers):
            raise _ApiError(
                400, "validation_error", "give exactly one of uuids[] and identifiers[]"
            )
        wanted = set(uuids or identifiers or [])
        market = ctx.one("market")
        with self._lock:
            found = [
                o
                for o in self._orders.values()
                if (o.uuid if uuids else o.identifier) in wanted
                and (market is None or o.market == market)
            ]
            return 200, self._ordered(found, ctx)

    def _ordered(self, found: list[Order], ctx: _Ctx) -> list[dict[str, Any]]:
        found.sort(key=lambda o: o.created_at, reverse=ctx.one("order_by") != "asc")
        return [o.to_json(executed_funds=True) for o in found]

    def _list_by_state(
        self, ctx: _Ctx, allowed: set[str], default: set[str], max_limit: int = 100
    ) -> list[Any]:
        states = set(ctx.query.get("states[]") or ([s] if (s := ctx.one("state")) else default))
        if not states <= allowed:
            raise _ApiError(400, "validation_error", f"states must be among {sorted(allowed)}")
        market = ctx.one("market")
        try:
            limit = int(ctx.one("limit") or 100)
            page = int(ctx.one("page") or 1)
        except ValueError as exc:
            raise _ApiError(400, "validation_error", "page and limit must be numbers") from exc
        if page < 1 or not 1 <= limit <= max_limit:  # open: max 100 per page
            raise _ApiError(400, "validation_error", f"page >= 1, limit within 1..{max_limit}")
        with self._lock:
            found = [
                o
                for o in self._orders.values()
                if o.state in states and (market is None or o.market == market)
            ]
            return self._ordered(found, ctx)[(page - 1) * limit : page * limit]

    def _ep_orders_open(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, self._list_by_state(ctx, {"wait", "watch"}, {"wait"})

    def _ep_orders_closed(self, ctx: _Ctx) -> tuple[int, Any]:
        return 200, self._list_by_state(ctx, {"done", "cancel"}, {"done", "cancel"}, 1000)

    def _quotation_markets(self, ctx: _Ctx) -> list[Market]:
        raw = ctx.one("markets")
        if not raw:
            raise _quotation_err(400, "markets is missing")
        codes = [c.strip() for c in raw.split(",") if c.strip()]
        with self._lock:
            found = [self._markets[c] for c in codes if c in self._markets]
            if not found:
                raise _quotation_err(404, "Code not found")
            return copy.deepcopy(found)

    def _ep_ticker(self, ctx: _Ctx) -> tuple[int, Any]:
        now = datetime.now(UTC)
        kst = now.astimezone(KST)
        out = []
        for m in self._quotation_markets(ctx):
            price = m.last_price
            prev = m.prev_closing_price if m.prev_closing_price is not None else price
            change = price - prev
            with localcontext() as dctx:
                dctx.prec = 28
                rate = (change / prev).quantize(Decimal("0.00000001")) if prev else ZERO
            out.append(
                {
                    "market": m.code,
                    "trade_date": now.strftime("%Y%m%d"),
                    "trade_time": now.strftime("%H%M%S"),
                    "trade_date_kst": kst.strftime("%Y%m%d"),
                    "trade_time_kst": kst.strftime("%H%M%S"),
                    "trade_timestamp": _ms(now),
                    "opening_price": prev,
                    "high_price": max(price, prev),
                    "low_price": min(price, prev),
                    "trade_price": price,
                    "prev_closing_price": prev,
                    "change": "RISE" if change > 0 else "FALL" if change < 0 else "EVEN",
                    "change_price": abs(change),
                    "change_rate": abs(rate),
                    "signed_change_price": change,
                    "signed_change_rate": rate,
                    "trade_volume": Decimal("0.001"),
                    "acc_trade_price": Decimal(0),
                    "acc_trade_price_24h": Decimal(0),
                    "acc_trade_volume": Decimal(0),
                    "acc_trade_volume_24h": Decimal(0),
                    "highest_52_week_price": max(price, prev),
                    "highest_52_week_date": kst.strftime("%Y-%m-%d"),
                    "lowest_52_week_price": min(price, prev),
                    "lowest_52_week_date": kst.strftime("%Y-%m-%d"),
                    "timestamp": _ms(now),
                }
            )
        return 200, out

    def _ep_orderbook(self, ctx: _Ctx) -> tuple[int, Any]:
        try:
            count = min(max(int(ctx.one("count") or 30), 1), 30)
        except ValueError as exc:
            raise _quotation_err(400, "count must be a number") from exc
        out = []
        now_ms = _ms(datetime.now(UTC))
        for m in self._quotation_markets(ctx):
            with self._lock:
                bids = self._merged_bids(m)  # own resting buy orders show in the book
            levels = min(count, max(len(bids), len(m.asks)))
            units = []
            for i in range(levels):
                ask = m.asks[i] if i < len(m.asks) else (ZERO, ZERO)
                bid = bids[i] if i < len(bids) else (ZERO, ZERO)
                units.append(
                    {
                        "ask_price": ask[0],
                        "bid_price": bid[0],
                        "ask_size": ask[1],
                        "bid_size": bid[1],
                    }
                )
            out.append(
                {
                    "market": m.code,
                    "timestamp": now_ms,
                    "total_ask_size": sum((u["ask_size"] for u in units), ZERO),
                    "total_bid_size": sum((u["bid_size"] for u in units), ZERO),
                    "orderbook_units": units,
                    "level": 0,
                }
            )
        return 200, out

    def _ep_market_all(self, ctx: _Ctx) -> tuple[int, Any]:
        details = (ctx.one("is_details") or "").lower() == "true"
        out = []
        with self._lock:
            for m in self._markets.values():
                item: dict[str, Any] = {
                    "market": m.code,
                    "korean_name": m.korean_name,
                    "english_name": m.english_name,
                }
                if details:
                    item["market_event"] = {
                        "warning": m.warning,
                        "caution": {
                            "PRICE_FLUCTUATIONS": False,
                            "TRADING_VOLUME_SOARING": False,
                            "DEPOSIT_AMOUNT_SOARING": False,
                            "GLOBAL_PRICE_DIFFERENCES": False,
                            "CONCENTRATION_OF_SMALL_ACCOUNTS": False,
                        },
                    }
                out.append(item)
        return 200, out

    # ---------------------------------------------------------------- fills

    def fill_order(
        self, uuid: str, *, partial: bool = False, volume: Decimal | None = None
    ) -> Order:
        """Fill an open order now by walking the bid side of its market's book.

        ``partial`` executes ``partial_fill_ratio`` of the volume (rounded down to 8
        places); ``volume`` executes exactly that much (capped by the book). Whatever is not
        executed is cancelled and returned to the balance (state "cancel").
        """
        with self._lock:
            order = self._orders.get(uuid)
            if order is None:
                raise KeyError(uuid)
            if order.state != "wait":
                raise ValueError(f"order {uuid} is {order.state}, not wait")
            self._fill_locked(order, partial=partial, volume=volume)
            return copy.deepcopy(order)

    def cancel_order(self, uuid: str) -> Order:
        with self._lock:
            order = self._orders[uuid]
            if order.state != "wait":
                raise ValueError(f"order {uuid} is {order.state}, not wait")
            self._cancel_locked(order)
            return copy.deepcopy(order)

    def _merged_bids(self, market: Market) -> list[tuple[Decimal, Decimal]]:
        """The bid side as the order book shows it: other people's bids plus the account's
        own resting buy orders, best (highest) first."""
        levels: dict[Decimal, Decimal] = {}
        for price, size in market.bids:
            levels[price] = levels.get(price, ZERO) + size
        for own in self._own_bids(market.code):
            assert own.price is not None
            levels[own.price] = levels.get(own.price, ZERO) + own.remaining_volume
        return sorted(levels.items(), key=lambda level: level[0], reverse=True)

    def _own_bids(self, code: str) -> list[Order]:
        """The account's resting buy orders on ``code``, oldest first."""
        return [
            o
            for o in self._orders.values()
            if o.market == code and o.side == "bid" and o.state == "wait"
        ]

    def _fill_locked(self, order: Order, *, partial: bool, volume: Decimal | None) -> None:
        """Execute a sell against the bids, best first: other people's bids at a level are
        older, then the account's own buy orders there, where self-trade prevention acts by
        the sell's ``smp_type`` (docs.upbit.com/kr/v1.6.4/docs/smp):

        * ``cancel_maker`` cancels the own buy order and goes on; ``cancel_taker`` cancels the
          rest of the sell; ``reduce`` shrinks both by the overlap; ``none`` trades.

        Market and best orders see the 30 best levels; limit orders stop at their price.
        ``ioc`` (and market/best) cancel what is left; ``fok`` executes all or nothing; a
        plain limit order rests with what is left. ``partial``/``volume`` are test knobs:
        execute only that much, cancel the rest.
        """
        market = self._markets[order.market]
        target = order.remaining_volume
        if volume is not None:
            target = min(target, volume)
        elif partial:
            target = (target * self.partial_fill_ratio).quantize(EIGHT_PLACES, ROUND_DOWN)
        if (
            order.time_in_force == "fok"
            and self._walk(order, market, target, dry=True)[0] < target
        ):
            self._close_locked(order, market, [])  # nothing executed, all returned
            return
        _, events = self._walk(order, market, target, dry=False)
        knob = volume is not None or partial
        rests = order.ord_type == "limit" and order.time_in_force is None and not knob
        if order.remaining_volume > 0 and order.state == "wait" and rests:
            for event in events:
                self._emit(event)
            base = self._accounts[market.base]
            quote = self._accounts.setdefault(market.quote, Account(currency=market.quote))
            self._emit(self._asset_event([base, quote]))
            return
        self._close_locked(order, market, events)

    def _walk(
        self, order: Order, market: Market, target: Decimal, *, dry: bool, consume: bool = False
    ) -> tuple[Decimal, list[dict[str, Any]]]:
        """Take up to ``target`` for ``order`` from the bids: (volume executed, events to
        send). ``dry``: change nothing, only say how much would execute."""
        events: list[dict[str, Any]] = []
        smp = order.smp_type or "cancel_maker"
        floor = order.price if order.ord_type == "limit" else None
        levels = market.bids if order.ord_type == "limit" else market.bids[:BOOK_LEVELS]
        own_by_price: dict[Decimal, list[Order]] = {}
        for own in self._own_bids(market.code):
            assert own.price is not None
            own_by_price.setdefault(own.price, []).append(own)
        prices = sorted({p for p, _ in levels} | set(own_by_price), reverse=True)
        if order.ord_type != "limit":
            prices = prices[:BOOK_LEVELS]
        others = dict(levels)
        left = target
        executed = ZERO
        new_bids = dict(others)
        with localcontext() as dctx:
            dctx.prec = 60
            for price in prices:
                if left <= 0 or (floor is not None and price < floor):
                    break
                take = min(left, others.get(price, ZERO))
                if take > 0:
                    left -= take
                    executed += take
                    new_bids[price] = others.get(price, ZERO) - take
                    if not dry:
                        events.append(self._trade_locked(order, market, price, take))
                for own in own_by_price.get(price, []):
                    if left <= 0:
                        break
                    overlap = min(left, own.remaining_volume)
                    if smp == "none":
                        left -= overlap
                        executed += overlap
                        if not dry:
                            events.append(self._trade_locked(order, market, price, overlap))
                            events.extend(self._maker_trade_locked(own, market, overlap))
                    elif smp == "cancel_maker":
                        if not dry:
                            events.extend(self._maker_prevent_locked(own, market, None))
                    elif smp == "reduce":
                        left -= overlap
                        if not dry:
                            self._taker_prevent_locked(order, market, overlap)
                            events.append(self._order_event(order, "prevented"))
                            events.extend(self._maker_prevent_locked(own, market, overlap))
                    else:  # cancel_taker: the rest of the sell is cancelled here
                        if not dry:
                            self._taker_prevent_locked(order, market, order.remaining_volume)
                        left = ZERO
                        break
        if (consume or self.consume_book) and not dry:
            market.bids = [(p, new_bids[p]) for p, _ in market.bids if new_bids[p] > 0]
        return executed, events

    def _trade_locked(
        self, order: Order, market: Market, price: Decimal, take: Decimal
    ) -> dict[str, Any]:
        funds = price * take
        trade = Trade(
            uuid=str(uuid_mod.uuid4()),
            market=order.market,
            price=price,
            volume=take,
            funds=funds,
            fee=funds * market.ask_fee,
            created_at=_now_kst(),
        )
        order.trades.append(trade)
        order.executed_volume += take
        order.remaining_volume -= take
        order.locked -= take
        order.paid_fee += trade.fee
        base = self._accounts[market.base]
        base.locked -= take
        quote = self._accounts.setdefault(market.quote, Account(currency=market.quote))
        quote.balance += funds - trade.fee
        return self._order_event(order, "trade", trade)

    def _taker_prevent_locked(self, order: Order, market: Market, amount: Decimal) -> None:
        order.remaining_volume -= amount
        order.locked -= amount
        order.prevented_volume += amount
        order.prevented_locked += amount
        base = self._accounts[market.base]
        base.locked -= amount
        base.balance += amount

    def _maker_trade_locked(
        self, own: Order, market: Market, take: Decimal
    ) -> list[dict[str, Any]]:
        """The account's own buy order trades with its own sell (smp_type none)."""
        assert own.price is not None
        funds = own.price * take
        fee = funds * market.bid_fee
        own.trades.append(
            Trade(
                uuid=str(uuid_mod.uuid4()),
                market=own.market,
                price=own.price,
                volume=take,
                funds=funds,
                fee=fee,
                created_at=_now_kst(),
                side="bid",
                trend="up",
            )
        )
        own.executed_volume += take
        own.remaining_volume -= take
        own.paid_fee += fee
        own.locked -= funds + fee
        quote = self._accounts[market.quote]
        quote.locked -= funds + fee
        base = self._accounts.setdefault(
            market.base, Account(currency=market.base, unit_currency=market.quote)
        )
        base.balance += take
        events = [self._order_event(own, "trade", own.trades[-1])]
        if own.remaining_volume == 0:
            own.state = "done"
            quote.locked -= own.locked
            quote.balance += own.locked
            own.locked = ZERO
            events.append(self._order_event(own, "done"))
        return events

    def _maker_prevent_locked(
        self, own: Order, market: Market, amount: Decimal | None
    ) -> list[dict[str, Any]]:
        """Self-trade prevention on the account's own resting buy order: all of it
        (``amount`` None, cancel_maker) or ``amount`` of it (reduce)."""
        assert own.price is not None
        quote = self._accounts[market.quote]
        cut = own.remaining_volume if amount is None else amount
        unlock = (
            own.locked if cut == own.remaining_volume else cut * own.price * (1 + market.bid_fee)
        )
        own.remaining_volume -= cut
        own.prevented_volume += cut
        own.prevented_locked += unlock
        own.locked -= unlock
        quote.locked -= unlock
        quote.balance += unlock
        if own.remaining_volume > 0:
            return [self._order_event(own, "prevented")]
        own.state = "cancel"
        quote.locked -= own.locked
        quote.balance += own.locked
        own.locked = ZERO
        return [self._order_event(own, "cancel")]

    def _close_locked(self, order: Order, market: Market, events: list[dict[str, Any]]) -> None:
        """A sell is over: what was not executed goes back to the balance."""
        returned = order.remaining_volume
        order.state = "done" if returned == 0 and order.executed_volume > 0 else "cancel"
        base = self._accounts.setdefault(
            market.base, Account(currency=market.base, unit_currency=market.quote)
        )
        base.locked -= order.locked
        base.balance += order.locked
        order.locked = ZERO
        quote = self._accounts.setdefault(market.quote, Account(currency=market.quote))
        changed = [base, quote]
        if base.balance == 0 and base.locked == 0 and market.base != "KRW":
            # Upbit drops empty rows from /v1/accounts [I].
            del self._accounts[market.base]
        for event in events:
            self._emit(event)
        self._emit(self._order_event(order, order.state))
        self._emit(self._asset_event(changed))

    def _cancel_locked(self, order: Order) -> None:
        base_currency = order.market.split("-", 1)[1]
        quote_currency = order.market.split("-", 1)[0]
        currency = base_currency if order.side == "ask" else quote_currency
        account = self._accounts.setdefault(currency, Account(currency=currency))
        account.locked -= order.locked
        account.balance += order.locked
        order.locked = ZERO
        order.state = "cancel"
        self._emit(self._order_event(order, "cancel"))
        self._emit(self._asset_event([account]))

    def _schedule_fill(self, uuid: str, delay: float) -> None:
        with self._fill_cond:
            heapq.heappush(self._fill_heap, (time.monotonic() + delay, next(self._fill_seq), uuid))
            self._fill_cond.notify_all()

    def _filler_loop(self) -> None:
        while not self._stopping.is_set():
            with self._fill_cond:
                if not self._fill_heap:
                    self._fill_cond.wait(0.5)
                    continue
                due, _, uuid = self._fill_heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._fill_cond.wait(min(wait, 0.5))
                    continue
                heapq.heappop(self._fill_heap)
            with self._lock:
                order = self._orders.get(uuid)
                if order is not None and order.state == "wait":
                    self._fill_locked(order, partial=self.partial_fills, volume=None)

    # ---------------------------------------------------------------- websocket

    def _order_event(self, order: Order, state: str, trade: Trade | None = None) -> dict[str, Any]:
        now_ms = _ms(datetime.now(UTC))
        return {
            "type": "myOrder",
            "code": order.market,
            "uuid": order.uuid,
            "ask_bid": order.side.upper(),
            "order_type": order.ord_type,
            "state": state,
            "trade_uuid": trade.uuid if trade else None,
            "price": trade.price if trade else order.price,
            "avg_price": order.avg_price,
            "volume": trade.volume if trade else order.volume,
            "remaining_volume": order.remaining_volume,
            "executed_volume": order.executed_volume,
            "trades_count": order.trades_count,
            "reserved_fee": order.reserved_fee,
            "remaining_fee": max(order.reserved_fee - order.paid_fee, ZERO),
            "paid_fee": order.paid_fee,
            "locked": order.locked,
            "executed_funds": order.executed_funds,
            "time_in_force": order.time_in_force,
            "trade_fee": trade.fee if trade else None,
            "is_maker": False if trade else None,
            "identifier": order.identifier,
            "smp_type": order.smp_type or "cancel_maker",
            "prevented_volume": order.prevented_volume,
            "prevented_locked": order.prevented_locked,
            "trade_timestamp": _ms(trade.created_at) if trade else None,
            "order_timestamp": _ms(order.created_at),
            "timestamp": now_ms,
            "stream_type": "REALTIME",
        }

    def _asset_event(self, accounts: Iterable[Account]) -> dict[str, Any]:
        now_ms = _ms(datetime.now(UTC))
        return {
            "type": "myAsset",
            "asset_uuid": str(uuid_mod.uuid4()),
            "assets": [
                {"currency": a.currency, "balance": a.balance, "locked": a.locked}
                for a in accounts
            ],
            "asset_timestamp": now_ms,
            "timestamp": now_ms,
            "stream_type": "REALTIME",
        }

    def _emit(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._ws_events.append(copy.deepcopy(event))
        self._ws_queue.put(event)

    def _ws_dispatch_loop(self) -> None:
        while True:
            event = self._ws_queue.get()
            if event is _STOP:
                return
            assert isinstance(event, dict)
            with self._lock:
                clients = list(self._ws_clients)
            for client in clients:
                if self._ws_wants(client, event):
                    with contextlib.suppress(ConnectionClosed, OSError, RuntimeError):
                        client.send(event)

    def _ws_ticker_subscribe(
        self, client: _WsClient, ticket: str, types: list[dict[str, Any]]
    ) -> None:
        codes: set[str] = set()
        snapshot, realtime = True, True
        for item in types:
            if item["type"] != "ticker":
                self._ws_error(client, "INVALID_PARAM", f"unsupported type {item['type']!r}")
                return
            wanted = item.get("codes")
            if not isinstance(wanted, list) or not wanted:
                self._ws_error(client, "NO_CODES", "codes is missing")
                return
            if any(not isinstance(c, str) or c != c.upper() for c in wanted):
                self._ws_error(client, "INVALID_PARAM", "codes must be upper case")
                return
            codes |= set(wanted)
            snapshot = not item.get("is_only_realtime", False)
            realtime = not item.get("is_only_snapshot", False)
        with self._ws_cond:
            client.ticket = ticket
            client.ticker_codes = codes
            client.ticker_realtime = realtime
            self._ws_cond.notify_all()
        if snapshot:
            for code in sorted(codes):
                event = self._ticker_event(code, "SNAPSHOT")
                if event is not None:
                    with contextlib.suppress(ConnectionClosed, OSError, RuntimeError):
                        client.send(event)

    def _ticker_event(self, code: str, stream_type: str) -> dict[str, Any] | None:
        with self._lock:
            market = self._markets.get(code)
            if market is None:
                return None
            price = market.last_price
            prev = market.prev_closing_price or price
        change = price - prev
        return {
            "type": "ticker",
            "code": code,
            "trade_price": price,
            "prev_closing_price": prev,
            "change": "RISE" if change > 0 else "FALL" if change < 0 else "EVEN",
            "signed_change_price": change,
            "signed_change_rate": (change / prev) if prev else Decimal(0),
            "timestamp": _ms(datetime.now(UTC)),
            "stream_type": stream_type,
        }

    def ws_ticker_codes(self) -> list[set[str]]:
        with self._lock:
            return [set(c.ticker_codes) for c in self._ws_clients if c.ticker_codes is not None]

    def wait_for_ticker_subscription(self, codes: set[str], timeout: float = 5.0) -> bool:
        """Block until an open public connection is subscribed to exactly ``codes``."""
        deadline = time.monotonic() + timeout
        with self._ws_cond:
            while codes not in self.ws_ticker_codes():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._ws_cond.wait(left)
            return True

    @staticmethod
    def _ws_wants(client: _WsClient, event: Mapping[str, Any]) -> bool:
        if event.get("type") == "ticker":
            codes = client.ticker_codes
            return client.ticker_realtime and codes is not None and event.get("code") in codes
        if event.get("type") == "myOrder":
            codes = client.order_codes
            return codes is not None and (not codes or event.get("code") in codes)
        if event.get("type") == "myAsset":
            return client.assets
        return False

    def ws_broadcast(self, obj: Any) -> None:
        """Send ``obj`` (as a binary JSON frame) to every open private connection."""
        with self._lock:
            clients = [c for c in self._ws_clients if not c.conn.public]
        for client in clients:
            with contextlib.suppress(ConnectionClosed, OSError, RuntimeError):
                client.send(obj)

    @property
    def ws_subscriber_count(self) -> int:
        with self._lock:
            return sum(1 for c in self._ws_clients if c.order_codes is not None or c.assets)

    def wait_for_ws_subscribers(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block until ``count`` connections have subscribed (myOrder or myAsset)."""
        deadline = time.monotonic() + timeout
        with self._ws_cond:
            while self.ws_subscriber_count < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._ws_cond.wait(left)
            return True

    def drop_ws_connections(self, *, abrupt: bool = False) -> int:
        """Close every open private connection now (code 1001, or a bare TCP close)."""
        with self._lock:
            clients = list(self._ws_clients)
        for client in clients:
            if abrupt:
                with contextlib.suppress(OSError):
                    client.conn.socket.shutdown(socket.SHUT_RDWR)
            else:
                with contextlib.suppress(Exception):
                    client.conn.close(1001, "dropped by test")
        return len(clients)

    def _ws_process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        now = time.monotonic()
        with self._lock:
            self.ws_connect_times.append(now)
            recent = [t for t in self.ws_connect_times if now - t < 1.0]
        if len(recent) > self.ws_connect_limit:
            with self._lock:
                self.ws_rejected_count += 1
            return connection.respond(429, "Too many requests\n")
        if path not in ("/websocket/v1/private", "/websocket/v1"):
            with self._lock:
                self.ws_rejected_count += 1
            return connection.respond(404, "only /websocket/v1(/private) is served here\n")
        if not self.ws_enabled:
            with self._lock:
                self.ws_rejected_count += 1
            return connection.respond(503, "Service Unavailable\n")
        if path == "/websocket/v1":  # quotation: no authentication
            assert isinstance(connection, _TrackedConnection)
            connection.public = True
            with self._lock:
                self.ws_public_connections_made += 1
            return None
        try:
            payload = self._verify_token(request.headers.get("Authorization"))
            if "query_hash" in payload:
                raise _err("invalid_query_payload")
        except _ApiError as exc:
            with self._lock:
                self.ws_rejected_count += 1
            body = _json_value({"error": {"name": exc.name, "message": exc.message}})
            response = connection.respond(exc.status, body)
            response.headers["Content-Type"] = "application/json; charset=utf-8"
            return response
        with self._lock:
            self.ws_connections_made += 1
        return None

    def _ws_handler(self, connection: ServerConnection) -> None:
        assert isinstance(connection, _TrackedConnection)
        client = _WsClient(connection)
        if connection.public:
            client.ticker_codes = None
        with self._lock:
            self._ws_clients.add(client)
        try:
            while not self._stopping.is_set():
                idle_left = connection.last_activity + self.ws_idle_timeout - time.monotonic()
                if idle_left <= 0:
                    connection.close(1000, "idle timeout")
                    break
                try:
                    message = connection.recv(timeout=min(idle_left, 0.25))
                except TimeoutError:
                    continue
                except ConnectionClosed:
                    break
                self._ws_on_message(client, message)
        finally:
            with self._ws_cond:
                self._ws_clients.discard(client)
                self._ws_cond.notify_all()

    def _ws_error(self, client: _WsClient, name: str, message: str) -> None:
        with contextlib.suppress(ConnectionClosed, OSError, RuntimeError):
            client.send({"error": {"name": name, "message": message}})

    def _ws_on_message(self, client: _WsClient, message: str | bytes) -> None:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        if text.strip() == "PING":
            with contextlib.suppress(ConnectionClosed, OSError, RuntimeError):
                client.send({"status": "UP"})
            return
        try:
            frame = json.loads(text)
        except ValueError:
            self._ws_error(client, "WRONG_FORMAT", "request is not JSON")
            return
        if not isinstance(frame, list) or not all(isinstance(x, dict) for x in frame):
            self._ws_error(client, "WRONG_FORMAT", "request must be a JSON array of objects")
            return
        ticket = next((x["ticket"] for x in frame if "ticket" in x), None)
        if not ticket:
            self._ws_error(client, "NO_TICKET", "ticket is missing")
            return
        if any(x.get("method") == "LIST_SUBSCRIPTIONS" for x in frame):
            result: list[dict[str, Any]] = []
            if client.order_codes is not None:
                result.append({"type": "myOrder", "codes": sorted(client.order_codes)})
            if client.assets:
                result.append({"type": "myAsset"})
            with contextlib.suppress(ConnectionClosed, OSError, RuntimeError):
                client.send({"method": "LIST_SUBSCRIPTIONS", "result": result, "ticket": ticket})
            return
        fmt = next((x["format"] for x in frame if "format" in x), "DEFAULT")
        if fmt != "DEFAULT":
            self._ws_error(client, "INVALID_PARAM", "the stand-in only speaks format DEFAULT")
            return
        types = [x for x in frame if "type" in x]
        if not types:
            self._ws_error(client, "NO_TYPE", "type is missing")
            return
        if client.conn.public:
            self._ws_ticker_subscribe(client, str(ticket), types)
            return
        order_codes: set[str] | None = None
        assets = False
        for item in types:
            if item["type"] == "myOrder":
                codes = item.get("codes") or []
                if not isinstance(codes, list):
                    self._ws_error(client, "WRONG_FORMAT", "codes must be a list")
                    return
                order_codes = {str(c) for c in codes}
            elif item["type"] == "myAsset":
                if "codes" in item:
                    self._ws_error(client, "WRONG_FORMAT", "myAsset takes no codes")
                    return
                assets = True
            else:
                self._ws_error(client, "INVALID_PARAM", f"unsupported type {item['type']!r}")
                return
        with self._ws_cond:
            client.ticket = str(ticket)
            client.order_codes = order_codes
            client.assets = assets
            self._ws_cond.notify_all()
        if self.ws_close_on_subscribe:
            with contextlib.suppress(Exception):
                client.conn.close(1000, "closed by test")


class _RateLimited(Exception):
    pass


class _Answered(Exception):
    pass


_ROUTES: dict[tuple[str, str], _Route] = {
    ("GET", "/v1/accounts"): _Route(UpbitStandIn._ep_accounts, "default", True, "view_account"),
    ("GET", "/v1/orders/chance"): _Route(UpbitStandIn._ep_chance, "default", True, "view_orders"),
    ("POST", "/v1/orders"): _Route(UpbitStandIn._ep_create_order, "order", True, "make_orders"),
    ("POST", "/v1/orders/test"): _Route(
        UpbitStandIn._ep_order_test, "order-test", True, "make_orders"
    ),
    ("GET", "/v1/order"): _Route(UpbitStandIn._ep_get_order, "default", True, "view_orders"),
    ("DELETE", "/v1/order"): _Route(UpbitStandIn._ep_cancel_order, "default", True, "make_orders"),
    ("GET", "/v1/orders/uuids"): _Route(
        UpbitStandIn._ep_orders_uuids, "default", True, "view_orders"
    ),
    ("GET", "/v1/orders/open"): _Route(
        UpbitStandIn._ep_orders_open, "default", True, "view_orders"
    ),
    ("GET", "/v1/orders/closed"): _Route(
        UpbitStandIn._ep_orders_closed, "default", True, "view_orders"
    ),
    ("GET", "/v1/api_keys"): _Route(UpbitStandIn._ep_api_keys, "default", True, None),
    ("GET", "/v1/ticker"): _Route(UpbitStandIn._ep_ticker, "ticker", False, quotation=True),
    ("GET", "/v1/orderbook"): _Route(
        UpbitStandIn._ep_orderbook, "orderbook", False, quotation=True
    ),
    ("GET", "/v1/orderbook/instruments"): _Route(
        UpbitStandIn._ep_orderbook_instruments, "orderbook", False, quotation=True
    ),
    ("GET", "/v1/market/all"): _Route(
        UpbitStandIn._ep_market_all, "market", False, quotation=True
    ),
}


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.standins.upbit",
        description="Run the Upbit stand-in (REST + private WebSocket) on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="REST port (0 = any free port)")
    parser.add_argument("--ws-port", type=int, default=0, help="WebSocket port (0 = any)")
    parser.add_argument("--seed", choices=("demo", "basic", "none"), default="demo")
    parser.add_argument("--access-key", default=DEFAULT_ACCESS_KEY)
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY)
    parser.add_argument("--fill-delay", type=float, default=0.0, help="seconds before a fill")
    parser.add_argument("--no-rate-limit", action="store_true", help="do not answer 429")
    args = parser.parse_args(argv)

    stand = UpbitStandIn(args.access_key, args.secret_key, port=args.port, ws_port=args.ws_port)
    if args.seed == "demo":
        stand.seed_demo()
    elif args.seed == "basic":
        stand.seed_basic()
    stand.fill_delay = args.fill_delay
    stand.rate_limit_enabled = not args.no_rate_limit

    done = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    stand.start()
    try:
        print(f"UPBIT_API_URL={stand.url}", flush=True)
        print(f"UPBIT_WS_URL={stand.ws_url}", flush=True)
        print(f"UPBIT_ACCESS_KEY={stand.access_key}", flush=True)
        print(f"UPBIT_SECRET_KEY={stand.secret_key}", flush=True)
        print("Ctrl-C to stop.", file=sys.stderr, flush=True)
        while not done.wait(0.5):
            pass
    finally:
        stand.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
