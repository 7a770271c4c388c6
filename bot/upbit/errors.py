"""Every way an Upbit call can fail, as one exception tree.

::

    UpbitError                      anything that went wrong talking to Upbit
    ├── UpbitTransportError         no usable answer (connect failure, timeout, bad JSON)
    │   └── OrderOutcomeUnknown     a POST /v1/orders was sent and its fate is unknown:
    │                               look the order up by .identifier, never resend blindly
    └── UpbitAPIError               Upbit answered with an error (.status, .name, .message)
        ├── AuthError               401 family: bad JWT, hash, nonce, unknown key
        │   ├── ExpiredKey          expired_access_key
        │   ├── IPNotAllowed        no_authorization_ip
        │   └── OutOfScope          the key lacks the permission
        ├── AgreementRequired       thirdparty_agreement_required: BTC/USDT markets need a
        │                           one-time consent in Upbit's app
        ├── OrderRejected           400: the order itself is not acceptable
        │   ├── InsufficientFunds   insufficient_funds_*
        │   ├── UnderMinTotal       under_min_total_*
        │   │   └── UnderMinTotalMarketAsk  a market sell valued at volume × best bid
        │   ├── OverMaxTotal        over_max_total_* / over_krw_funds_*
        │   ├── InvalidVolume       invalid_volume_*
        │   └── DuplicatedIdentifier  the identifier was spent by an earlier request
        │                           (refused ones included): an order may exist
        ├── InvalidRequest          400: validation_error, invalid_parameter, ...
        │   └── MarketNotFound      notfoundmarket
        ├── MarketOffline           403 market_offline (maintenance, not tradable)
        ├── OrderNotFound           404 order_not_found (Upbit's own JSON answer only)
        ├── NotFoundUnclear         any other 404 (HTML page, proxy): proves nothing
        ├── RateLimited             429 (or 418: blocked for a while); .retry_after seconds
        └── ServerError             5xx

Each error carries Upbit's ``name`` and ``message`` as it came; callers branch on the
class, never on the text. ``error_from_response`` is the one place that maps a response.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal


class UpbitError(Exception):
    """Base of every Upbit failure."""

    def __init__(self, message: str, *, name: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.status = status


class UpbitTransportError(UpbitError):
    """No usable answer. ``request_sent`` is False only when Upbit surely saw nothing."""

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message, name="transport_error")
        self.request_sent = request_sent


class OrderOutcomeUnknown(UpbitTransportError):
    """POST /v1/orders may or may not have created an order: look it up by identifier."""

    def __init__(self, message: str, *, identifier: str) -> None:
        super().__init__(message, request_sent=True)
        self.name = "outcome_unknown"
        self.identifier = identifier


class UpbitAPIError(UpbitError):
    """Upbit answered ``{"error": {"name", "message"}}`` (or a plain-text error)."""


class AuthError(UpbitAPIError):
    """The request was not authenticated: key, signature, hash or nonce."""


class ExpiredKey(AuthError):
    """The API key has expired; a new key must be issued on upbit.com."""


class IPNotAllowed(AuthError):
    """This machine's IP is not on the key's allowlist."""


class OutOfScope(AuthError):
    """The key lacks the permission this call needs."""


class AgreementRequired(UpbitAPIError):
    """BTC and USDT markets need a one-time consent (third-party data sharing) given in
    Upbit's app or website before the API may order there (Upbit notice of 2025-06-11,
    "[중요] BTC, USDT 마켓 주문 시 1회 동의 필수", listed at
    https://docs.upbit.com/kr/changelog?page=3; error name as ccxt's upbit.ts maps it)."""


class OrderRejected(UpbitAPIError):
    """Upbit refused to create the order; nothing was created by this request."""


class InsufficientFunds(OrderRejected):
    """Not enough orderable balance."""


class UnderMinTotal(OrderRejected):
    """The order's value is below the market's minimum."""


class UnderMinTotalMarketAsk(UnderMinTotal):
    """A market sell below the minimum, valued at volume × the best bid."""


class DuplicatedIdentifier(OrderRejected):
    """The identifier was already used by an earlier request, refused ones included
    (https://docs.upbit.com/kr/reference/new-order). This request created nothing, but the
    earlier one may have created an order: look it up by the identifier."""


class OverMaxTotal(OrderRejected):
    """The order's value is above the market's maximum."""


class InvalidVolume(OrderRejected):
    """The volume is not acceptable (precision, zero, too small)."""


class InvalidRequest(UpbitAPIError):
    """A parameter is missing or malformed."""


class MarketNotFound(InvalidRequest):
    """No such market."""


class MarketOffline(UpbitAPIError):
    """The market is under maintenance or not tradable right now."""


class OrderNotFound(UpbitAPIError):
    """No order with that uuid or identifier."""


class NotFoundUnclear(UpbitAPIError):
    """A 404 without Upbit's JSON error name (an HTML page, a proxy's bare 404). Only the
    JSON ``order_not_found`` says Upbit has no such order
    (https://docs.upbit.com/docs/api-주요-에러-코드-목록); this says nothing about it."""


class RateLimited(UpbitAPIError):
    """Too many requests (429), or blocked for a while after ignoring 429s (418)."""

    def __init__(
        self,
        message: str,
        *,
        name: str = "",
        status: int | None = None,
        retry_after: Decimal | None = None,
    ) -> None:
        super().__init__(message, name=name, status=status)
        self.retry_after = retry_after


class ServerError(UpbitAPIError):
    """Upbit failed (5xx)."""


ERROR_BY_NAME: dict[str, type[UpbitAPIError]] = {
    "jwt_verification": AuthError,
    "invalid_query_payload": AuthError,
    "nonce_used": AuthError,
    "invalid_access_key": AuthError,
    "no_authorization_token": AuthError,
    "expired_access_key": ExpiredKey,
    "no_authorization_ip": IPNotAllowed,
    "no_authorization_i_p": IPNotAllowed,
    "out_of_scope": OutOfScope,
    "thirdparty_agreement_required": AgreementRequired,
    "insufficient_funds_ask": InsufficientFunds,
    "insufficient_funds_bid": InsufficientFunds,
    "under_min_total_ask": UnderMinTotal,
    "under_min_total_bid": UnderMinTotal,
    "under_min_total_market_ask": UnderMinTotalMarketAsk,
    "over_max_total_market_ask": OverMaxTotal,
    "over_krw_funds_ask": OverMaxTotal,
    "over_krw_funds_bid": OverMaxTotal,
    "invalid_volume_ask": InvalidVolume,
    "invalid_volume_bid": InvalidVolume,
    "invalid_funds_bid": InvalidVolume,
    "duplicated_identifier": DuplicatedIdentifier,
    "create_ask_error": OrderRejected,
    "create_bid_error": OrderRejected,
    "invalid_price_ask": OrderRejected,
    "invalid_price_bid": OrderRejected,
    "invalid_time_in_force": OrderRejected,
    "validation_error": InvalidRequest,
    "invalid_parameter": InvalidRequest,
    "notfoundmarket": MarketNotFound,
    "market_offline": MarketOffline,
    "order_not_found": OrderNotFound,
}

_BY_STATUS: dict[int, type[UpbitAPIError]] = {
    401: AuthError,
    403: OutOfScope,
    404: NotFoundUnclear,
    418: RateLimited,
    429: RateLimited,
}

_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s|sec|초)", re.IGNORECASE)
# "blocked for 60 seconds", "1분 30초", "2 minutes", "1시간": each number with its unit.
_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)\s*(hours?|hrs?|h\b|시간|minutes?|mins?|m\b|분|seconds?|secs?|s\b|초)",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"h": 3600, "시": 3600, "m": 60, "분": 60, "s": 1, "초": 1}


def stated_block_seconds(text: str) -> float | None:
    """The block time an answer states in words (a 418's message, JSON or plain), in seconds.

    Upbit says a 418 comes "with the block time" but documents no format
    (https://docs.upbit.com/kr/reference/rate-limits): read numbers with their units,
    English or Korean, and add them up ("1분 30초" is 90 s). None when there is none."""
    total = 0.0
    found = False
    for number, unit in _DURATION.findall(text):
        total += float(number) * _UNIT_SECONDS[unit[0].lower()]
        found = True
    return total if found else None


def upbit_error_name(body: bytes | str) -> str | None:
    """The error name of Upbit's own JSON error answer (``{"error": {"name": ...}}``), or
    None when the body is something else: an HTML page or plain text from a proxy, say."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    name = error.get("name") if isinstance(error, dict) else None
    return str(name) if isinstance(name, str | int) and str(name) else None


def error_from_response(status: int, body: bytes | str) -> UpbitAPIError:
    """Map an error answer to the most specific class; tolerates non-JSON bodies."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    name = ""
    message = text.strip()[:500]
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        name = str(data["error"].get("name", ""))
        message = str(data["error"].get("message", "")) or message
    cls: type[UpbitAPIError] = (
        ERROR_BY_NAME.get(name)
        or _BY_STATUS.get(status)
        or (ServerError if status >= 500 else InvalidRequest)
    )
    if status in (418, 429):
        cls = RateLimited
    if cls is RateLimited:
        match = _SECONDS.search(message)
        retry = Decimal(match.group(1)) if match else None
        return RateLimited(
            message or "rate limited", name=name or str(status), status=status, retry_after=retry
        )
    return cls(message or f"HTTP {status}", name=name or str(status), status=status)
