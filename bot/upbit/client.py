"""The live Upbit REST client.

One `UpbitClient` owns one keep-alive `httpx.AsyncClient`. Every answer is parsed with
``json.loads(..., parse_float=Decimal)`` into the frozen models of `bot.upbit.models`;
every failure is an `bot.upbit.errors.UpbitError`.

Retry policy
------------
* **Reads (GET)** are retried, at most ``max_read_retries`` times, on 429 (rate limited),
  418 (blocked: we wait the block time Upbit states when it is parsable and at most
  ``max_block_wait`` seconds, else we back off normally; a longer block is raised at once),
  5xx and transport failures (connect errors, timeouts, dropped connections, unparsable
  2xx bodies). The delay grows exponentially from ``backoff_base`` (0.2 s) with jitter and
  is capped at ``backoff_cap``. Every attempt signs a new JWT, because nonces are single
  use. Any other 4xx is raised at once: it would fail the same way again.
* **Order creation (POST /v1/orders) is never retried.** Resending could sell twice. When
  the request may have reached Upbit but no clear answer came back (read timeout, dropped
  connection, protocol error, a 5xx answer, an unparsable 201), the client raises
  `OrderOutcomeUnknown` carrying the ``identifier``: the caller must look the order up with
  ``get_order(identifier=...)`` before doing anything else. Only a connect failure, where
  nothing was sent, raises `UpbitTransportError(request_sent=False)`. A 4xx without
  Upbit's JSON error ``{"error": {"name", "message"}}``
  (https://docs.upbit.com/kr/reference/rest-api-guide), such as a proxy's HTML 404, 403,
  408 or 499, proves nothing: `OrderOutcomeUnknown` too (only the rate limiter's 429 and
  418, which may be plain text, refuse as themselves). Upbit's own refusals (4xx) raise
  their mapped class, and nothing was created, except ``duplicated_identifier``:
  the identifier was spent by an earlier request that may have created the order, so it
  also raises `OrderOutcomeUnknown`. ``POST /v1/orders/test``
  (`UpbitClient.check_sell_market`) is not retried either; it creates nothing, so its
  failures are plain errors.
* **Rate limits.** The ``Remaining-Req`` header is kept per group (`remaining`). When a
  group's ``sec`` budget reached 0, the next call to that group first sleeps until the next
  wall-clock second begins (at most one second).
* **418 blocks.** Upbit answers 418 when requests went on after 429s, "with the block
  time" (https://docs.upbit.com/kr/reference/rate-limits,
  https://docs.upbit.com/kr/reference/rest-api-guide). The time is read from a
  ``Retry-After`` header, else from the answer's words (`stated_block_seconds`), else taken
  as `DEFAULT_BLOCK_SECONDS`. Until it is over no request of that group leaves this client:
  a read that may wait (at most ``max_block_wait``) waits, anything else raises
  `RateLimited` (status 418) without sending; an order is never sent into a block.
  `rate_blocks` says what is blocked and for how long (``/status`` shows it).

Self-trade prevention
---------------------
Every order carries an explicit ``smp_type`` (the client's ``smp_type``, from the
``SELF_TRADE_PREVENTION`` setting). Since 2026-11-09 Upbit applies ``cancel_maker`` to an
order sent without one, which cancels the user's own resting orders that a sell meets
(https://docs.upbit.com/kr/changelog/add-smp-type-default). Sending it always means the
behaviour is the one the user chose, whatever Upbit's default becomes.

Secrets: the keys never appear in ``repr``, logs or exception messages; request headers
(which carry the JWT) are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import math
import random
import re
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, Final, Self, TypeVar

import httpx

from bot.upbit.auth import Params, make_token, wire_query
from bot.upbit.errors import (
    AuthError,
    DuplicatedIdentifier,
    MarketNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    ServerError,
    UpbitAPIError,
    UpbitError,
    UpbitTransportError,
    error_from_response,
    stated_block_seconds,
    upbit_error_name,
)
from bot.upbit.models import (
    SMP_TYPES,
    Account,
    ApiKey,
    MarketInfo,
    Order,
    Orderbook,
    OrderbookInstrument,
    OrderChance,
    Ticker,
)

__all__ = ["DEFAULT_BASE_URL", "RemainingReq", "UpbitClient"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

DEFAULT_BASE_URL: Final = "https://api.upbit.com"
ORDER_PATH: Final = "/v1/orders"
ORDER_TEST_PATH: Final = "/v1/orders/test"
MAX_VOLUME_DECIMALS: Final = 8
DEFAULT_BLOCK_SECONDS: Final = 60.0  # a 418 whose block time cannot be read
# Tick sizes change only when Upbit announces new price units; an hour-old value is fine.
TICK_CACHE_SECONDS: Final = 3600.0
OPEN_ORDERS_PAGE: Final = 100  # Upbit's maximum ``limit`` for GET /v1/orders/open
ORDERS_BY_UUIDS_MAX: Final = 100  # Upbit's maximum uuids[] for GET /v1/orders/uuids
TIME_IN_FORCE: Final = frozenset({"ioc", "fok"})
# "identifier": at most 64 characters (https://docs.upbit.com/kr/reference/new-order).
MAX_IDENTIFIER_LENGTH: Final = 64

_REMAINING_GROUP = re.compile(r"group\s*=\s*([A-Za-z0-9_.\-]+)")
_REMAINING_SEC = re.compile(r"\bsec\s*=\s*(\d+)")
_IDENTIFIER = re.compile(r"[A-Za-z0-9_\-]+")

# Rate-limit group of an endpoint before Upbit has told us; the Remaining-Req header of the
# first answer replaces the guess (https://docs.upbit.com/kr/reference/rate-limits).
_GROUP_GUESS: Final[Mapping[str, str]] = {
    "/v1/market/all": "market",
    "/v1/ticker": "ticker",
    "/v1/orderbook": "orderbook",
    "/v1/orderbook/instruments": "orderbook",
}


# Upbit's per-second limits by group (https://docs.upbit.com/kr/reference/rate-limits),
# enforced on our side by `RateLimiter`.
RATE_LIMITS: Final[Mapping[str, int]] = {
    "default": 30,
    "order": 12,
    "order-test": 8,
    "market": 10,
    "candle": 10,
    "trade": 10,
    "ticker": 10,
    "orderbook": 10,
}


class RateLimiter:
    """At most ``limit`` calls of a group in any ``window`` seconds, as Upbit counts them.

    Upbit counts a call when it arrives, which lies somewhere between our send and our
    receipt of the answer. So a call counts from the moment it is sent (in flight) until
    ``window`` seconds after its answer came back: whatever Upbit's one-second window looks
    at, every call in it is still counted here.
    """

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self._limit = limit
        self._window = window
        self._in_flight = 0
        self._done: deque[float] = deque()
        self._changed = asyncio.Condition()

    def _used(self, now: float) -> int:
        while self._done and now - self._done[0] >= self._window:
            self._done.popleft()
        return self._in_flight + len(self._done)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._changed:
            while self._used(time.monotonic()) >= self._limit:
                wait = self._window - (time.monotonic() - self._done[0]) if self._done else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wait)
            self._in_flight += 1
        try:
            yield
        finally:
            async with self._changed:
                self._in_flight -= 1
                self._done.append(time.monotonic())
                self._changed.notify_all()


@dataclass(frozen=True, slots=True)
class RemainingReq:
    """The last ``Remaining-Req`` value of one group; ``at`` is the wall-clock receipt."""

    group: str
    sec: int
    at: float


def parse_remaining_req(value: str, at: float) -> RemainingReq | None:
    """Parse ``group=default; min=1800; sec=29`` (``min`` is deprecated and ignored)."""
    group = _REMAINING_GROUP.search(value)
    sec = _REMAINING_SEC.search(value)
    if group is None or sec is None:
        return None
    return RemainingReq(group=group.group(1), sec=int(sec.group(1)), at=at)


def format_volume(volume: Decimal) -> str:
    """A positive volume with at most 8 decimals as a plain string (never ``1E-8``)."""
    if not isinstance(volume, Decimal) or isinstance(volume, bool):
        raise ValueError("volume must be a Decimal")
    if not volume.is_finite() or volume <= 0:
        raise ValueError("volume must be a positive, finite Decimal")
    text = format(volume, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    decimals = len(text.partition(".")[2])
    if decimals > MAX_VOLUME_DECIMALS:
        raise ValueError(f"volume has {decimals} decimals; Upbit accepts at most 8")
    return text


def _check_identifier(identifier: str) -> None:
    # Characters outside this set are hashed differently by some clients (the query_hash
    # input is the unquoted query string: https://docs.upbit.com/kr/reference/auth).
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError("identifier must be non-empty and use only A-Z a-z 0-9 _ -")
    if len(identifier) > MAX_IDENTIFIER_LENGTH:
        raise ValueError(f"identifier must be at most {MAX_IDENTIFIER_LENGTH} characters")


@asynccontextmanager
async def map_transport_errors(
    method: str, path: str, *, identifier: str | None = None
) -> AsyncIterator[None]:
    """The one place httpx exceptions become Upbit errors.

    Nothing was sent when connecting failed (or no pooled connection became free); after
    that, the server may have seen the request. With an ``identifier`` (an order POST) a
    possibly-sent request becomes `OrderOutcomeUnknown`.
    """
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise UpbitTransportError(
            f"{method} {path}: could not connect ({type(exc).__name__})", request_sent=False
        ) from exc
    except httpx.HTTPError as exc:
        message = f"{method} {path}: no answer after sending ({type(exc).__name__})"
        if identifier is not None:
            raise OrderOutcomeUnknown(message, identifier=identifier) from exc
        raise UpbitTransportError(message, request_sent=True) from exc


def _retry_after_header(value: str | None) -> float | None:
    """``Retry-After`` as seconds (a number, or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


class UpbitClient:
    """Async client for Upbit's REST API (exchange and quotation endpoints).

    Use as ``async with UpbitClient(access, secret) as upbit: ...`` or call `aclose`;
    `public` (no keys) reaches only the quotation API.
    ``transport`` lets tests plug in an `httpx.MockTransport`; the backoff knobs exist so
    tests stay fast.
    """

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_read_retries: int = 3,
        backoff_base: float = 0.2,
        backoff_cap: float = 5.0,
        max_block_wait: float = 10.0,
        smp_type: str = "cancel_maker",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if bool(access_key) != bool(secret_key):
            raise ValueError("give both access_key and secret_key (or neither: see public())")
        if max_read_retries < 0:
            raise ValueError("max_read_retries must be >= 0")
        if smp_type not in SMP_TYPES:
            raise ValueError(f"smp_type must be one of {', '.join(SMP_TYPES)}")
        self._smp_type = smp_type
        self._access_key = access_key
        self._secret_key = secret_key
        self._base_url = base_url.rstrip("/")
        self._max_read_retries = max_read_retries
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_block_wait = max_block_wait
        self._blocked_until: dict[str, float] = {}  # group -> time.monotonic() deadline
        self._remaining: dict[str, RemainingReq] = {}
        self._group_of: dict[tuple[str, str], str] = {}
        self._limiters = {group: RateLimiter(limit) for group, limit in RATE_LIMITS.items()}
        self._ticks: dict[str, tuple[Decimal, float]] = {}  # market -> (tick, monotonic at)
        # No Origin header, ever: Upbit throttles browser-origin requests to 1 per 10 s.
        self._http = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"Accept": "application/json"},
            follow_redirects=False,
            # One loaded CA bundle costs ~20 ms and ~0.8 MB: a caller may share its own.
            verify=ssl_context if ssl_context is not None else True,
        )

    @classmethod
    def public(
        cls,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_read_retries: int = 3,
    ) -> Self:
        """A client without keys, for the quotation API only (ticker, orderbook, markets).

        Every private call raises `AuthError` without sending anything (paper trading).
        """
        return cls(
            "",
            "",
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            max_read_retries=max_read_retries,
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def is_paper(self) -> bool:
        return False

    @property
    def smp_type(self) -> str:
        """The ``smp_type`` every order is sent with (module docstring)."""
        return self._smp_type

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(access_key={self._access_key[:4]}***, "
            f"secret_key=***, base_url={self._base_url!r})"
        )

    __str__ = __repr__

    # -- rate-limit bookkeeping --------------------------------------------------------------

    def remaining(self, group: str) -> int | None:
        """Calls left in the current second for ``group``, per the last ``Remaining-Req``."""
        value = self._remaining.get(group)
        return None if value is None else value.sec

    def rate_blocks(self) -> dict[str, float]:
        """Groups Upbit has blocked (418) and the seconds left of each block."""
        now = time.monotonic()
        return {g: until - now for g, until in self._blocked_until.items() if until > now}

    async def _wait_out_block(self, method: str, path: str, group: str) -> None:
        while True:
            left = self._blocked_until.get(group, 0.0) - time.monotonic()
            if left <= 0:
                return
            if method != "GET" or left > self._max_block_wait:
                raise RateLimited(
                    f"{method} {path}: Upbit blocks {group} requests for {left:.0f} s more",
                    name="blocked",
                    status=418,
                    retry_after=Decimal(math.ceil(left)),
                )
            logger.info("Upbit blocks group %s; waiting %.1f s", group, left)
            await asyncio.sleep(left)

    def _record_block(self, group: str, response: httpx.Response) -> RateLimited:
        seconds = _retry_after_header(response.headers.get("Retry-After"))
        if seconds is None:
            seconds = stated_block_seconds(response.text)
        if seconds is None:
            seconds = DEFAULT_BLOCK_SECONDS
        until = time.monotonic() + seconds
        self._blocked_until[group] = max(until, self._blocked_until.get(group, 0.0))
        logger.warning("Upbit blocked group %s for %.0f s (418)", group, seconds)
        error = error_from_response(418, response.content)
        if isinstance(error, RateLimited):
            error.retry_after = Decimal(math.ceil(seconds))
            return error
        return RateLimited(error.message, name=error.name, status=418, retry_after=None)

    def _group(self, method: str, path: str) -> str:
        known = self._group_of.get((method, path))
        if known is not None:
            return known
        if method == "POST" and path == ORDER_PATH:
            return "order"
        if method == "POST" and path == ORDER_TEST_PATH:
            return "order-test"
        return _GROUP_GUESS.get(path, "default")

    async def _respect_remaining(self, group: str) -> None:
        value = self._remaining.get(group)
        if value is None or value.sec > 0:
            return
        now = time.time()
        second = math.floor(value.at)
        if math.floor(now) == second:
            delay = second + 1 - now
            logger.debug("rate-limit group %s exhausted; waiting %.3f s", group, delay)
            await asyncio.sleep(delay)

    def _record_remaining(self, method: str, path: str, response: httpx.Response) -> None:
        header = response.headers.get("Remaining-Req")
        if not header:
            return
        value = parse_remaining_req(header, time.time())
        if value is not None:
            self._remaining[value.group] = value
            self._group_of[(method, path)] = value.group

    # -- HTTP core ---------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None,
        body: dict[str, str] | None,
        signed: bool,
        identifier: str | None = None,
    ) -> httpx.Response:
        """Sign (with a fresh nonce) and send one request; no retries here."""
        group = self._group(method, path)
        await self._wait_out_block(method, path, group)
        await self._respect_remaining(group)
        url = path
        if params:
            url = f"{path}?{wire_query(params)}"
        headers: dict[str, str] = {}
        content: bytes | None = None
        if body is not None:
            # The body bytes and the hash come from the same dict, in the same order.
            content = json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        if signed:
            if not self._secret_key:
                raise AuthError(f"{method} {path} needs API keys", name="no_keys")
            token = make_token(self._access_key, self._secret_key, body if body else params)
            headers["Authorization"] = f"Bearer {token}"
        limiter = self._limiters.get(group) or self._limiters["default"]
        async with (
            limiter.slot(),
            map_transport_errors(method, path, identifier=identifier),
        ):
            response = await self._http.request(method, url, content=content, headers=headers)
        self._record_remaining(method, path, response)
        logger.debug("Upbit %s %s -> %s", method, path, response.status_code)
        if response.status_code == 418:
            raise self._record_block(group, response)
        return response

    def _parse_ok(self, method: str, path: str, response: httpx.Response) -> Any:
        try:
            return _loads(response.text)
        except ValueError as exc:
            raise UpbitTransportError(
                f"{method} {path}: HTTP {response.status_code} with a body that is not JSON"
            ) from exc

    def _retry_delay(self, attempt: int, error: UpbitError) -> float | None:
        """Seconds to wait before retry number ``attempt`` (1-based); None: do not retry."""
        if attempt > self._max_read_retries:
            return None
        if not isinstance(error, UpbitTransportError | RateLimited | ServerError):
            return None  # any other 4xx would fail the same way again
        backoff = min(self._backoff_cap, self._backoff_base * 2.0 ** (attempt - 1))
        backoff *= random.uniform(0.5, 1.0)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            block = float(error.retry_after)
            if block > self._max_block_wait:
                return None  # blocked for long: tell the caller instead of hanging
            return max(block, backoff)
        return backoff

    async def _get(self, path: str, params: Params | None = None, *, signed: bool = True) -> Any:
        """GET with the read retry policy (module docstring); returns parsed JSON."""
        attempt = 0
        while True:
            try:
                response = await self._send("GET", path, params=params, body=None, signed=signed)
                if response.status_code >= 300:
                    raise error_from_response(response.status_code, response.content)
                return self._parse_ok("GET", path, response)
            except UpbitError as error:
                attempt += 1
                delay = self._retry_delay(attempt, error)
                if delay is None:
                    raise
                logger.warning(
                    "Upbit GET %s failed (%s %s); retry %d/%d in %.2f s",
                    path,
                    type(error).__name__,
                    error.name,
                    attempt,
                    self._max_read_retries,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _post_order(self, body: dict[str, str], identifier: str) -> Order:
        """POST /v1/orders exactly once (module docstring)."""
        response = await self._send(
            "POST", ORDER_PATH, params=None, body=body, signed=True, identifier=identifier
        )
        status = response.status_code
        if status >= 500:
            raise OrderOutcomeUnknown(
                f"POST {ORDER_PATH}: HTTP {status}; the order may exist", identifier=identifier
            )
        if (
            status >= 300
            and status not in (418, 429)
            and upbit_error_name(response.content) is None
        ):
            # Only Upbit's own JSON error says what became of the order; a proxy's page (an
            # HTML 404, 403, 408, 499 ...) proves nothing: look the order up by identifier.
            # The rate limiter's 429 may be plain text and refuses before any order is made.
            raise OrderOutcomeUnknown(
                f"POST {ORDER_PATH}: HTTP {status} without Upbit's error answer; the order may"
                " exist",
                identifier=identifier,
            )
        if status >= 300:
            error = error_from_response(status, response.content)
            if isinstance(error, DuplicatedIdentifier):
                raise OrderOutcomeUnknown(
                    f"POST {ORDER_PATH}: identifier already spent; an order may exist",
                    identifier=identifier,
                ) from error
            raise error
        try:
            data = _loads(response.text)
            return Order.from_json(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise OrderOutcomeUnknown(
                f"POST {ORDER_PATH}: HTTP {status} with an unreadable order; it likely exists",
                identifier=identifier,
            ) from exc

    async def _post_order_test(self, body: dict[str, str]) -> Order:
        """POST /v1/orders/test once: it creates nothing, so failures are plain errors."""
        response = await self._send("POST", ORDER_TEST_PATH, params=None, body=body, signed=True)
        if response.status_code >= 300:
            raise error_from_response(response.status_code, response.content)
        data = self._parse_object(self._parse_ok("POST", ORDER_TEST_PATH, response), "orders/test")
        return self._build("orders/test", Order.from_json, data)

    @staticmethod
    def _parse_list(data: Any, what: str) -> list[Mapping[str, Any]]:
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise UpbitTransportError(f"unexpected {what} response: expected a list of objects")
        return data

    @staticmethod
    def _parse_object(data: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(data, dict):
            raise UpbitTransportError(f"unexpected {what} response: expected an object")
        return data

    @staticmethod
    def _build(what: str, build: Callable[[Mapping[str, Any]], _T], data: Mapping[str, Any]) -> _T:
        try:
            return build(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise UpbitTransportError(f"unexpected {what} response: {exc!r}") from exc

    # -- exchange API --------------------------------------------------------------------------

    async def accounts(self) -> list[Account]:
        """``GET /v1/accounts``: balances of the key's pocket (KRW included)."""
        rows = self._parse_list(await self._get("/v1/accounts"), "accounts")
        return [self._build("accounts", Account.from_json, row) for row in rows]

    async def order_chance(self, market: str) -> OrderChance:
        """``GET /v1/orders/chance?market=``: fees, market rules and balances for one market."""
        data = self._parse_object(
            await self._get("/v1/orders/chance", {"market": market}), "orders/chance"
        )
        return self._build("orders/chance", OrderChance.from_json, data)

    def _order_body(self, identifier: str, **fields: str) -> dict[str, str]:
        """The JSON body of an order: ``fields`` in order, then ``smp_type`` and the
        identifier. Every order is built here, so none leaves without an explicit
        ``smp_type`` (module docstring)."""
        _check_identifier(identifier)
        return {**fields, "smp_type": self._smp_type, "identifier": identifier}

    async def sell_market(self, market: str, volume: Decimal, identifier: str) -> Order:
        """``POST /v1/orders`` market sell of ``volume``. Never retried (module docstring)."""
        body = self._order_body(
            identifier,
            market=market,
            side="ask",
            ord_type="market",
            volume=format_volume(volume),
        )
        return await self._post_order(body, identifier)

    async def check_sell_market(self, market: str, volume: Decimal, identifier: str) -> Order:
        """``POST /v1/orders/test``: Upbit validates the market sell, creates nothing.

        Use a throwaway ``identifier``, never the one of the real order: an identifier is
        single-use (https://docs.upbit.com/reference/%EC%A3%BC%EB%AC%B8%ED%95%98%EA%B8%B0),
        and a test order's cannot be looked up (https://docs.upbit.com/kr/reference/order-test).
        """
        body = self._order_body(
            identifier,
            market=market,
            side="ask",
            ord_type="market",
            volume=format_volume(volume),
        )
        return await self._post_order_test(body)

    async def limit_sell(
        self,
        market: str,
        volume: Decimal,
        price: Decimal,
        identifier: str,
        *,
        time_in_force: str | None = None,
    ) -> Order:
        """``POST /v1/orders`` limit sell at ``price`` (must be on the market's tick; see
        `tick_size`). ``time_in_force`` ``ioc`` executes what the book takes at ``price`` or
        better and cancels the rest; ``fok`` all or nothing. Never retried.

        https://docs.upbit.com/kr/reference/new-order
        """
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
            raise ValueError("price must be a positive, finite Decimal")
        if time_in_force is not None and time_in_force not in TIME_IN_FORCE:
            raise ValueError(f"time_in_force must be one of {sorted(TIME_IN_FORCE)}")
        fields = {
            "market": market,
            "side": "ask",
            "ord_type": "limit",
            "volume": format_volume(volume),
            "price": format(price.normalize(), "f"),
        }
        if time_in_force is not None:
            fields["time_in_force"] = time_in_force
        body = self._order_body(identifier, **fields)
        return await self._post_order(body, identifier)

    async def open_orders(
        self, *, page: int = 1, limit: int = OPEN_ORDERS_PAGE, market: str | None = None
    ) -> list[Order]:
        """``GET /v1/orders/open``: one page of the pocket's open orders (``wait`` and
        ``watch``), newest first, every market unless ``market``.

        https://docs.upbit.com/kr/reference/list-open-orders (page from 1, limit ≤ 100)
        """
        if page < 1 or not 1 <= limit <= OPEN_ORDERS_PAGE:
            raise ValueError("page must be >= 1 and limit within 1..100")
        params: dict[str, str | list[str]] = {}
        if market is not None:
            params["market"] = market
        params["states[]"] = ["wait", "watch"]
        params["page"] = str(page)
        params["limit"] = str(limit)
        rows = self._parse_list(await self._get("/v1/orders/open", params), "orders/open")
        return [self._build("orders/open", Order.from_json, row) for row in rows]

    async def orders_by_uuids(self, uuids: Sequence[str]) -> list[Order]:
        """``GET /v1/orders/uuids``: up to 100 orders in one call, without ``trades``.

        Orders Upbit does not know are simply absent from the answer.
        https://docs.upbit.com/kr/reference/list-orders-by-ids (uuids[] up to 100)
        """
        if not 1 <= len(uuids) <= ORDERS_BY_UUIDS_MAX:
            raise ValueError("between 1 and 100 uuids")
        params: dict[str, str | list[str]] = {"uuids[]": list(uuids)}
        rows = self._parse_list(await self._get("/v1/orders/uuids", params), "orders/uuids")
        return [self._build("orders/uuids", Order.from_json, row) for row in rows]

    async def cancel_order(self, *, uuid: str) -> Order:
        """``DELETE /v1/order?uuid=``: ask Upbit to cancel an open order. Sent once.

        The answer is the order as it was when the cancel was accepted (its state may still
        read ``wait``); the final figures come from ``GET /v1/order`` afterwards.
        https://docs.upbit.com/kr/reference/cancel-order
        """
        params = {"uuid": uuid}
        response = await self._send("DELETE", "/v1/order", params=params, body=None, signed=True)
        if response.status_code >= 300:
            raise error_from_response(response.status_code, response.content)
        data = self._parse_object(self._parse_ok("DELETE", "/v1/order", response), "order")
        return self._build("order", Order.from_json, data)

    async def get_order(self, *, uuid: str | None = None, identifier: str | None = None) -> Order:
        """``GET /v1/order`` by ``uuid`` or ``identifier`` (exactly one), with ``trades``."""
        if (uuid is None) == (identifier is None):
            raise ValueError("pass exactly one of uuid= or identifier=")
        params = {"uuid": uuid} if uuid is not None else {"identifier": str(identifier)}
        data = self._parse_object(await self._get("/v1/order", params), "order")
        return self._build("order", Order.from_json, data)

    async def api_keys(self) -> list[ApiKey]:
        """``GET /v1/api_keys``: the account's keys and their expiry (no permission needed)."""
        rows = self._parse_list(await self._get("/v1/api_keys"), "api_keys")
        return [self._build("api_keys", ApiKey.from_json, row) for row in rows]

    # -- quotation API (unsigned) ----------------------------------------------------------------

    async def tickers(self, markets: Sequence[str]) -> list[Ticker]:
        """``GET /v1/ticker?markets=A,B``: one call for many markets."""
        if not markets:
            return []
        data = await self._get("/v1/ticker", {"markets": ",".join(markets)}, signed=False)
        rows = self._parse_list(data, "ticker")
        return [self._build("ticker", Ticker.from_json, row) for row in rows]

    async def orderbooks(self, markets: Sequence[str]) -> list[Orderbook]:
        """``GET /v1/orderbook?markets=A,B``: best bids/asks, up to 30 levels."""
        if not markets:
            return []
        data = await self._get("/v1/orderbook", {"markets": ",".join(markets)}, signed=False)
        rows = self._parse_list(data, "orderbook")
        return [self._build("orderbook", Orderbook.from_json, row) for row in rows]

    async def orderbook_instruments(self, markets: Sequence[str]) -> list[OrderbookInstrument]:
        """``GET /v1/orderbook/instruments?markets=A,B``: each market's ``tick_size``.

        https://docs.upbit.com/kr/reference/list-orderbook-instruments
        """
        if not markets:
            return []
        data = await self._get(
            "/v1/orderbook/instruments", {"markets": ",".join(markets)}, signed=False
        )
        rows = self._parse_list(data, "orderbook/instruments")
        found = [
            self._build("orderbook/instruments", OrderbookInstrument.from_json, r) for r in rows
        ]
        now = time.monotonic()
        for item in found:
            self._ticks[item.market] = (item.tick_size, now)
        return found

    async def tick_size(self, market: str) -> Decimal:
        """The price step of ``market`` (cached for an hour): limit prices must be multiples
        of it, and prices are shown with its digits. Unknown market → `MarketNotFound`."""
        cached = self._ticks.get(market)
        if cached is not None and time.monotonic() - cached[1] < TICK_CACHE_SECONDS:
            return cached[0]
        try:
            found = await self.orderbook_instruments([market])
        except UpbitAPIError as exc:
            if exc.status == 404:  # the quotation API's answer for an unknown code
                raise MarketNotFound(str(exc), name="notfoundmarket", status=404) from exc
            raise
        for item in found:
            if item.market == market:
                return item.tick_size
        raise MarketNotFound(f"no tick size for {market}", name="notfoundmarket", status=404)

    async def markets(self) -> list[MarketInfo]:
        """``GET /v1/market/all?is_details=true``: every market with its warning flag."""
        data = await self._get("/v1/market/all", {"is_details": "true"}, signed=False)
        rows = self._parse_list(data, "market/all")
        return [self._build("market/all", MarketInfo.from_json, row) for row in rows]
