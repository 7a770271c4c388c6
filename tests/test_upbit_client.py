"""UpbitClient: unit checks over httpx.MockTransport, then the real thing against the stand-in.

The MockTransport section pins the request the client builds (hash, body, headers) and the
retry policy with exact control over answers; the stand-in section runs every endpoint and
failure mode over real HTTP against a server that verifies signatures and nonces.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import jwt
import pytest

from bot.upbit import (
    AuthError,
    InvalidRequest,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    ServerError,
    UpbitClient,
    UpbitTransportError,
)
from bot.upbit.client import format_volume, parse_remaining_req

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
        "identifier": "usb-1",
    }
    assert '"volume":"0.00000001"' in body
    expected = "market=KRW-BTC&side=ask&ord_type=market&volume=0.00000001&identifier=usb-1"
    c = claims(request)
    assert c["query_hash"] == hashlib.sha512(expected.encode()).hexdigest()
    assert c["access_key"] == ACCESS


async def test_get_query_on_wire_matches_hash() -> None:
    rec = Recorder(httpx.Response(200, json=[ORDER_JSON]))
    async with mock_client(rec) as client:
        orders = await client.orders_by_ids(identifiers=["a-1", "b-2"], market="KRW-BTC")
    assert [o.uuid for o in orders] == [ORDER_JSON["uuid"]]
    (request,) = rec.requests
    assert request.url.path == "/v1/orders/uuids"
    assert request.url.query == b"market=KRW-BTC&identifiers%5B%5D=a-1&identifiers%5B%5D=b-2"
    expected = "market=KRW-BTC&identifiers[]=a-1&identifiers[]=b-2"
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


async def test_exhausted_group_waits_for_next_second() -> None:
    rec = Recorder(
        httpx.Response(200, json=[], headers={"Remaining-Req": "group=default; min=1800; sec=0"})
    )
    async with mock_client(rec) as client:
        await client.accounts()
        first = time.time()
        assert client.remaining("default") == 0
        await client.api_keys()
        second = time.time()
    assert int(second) > int(first)
    assert second - first <= 1.1


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


def test_constructor_rejects_missing_keys() -> None:
    with pytest.raises(ValueError):
        UpbitClient("", SECRET)


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
