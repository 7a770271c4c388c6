"""UpbitClient: unit checks over httpx.MockTransport, then the real thing against the stand-in.

The MockTransport section pins the request the client builds (hash, body, headers) and the
retry policy with exact control over answers; the stand-in section runs every endpoint and
failure mode over real HTTP against a server that verifies signatures and nonces.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import jwt
import pytest

from bot.upbit import (
    AuthError,
    ExpiredKey,
    InsufficientFunds,
    InvalidRequest,
    InvalidVolume,
    IPNotAllowed,
    MarketOffline,
    OrderNotFound,
    OrderOutcomeUnknown,
    OutOfScope,
    RateLimited,
    ServerError,
    UnderMinTotal,
    UpbitTransportError,
)
from bot.upbit.client import UpbitClient, format_volume, parse_remaining_req
from tests.standins.upbit import RecordedRequest, UpbitStandIn

ACCESS = "AKEYaccess0123456789abcdefghijklmnopqrstu"
SECRET = "SECRETsecret0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij"

ORDER_JSON: dict[str, Any] = {
    "uuid": "9ca023a5-851b-4fec-9f0a-48cd83c2eaae",
    "side": "ask",
    "ord_type": "market",
    "state": "wait",
    "market": "KRW-BTC",
    "created_at": "2026-01-01T00:00:00+09:00",
    "volume": "0.00000001",
    "remaining_volume": "0.00000001",
    "executed_volume": "0",
    "paid_fee": "0",
    "locked": "0.00000001",
    "trades_count": 0,
    "identifier": "usb-1",
}

Handler = Callable[[httpx.Request], httpx.Response]


def mock_client(handler: Handler, **kwargs: Any) -> UpbitClient:
    kwargs.setdefault("backoff_base", 0.001)
    kwargs.setdefault("backoff_cap", 0.01)
    return UpbitClient(ACCESS, SECRET, transport=httpx.MockTransport(handler), **kwargs)


def claims(request: httpx.Request) -> dict[str, Any]:
    token = request.headers["Authorization"].removeprefix("Bearer ")
    return jwt.decode(token, SECRET, algorithms=["HS512"])


class Recorder:
    """A scripted Upbit: answers in order (the last one repeats) and keeps every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


# -- request building ---------------------------------------------------------------------


async def test_sell_market_body_hash_and_headers() -> None:
    rec = Recorder(httpx.Response(201, json=ORDER_JSON))
    async with mock_client(rec) as client:
        order = await client.sell_market("KRW-BTC", Decimal("0.00000001"), "usb-1")
    assert order.uuid == ORDER_JSON["uuid"]
    assert order.volume == Decimal("0.00000001")
    (request,) = rec.requests
    assert request.method == "POST"
    assert request.url.path == "/v1/orders"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "origin" not in request.headers
    body = request.content.decode()
    assert json.loads(body) == {
        "market": "KRW-BTC",
        "side": "ask",
        "ord_type": "market",
        "volume": "0.00000001",
        "smp_type": "cancel_maker",
        "identifier": "usb-1",
    }
    assert '"volume":"0.00000001"' in body
    expected = (
        "market=KRW-BTC&side=ask&ord_type=market&volume=0.00000001"
        "&smp_type=cancel_maker&identifier=usb-1"
    )
    c = claims(request)
    assert c["query_hash"] == hashlib.sha512(expected.encode()).hexdigest()
    assert c["access_key"] == ACCESS


async def test_get_query_on_wire_matches_hash() -> None:
    rec = Recorder(httpx.Response(200, json=[ORDER_JSON]))
    async with mock_client(rec) as client:
        orders = await client.open_orders(market="KRW-BTC", page=2, limit=5)
    assert [o.uuid for o in orders] == [ORDER_JSON["uuid"]]
    (request,) = rec.requests
    assert request.url.path == "/v1/orders/open"
    assert request.url.query == (
        b"market=KRW-BTC&states%5B%5D=wait&states%5B%5D=watch&page=2&limit=5"
    )
    expected = "market=KRW-BTC&states[]=wait&states[]=watch&page=2&limit=5"
    assert claims(request)["query_hash"] == hashlib.sha512(expected.encode()).hexdigest()


async def test_quotation_is_unsigned_and_parsed_without_float() -> None:
    body = '[{"market":"KRW-BTC","trade_price":0.1,"signed_change_rate":-0.0123,"timestamp":1}]'
    rec = Recorder(httpx.Response(200, text=body))
    async with mock_client(rec) as client:
        (ticker,) = await client.tickers(["KRW-BTC", "KRW-ETH"])
    assert ticker.trade_price == Decimal("0.1")
    assert ticker.signed_change_rate == Decimal("-0.0123")
    request = rec.requests[0]
    assert "authorization" not in request.headers
    assert request.url.params["markets"] == "KRW-BTC,KRW-ETH"


@pytest.mark.parametrize(
    "volume",
    [Decimal(0), Decimal(-1), Decimal("0.000000001"), Decimal("NaN"), Decimal("Infinity")],
)
async def test_invalid_volume_is_refused_before_sending(volume: Decimal) -> None:
    rec = Recorder(httpx.Response(201, json=ORDER_JSON))
    async with mock_client(rec) as client:
        with pytest.raises(ValueError, match="volume"):
            await client.sell_market("KRW-BTC", volume, "usb-1")
    assert rec.requests == []


def test_format_volume_is_plain() -> None:
    assert format_volume(Decimal("1E-8")) == "0.00000001"
    assert format_volume(Decimal("1.50000000")) == "1.5"
    assert format_volume(Decimal("1E+3")) == "1000"
    assert format_volume(Decimal("0.100000000")) == "0.1"


# -- error mapping and retries ---------------------------------------------------------------


async def test_get_retries_429_then_succeeds_with_fresh_nonces() -> None:
    rec = Recorder(
        httpx.Response(429, text="Too many API requests."),
        httpx.Response(500, json={"error": {"name": "server_error", "message": "x"}}),
        httpx.Response(200, json=[]),
    )
    async with mock_client(rec) as client:
        assert await client.accounts() == []
    assert len(rec.requests) == 3
    assert len({claims(r)["nonce"] for r in rec.requests}) == 3


async def test_get_gives_up_after_max_retries() -> None:
    rec = Recorder(httpx.Response(503, text="down"))
    async with mock_client(rec, max_read_retries=2) as client:
        with pytest.raises(ServerError):
            await client.accounts()
    assert len(rec.requests) == 3


async def test_get_does_not_retry_other_4xx() -> None:
    rec = Recorder(httpx.Response(404, json={"error": {"name": "order_not_found", "message": ""}}))
    async with mock_client(rec) as client:
        with pytest.raises(OrderNotFound):
            await client.get_order(uuid="nope")
    assert len(rec.requests) == 1


async def test_long_418_block_is_raised_not_waited() -> None:
    rec = Recorder(httpx.Response(418, text="blocked for 600 sec"))
    async with mock_client(rec) as client:
        with pytest.raises(RateLimited) as info:
            await client.accounts()
    assert info.value.retry_after == Decimal(600)
    assert len(rec.requests) == 1


async def test_get_retries_transport_errors_then_raises_them() -> None:
    rec = Recorder(httpx.ConnectError("refused"))
    async with mock_client(rec, max_read_retries=1) as client:
        with pytest.raises(UpbitTransportError) as info:
            await client.accounts()
    assert info.value.request_sent is False
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert len(rec.requests) == 2


async def test_invalid_json_on_2xx_is_a_transport_error() -> None:
    rec = Recorder(httpx.Response(200, text="<html>maintenance</html>"))
    async with mock_client(rec, max_read_retries=0) as client:
        with pytest.raises(UpbitTransportError):
            await client.accounts()


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, text="oops"),
        httpx.Response(201, text="not json"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=["500", "201-garbage", "read-timeout", "dropped"],
)
async def test_post_ambiguous_outcome_is_never_retried(answer: httpx.Response | Exception) -> None:
    rec = Recorder(answer, httpx.Response(201, json=ORDER_JSON))
    async with mock_client(rec) as client:
        with pytest.raises(OrderOutcomeUnknown) as info:
            await client.sell_market("KRW-BTC", Decimal("1"), "usb-1")
    assert info.value.identifier == "usb-1"
    assert len(rec.requests) == 1


async def test_post_connect_error_means_not_sent() -> None:
    rec = Recorder(httpx.ConnectError("refused"), httpx.Response(201, json=ORDER_JSON))
    async with mock_client(rec) as client:
        with pytest.raises(UpbitTransportError) as info:
            await client.sell_market("KRW-BTC", Decimal("1"), "usb-1")
    assert not isinstance(info.value, OrderOutcomeUnknown)
    assert info.value.request_sent is False
    assert len(rec.requests) == 1


async def test_post_429_is_rate_limited_and_not_retried() -> None:
    rec = Recorder(httpx.Response(429, text="Too many API requests."))
    async with mock_client(rec) as client:
        with pytest.raises(RateLimited):
            await client.sell_market("KRW-BTC", Decimal("1"), "usb-1")
    assert len(rec.requests) == 1


# -- Remaining-Req ------------------------------------------------------------------------


def test_parse_remaining_req_with_hyphenated_group() -> None:
    value = parse_remaining_req("group=order-test; min=1800; sec=7", 0.0)
    assert value is not None
    assert (value.group, value.sec) == ("order-test", 7)
    assert parse_remaining_req("garbage", 0.0) is None


class WallClock:
    """Stands in for the client module's ``time``: a fixed wall clock, the real monotonic."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.monotonic = time.monotonic

    def time(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("answered_at", "asked_at", "wait"),
    [
        (1_767_225_600.2, 1_767_225_600.95, "0.050"),  # same second: wait for the next one
        (1_767_225_600.2, 1_767_225_601.01, None),  # already the next second: no wait
    ],
)
async def test_exhausted_group_waits_for_the_next_second(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    answered_at: float,
    asked_at: float,
    wait: str | None,
) -> None:
    clock = WallClock(answered_at)
    monkeypatch.setattr("bot.upbit.client.time", clock)
    rec = Recorder(
        httpx.Response(200, json=[], headers={"Remaining-Req": "group=default; min=1800; sec=0"})
    )
    caplog.set_level("DEBUG", logger="bot.upbit.client")
    async with mock_client(rec) as client:
        await client.accounts()
        assert client.remaining("default") == 0
        clock.now = asked_at
        await client.api_keys()
    waits = [r.getMessage() for r in caplog.records if "exhausted" in r.getMessage()]
    expected = [] if wait is None else [f"rate-limit group default exhausted; waiting {wait} s"]
    assert waits == expected
    assert len(rec.requests) == 2


# -- secrets --------------------------------------------------------------------------------


async def test_repr_and_errors_do_not_leak_keys() -> None:
    rec = Recorder(
        httpx.Response(401, json={"error": {"name": "jwt_verification", "message": ""}})
    )
    async with mock_client(rec) as client:
        text = repr(client) + str(client)
        assert SECRET not in text
        assert ACCESS not in text
        assert ACCESS[:4] in text
        assert ACCESS[:5] not in text
        with pytest.raises(AuthError) as info:
            await client.accounts()
    assert SECRET not in str(info.value)
    assert ACCESS not in str(info.value)


def test_constructor_rejects_half_a_key_pair() -> None:
    with pytest.raises(ValueError):
        UpbitClient("", SECRET)
    with pytest.raises(ValueError):
        UpbitClient(ACCESS, "")


async def test_public_client_reads_quotes_and_sends_no_private_call() -> None:
    rec = Recorder(httpx.Response(200, json=[]))
    async with UpbitClient.public(transport=httpx.MockTransport(rec)) as client:
        assert await client.markets() == []
        with pytest.raises(AuthError):
            await client.accounts()
        with pytest.raises(AuthError):
            await client.sell_market("KRW-BTC", Decimal("0.01"), "usb-public")
    assert [r.url.path for r in rec.requests] == ["/v1/market/all"]
    assert "Authorization" not in rec.requests[0].headers


async def test_get_order_needs_exactly_one_id() -> None:
    rec = Recorder(httpx.Response(200, json=ORDER_JSON))
    async with mock_client(rec) as client:
        with pytest.raises(ValueError):
            await client.get_order()
        with pytest.raises(ValueError):
            await client.get_order(uuid="a", identifier="b")
    assert rec.requests == []


async def test_bad_request_maps_to_invalid_request() -> None:
    rec = Recorder(httpx.Response(400, json={"error": {"name": 400, "message": "Type mismatch"}}))
    async with mock_client(rec) as client:
        with pytest.raises(InvalidRequest):
            await client.markets()


async def test_limit_sell_body() -> None:
    rec = Recorder(httpx.Response(201, json=ORDER_JSON))
    async with mock_client(rec) as client:
        await client.limit_sell("KRW-BTC", Decimal("0.5"), Decimal("100000000"), "usb-2")
    body = json.loads(rec.requests[0].content)
    assert body == {
        "market": "KRW-BTC",
        "side": "ask",
        "ord_type": "limit",
        "volume": "0.5",
        "price": "100000000",
        "smp_type": "cancel_maker",
        "identifier": "usb-2",
    }


# ===========================================================================================
# Against the Upbit stand-in: real HTTP, signature / nonce / query_hash verified server-side.
# ===========================================================================================


async def wait_for_requests(
    stand: UpbitStandIn, method: str, path: str, count: int, *, timeout: float
) -> list[RecordedRequest]:
    deadline = time.monotonic() + timeout
    while True:
        found = stand.requests_to(method, path)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.02)


def standin_client(stand: UpbitStandIn, **kwargs: Any) -> UpbitClient:
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("backoff_base", 0.01)
    kwargs.setdefault("backoff_cap", 0.05)
    return UpbitClient(stand.access_key, stand.secret_key, base_url=stand.url, **kwargs)


async def test_standin_read_endpoints(upbit_standin: UpbitStandIn) -> None:
    async with standin_client(upbit_standin) as client:
        accounts = {a.currency: a for a in await client.accounts()}
        assert accounts["BTC"].balance == Decimal("0.1")
        assert accounts["KRW"].balance == Decimal(1_000_000)

        chance = await client.order_chance("KRW-BTC")
        assert chance.market.id == "KRW-BTC"
        assert chance.ask_fee == Decimal("0.0005")
        assert chance.market.ask.min_total == Decimal(5000)
        assert chance.ask_account.balance == Decimal("0.1")

        tickers = await client.tickers(["KRW-BTC", "KRW-ETH"])
        assert {t.market for t in tickers} == {"KRW-BTC", "KRW-ETH"}
        assert all(isinstance(t.trade_price, Decimal) for t in tickers)

        books = {b.market: b for b in await client.orderbooks(["KRW-BTC", "KRW-XRP"])}
        assert books["KRW-BTC"].best_bid == Decimal(100_000_000)
        assert books["KRW-XRP"].units[0].bid_size == Decimal(10_000)

        markets = {m.market for m in await client.markets()}
        assert {"KRW-BTC", "KRW-ETH", "KRW-XRP"} <= markets

        (key,) = await client.api_keys()
        assert key.access_key == upbit_standin.access_key

    ticker_calls = upbit_standin.requests_to("GET", "/v1/ticker")
    assert len(ticker_calls) == 1
    assert ticker_calls[0].query["markets"] == ["KRW-BTC,KRW-ETH"]
    assert upbit_standin.requests_to("GET", "/v1/market/all")[0].query["is_details"] == ["true"]
    for request in upbit_standin.requests:
        assert request.header("origin") is None
        assert request.status == 200


async def test_standin_sell_market_then_lookups(upbit_standin: UpbitStandIn) -> None:
    async with standin_client(upbit_standin) as client:
        placed = await client.sell_market("KRW-XRP", Decimal("100"), "usb-sell-1")
        assert placed.identifier == "usb-sell-1"
        assert placed.side == "ask"
        assert placed.ord_type == "market"

        by_uuid = await client.get_order(uuid=placed.uuid)
        by_identifier = await client.get_order(identifier="usb-sell-1")
        assert by_uuid.uuid == by_identifier.uuid == placed.uuid
        assert by_uuid.state == "done"
        assert by_uuid.executed_volume == Decimal(100)
        assert by_uuid.gross_funds == Decimal(80_000)  # 100 XRP at the best bid, 800

        checked = await client.check_sell_market("KRW-XRP", Decimal("100"), "usb-probe-1")
        assert checked.uuid != placed.uuid

        assert client.remaining("order") is not None
        assert client.remaining("default") is not None

    (post,) = upbit_standin.requests_to("POST", "/v1/orders")
    assert post.status == 201
    assert post.header("content-type") == "application/json; charset=utf-8"
    assert post.header("origin") is None


async def test_standin_tiny_volume_sent_as_plain_string(upbit_standin: UpbitStandIn) -> None:
    async with standin_client(upbit_standin) as client:
        with pytest.raises(UnderMinTotal):  # 1 satoshi at 100M KRW is 1 KRW
            await client.sell_market("KRW-BTC", Decimal("0.00000001"), "usb-tiny")
    (post,) = upbit_standin.requests_to("POST", "/v1/orders")
    assert post.body["volume"] == "0.00000001"
    assert post.status == 400


async def test_standin_remaining_req_is_tracked(upbit_standin: UpbitStandIn) -> None:
    async with standin_client(upbit_standin) as client:
        assert client.remaining("default") is None
        await client.accounts()
        first = client.remaining("default")
        await client.accounts()
        second = client.remaining("default")
        await client.tickers(["KRW-BTC"])
    # The stand-in counts a sliding second per group (default 30/s, ticker 10/s): each call
    # within the second uses one, and the client keeps exactly what the header said.
    assert (first, second) == (29, 28)
    assert client.remaining("ticker") == 9


# -- every mapped error over the wire ---------------------------------------------------------


async def _sell(client: UpbitClient, volume: str = "100") -> object:
    return await client.sell_market("KRW-XRP", Decimal(volume), "usb-err")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("insufficient_funds_ask", InsufficientFunds),
        ("under_min_total_market_ask", UnderMinTotal),
        ("invalid_volume_ask", InvalidVolume),
        ("market_offline", MarketOffline),
        ("expired_access_key", ExpiredKey),
        ("no_authorization_ip", IPNotAllowed),
        ("out_of_scope", OutOfScope),
        ("429", RateLimited),
    ],
)
async def test_standin_injected_order_errors(
    upbit_standin: UpbitStandIn, kind: str, expected: type[Exception]
) -> None:
    upbit_standin.fail_next("POST", "/v1/orders", kind)
    async with standin_client(upbit_standin) as client:
        with pytest.raises(expected) as info:
            await _sell(client)
    assert not isinstance(info.value, OrderOutcomeUnknown)
    assert len(upbit_standin.requests_to("POST", "/v1/orders")) == 1
    assert upbit_standin.orders == {}


async def test_standin_natural_order_errors(upbit_standin: UpbitStandIn) -> None:
    async with standin_client(upbit_standin) as client:
        with pytest.raises(InsufficientFunds):
            await client.sell_market("KRW-XRP", Decimal(2001), "usb-e1")
        with pytest.raises(UnderMinTotal):
            await client.sell_market("KRW-XRP", Decimal(1), "usb-e2")
        upbit_standin.set_market_state("KRW-ETH", "offline")
        with pytest.raises(MarketOffline):
            await client.sell_market("KRW-ETH", Decimal("0.1"), "usb-e3")
        with pytest.raises(OrderNotFound):
            await client.get_order(uuid="00000000-0000-0000-0000-000000000000")
        with pytest.raises(OrderNotFound):
            await client.get_order(identifier="usb-never-sent")
    assert upbit_standin.orders == {}


async def test_standin_key_problems(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.scopes = {"view_account"}
    async with standin_client(upbit_standin) as client:
        await client.accounts()
        with pytest.raises(OutOfScope):
            await client.order_chance("KRW-BTC")
        with pytest.raises(OutOfScope):
            await _sell(client)
        upbit_standin.api_key_expire_at = datetime.now(UTC) - timedelta(days=1)
        with pytest.raises(ExpiredKey):
            await client.accounts()
    # Auth errors are 4xx: never retried.
    assert len(upbit_standin.requests_to("GET", "/v1/accounts")) == 2


async def test_standin_plain_text_429_on_get_then_success(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.fail_next("GET", "/v1/accounts", "429")
    upbit_standin.fail_next("GET", "/v1/orders/chance", "502")
    async with standin_client(upbit_standin) as client:
        assert await client.accounts()
        assert (await client.order_chance("KRW-BTC")).market.id == "KRW-BTC"
    calls = upbit_standin.requests_to("GET", "/v1/accounts")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].response_text == "Too many API requests."
    assert calls[0].jwt_payload is not None and calls[1].jwt_payload is not None
    assert calls[0].jwt_payload["nonce"] != calls[1].jwt_payload["nonce"]
    assert [c.status for c in upbit_standin.requests_to("GET", "/v1/orders/chance")] == [502, 200]


async def test_standin_429_exhausts_retries(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.fail_next("GET", "/v1/accounts", "429", times=5)
    async with standin_client(upbit_standin, max_read_retries=2) as client:
        with pytest.raises(RateLimited):
            await client.accounts()
    assert len(upbit_standin.requests_to("GET", "/v1/accounts")) == 3


async def test_standin_long_418_is_raised_at_once(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.fail_next("GET", "/v1/accounts", "418")
    async with standin_client(upbit_standin) as client:
        with pytest.raises(RateLimited) as info:
            await client.accounts()
    assert info.value.status == 418
    assert info.value.retry_after == Decimal(60)
    assert len(upbit_standin.requests_to("GET", "/v1/accounts")) == 1


async def test_standin_dropped_get_is_retried(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.fail_next("GET", "/v1/api_keys", "drop")
    async with standin_client(upbit_standin) as client:
        assert await client.api_keys()
    assert [c.status for c in upbit_standin.requests_to("GET", "/v1/api_keys")] == [None, 200]


# -- the order POST is never retried ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["500", "502", "drop", "drop_after_create", "slow"])
async def test_standin_post_never_retried(upbit_standin: UpbitStandIn, kind: str) -> None:
    upbit_standin.slow_seconds = 1.0
    upbit_standin.fail_next("POST", "/v1/orders", kind)
    async with standin_client(upbit_standin, timeout=0.3) as client:
        with pytest.raises(OrderOutcomeUnknown) as info:
            await client.sell_market("KRW-XRP", Decimal(100), "usb-ambiguous")
    assert info.value.identifier == "usb-ambiguous"
    assert info.value.request_sent is True
    # A slow answer is recorded only once the stand-in is done with it.
    posts = await wait_for_requests(upbit_standin, "POST", "/v1/orders", 1, timeout=3.0)
    await asyncio.sleep(0.1)  # room for a (wrong) retry to arrive
    assert len(posts) == len(upbit_standin.requests_to("POST", "/v1/orders")) == 1


@pytest.mark.parametrize("kind", ["drop_after_create", "slow"])
async def test_standin_unknown_outcome_order_can_be_found(
    upbit_standin: UpbitStandIn, kind: str
) -> None:
    upbit_standin.slow_seconds = 1.0
    upbit_standin.fail_next("POST", "/v1/orders", kind)
    async with standin_client(upbit_standin, timeout=0.3) as client:
        with pytest.raises(OrderOutcomeUnknown) as info:
            await client.sell_market("KRW-XRP", Decimal(100), "usb-lost-answer")
        found = await client.get_order(identifier=info.value.identifier)
    assert found.identifier == "usb-lost-answer"
    assert found.executed_volume == Decimal(100)
    assert len(upbit_standin.orders) == 1


async def test_standin_connect_refused_means_not_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with UpbitClient(ACCESS, SECRET, base_url=f"http://127.0.0.1:{port}") as client:
        with pytest.raises(UpbitTransportError) as info:
            await client.sell_market("KRW-XRP", Decimal(100), "usb-refused")
    assert not isinstance(info.value, OrderOutcomeUnknown)
    assert info.value.request_sent is False


# -- authentication verified by the stand-in ----------------------------------------------------


class TamperingTransport(httpx.AsyncBaseTransport):
    """Changes the query after signing, as a meddling proxy would."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_set_param("market", "KRW-ETH")
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_standin_rejects_tampered_query(upbit_standin: UpbitStandIn) -> None:
    async with standin_client(upbit_standin, transport=TamperingTransport()) as client:
        with pytest.raises(AuthError) as info:
            await client.order_chance("KRW-BTC")
    assert info.value.name == "invalid_query_payload"
    (call,) = upbit_standin.requests_to("GET", "/v1/orders/chance")
    assert call.status == 401


async def test_standin_rejects_wrong_secret(upbit_standin: UpbitStandIn) -> None:
    async with UpbitClient(
        upbit_standin.access_key, "not-the-secret", base_url=upbit_standin.url
    ) as client:
        with pytest.raises(AuthError) as info:
            await client.accounts()
    assert info.value.name == "jwt_verification"


async def test_standin_repr_masks_keys(upbit_standin: UpbitStandIn) -> None:
    async with standin_client(upbit_standin) as client:
        text = repr(client)
    assert upbit_standin.secret_key not in text
    assert upbit_standin.access_key not in text
    assert "test***" in text
