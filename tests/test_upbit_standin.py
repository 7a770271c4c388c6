"""The Upbit stand-in, exercised with plain httpx + PyJWT + websockets (not the bot's client)."""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlencode

import httpx
import jwt
import pytest
import websockets.asyncio.client
import websockets.sync.client
from jwt.warnings import InsecureKeyLengthWarning
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.standins.fixtures import upbit_standin  # noqa: F401
from tests.standins.upbit import UpbitStandIn

AK = "test-access-key"
SK = "test-secret-key"

# One SSL context for every client: building one per httpx.Client costs ~50 ms.
SSL_CONTEXT = ssl.create_default_context()

Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


def sha512(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()


def qs(params: Params) -> str:
    return unquote(urlencode(params, doseq=True))


def auth(
    params: Params | None = None,
    *,
    hashed: str | None = None,
    nonce: str | None = None,
    alg: str = "HS512",
    secret: str = SK,
    access_key: str = AK,
) -> dict[str, str]:
    payload: dict[str, Any] = {"access_key": access_key, "nonce": nonce or str(uuid.uuid4())}
    if hashed is None and params:
        hashed = qs(params)
    if hashed is not None:
        payload["query_hash"] = sha512(hashed)
        payload["query_hash_alg"] = "SHA512"
    with warnings.catch_warnings():
        # The default secret is 15 bytes; PyJWT warns when signing with it (module doc).
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        token = jwt.encode(payload, secret, algorithm=alg)
    return {"Authorization": "Bearer " + token}


def sell_body(volume: str = "0.05", market: str = "KRW-BTC", **extra: Any) -> dict[str, Any]:
    return {"market": market, "side": "ask", "ord_type": "market", "volume": volume, **extra}


def post_order(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post("/v1/orders", json=body, headers=auth(body))


def get_order(client: httpx.Client, **params: str) -> httpx.Response:
    return client.get("/v1/order", params=params, headers=auth(params))


def error_name(response: httpx.Response) -> Any:
    return response.json()["error"]["name"]


@pytest.fixture
def stand(upbit_standin: UpbitStandIn) -> UpbitStandIn:  # noqa: F811
    return upbit_standin


@pytest.fixture
def client(stand: UpbitStandIn) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stand.url, timeout=5, verify=SSL_CONTEXT) as c:
        yield c


# ------------------------------------------------------------------------------------ auth


def test_accounts_with_valid_token(stand: UpbitStandIn, client: httpx.Client) -> None:
    r = client.get("/v1/accounts", headers=auth())
    assert r.status_code == 200
    rows = {a["currency"]: a for a in r.json()}
    assert rows["BTC"]["balance"] == "0.1"
    assert rows["KRW"] == {
        "currency": "KRW",
        "balance": "1000000",
        "locked": "0",
        "avg_buy_price": "0",
        "avg_buy_price_modified": False,
        "unit_currency": "KRW",
    }
    assert r.headers["Remaining-Req"] == "group=default; min=1800; sec=29"


@pytest.mark.parametrize("alg", ["HS256", "HS512"])
def test_both_algorithms_accepted(client: httpx.Client, alg: str) -> None:
    params = {"market": "KRW-BTC"}
    r = client.get("/v1/orders/chance", params=params, headers=auth(params, alg=alg))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ask_fee"] == "0.0005"
    assert body["market"]["ask"] == {"currency": "BTC", "min_total": "5000"}
    assert "market" in body["market"]["ask_types"]
    assert body["ask_account"]["balance"] == "0.1"
    assert body["bid_account"]["currency"] == "KRW"


@pytest.mark.parametrize(
    ("headers", "name"),
    [
        ({}, "no_authorization_token"),
        (auth(secret="wrong-secret-key"), "jwt_verification"),
        ({"Authorization": "Bearer not.a.jwt"}, "jwt_verification"),
        (auth(access_key="someone-else"), "invalid_access_key"),
        (auth(hashed="market=KRW-BTC"), "invalid_query_payload"),  # hash on a param-less call
    ],
)
def test_auth_errors(client: httpx.Client, headers: dict[str, str], name: str) -> None:
    r = client.get("/v1/accounts", headers=headers)
    assert r.status_code == 401
    assert error_name(r) == name
    assert isinstance(r.json()["error"]["message"], str)


def test_tampered_query_is_rejected(client: httpx.Client) -> None:
    headers = auth({"market": "KRW-ETH"})
    r = client.get("/v1/orders/chance", params={"market": "KRW-BTC"}, headers=headers)
    assert r.status_code == 401
    assert error_name(r) == "invalid_query_payload"


def test_params_without_query_hash_are_rejected(client: httpx.Client) -> None:
    r = client.get("/v1/orders/chance", params={"market": "KRW-BTC"}, headers=auth())
    assert (r.status_code, error_name(r)) == (401, "invalid_query_payload")


def test_reused_nonce_is_rejected(client: httpx.Client) -> None:
    nonce = str(uuid.uuid4())
    assert client.get("/v1/accounts", headers=auth(nonce=nonce)).status_code == 200
    r = client.get("/v1/accounts", headers=auth(nonce=nonce))
    assert (r.status_code, error_name(r)) == (401, "nonce_used")


def test_array_params_hash_decoded_with_brackets(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    u1 = post_order(client, sell_body("0.01", identifier="a-1")).json()["uuid"]
    u2 = post_order(client, sell_body("0.01", identifier="a-2")).json()["uuid"]
    params = [("uuids[]", u1), ("uuids[]", u2)]
    r = client.get("/v1/orders/uuids", params=params, headers=auth(params))
    assert r.status_code == 200, r.text
    recorded = stand.last_request("GET", "/v1/orders/uuids")
    assert recorded is not None
    assert recorded.query_string.count("uuids%5B%5D=") == 2
    assert {o["uuid"] for o in r.json()} == {u1, u2}
    assert all(o["executed_funds"] == "1000000" for o in r.json())

    by_ids = {"identifiers[]": ["a-2"]}
    r = client.get("/v1/orders/uuids", params=by_ids, headers=auth(by_ids))
    assert [o["uuid"] for o in r.json()] == [u2]

    # The percent-encoded form is not what Upbit hashes.
    wrong = auth(hashed=urlencode(params))
    r = client.get("/v1/orders/uuids", params=params, headers=wrong)
    assert error_name(r) == "invalid_query_payload"


def test_post_hash_follows_body_key_order(client: httpx.Client) -> None:
    body = sell_body("0.01")
    reordered = dict(reversed(list(body.items())))
    r = client.post(
        "/v1/orders",
        content=json.dumps(reordered),
        headers={**auth(body), "Content-Type": "application/json"},
    )
    assert (r.status_code, error_name(r)) == (401, "invalid_query_payload")
    r = client.post(
        "/v1/orders",
        content=json.dumps(reordered),
        headers={**auth(reordered), "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text


# ------------------------------------------------------------------------------------ orders


def test_market_sell_fills_with_exact_decimal_arithmetic(
    stand: UpbitStandIn, client: httpx.Client
) -> None:
    stand.set_orderbook(
        "KRW-BTC",
        bids=[(Decimal(100_000_000), Decimal("0.05")), (Decimal(99_990_000), Decimal("0.1"))],
    )
    r = post_order(client, sell_body("0.08", identifier="fill-1"))
    assert r.status_code == 201
    created = r.json()
    assert created["state"] == "wait"
    assert created["volume"] == "0.08"
    assert created["identifier"] == "fill-1"
    assert "price" not in created

    order = get_order(client, uuid=created["uuid"]).json()
    assert order["state"] == "done"
    assert order["executed_volume"] == "0.08"
    assert order["remaining_volume"] == "0"
    assert order["locked"] == "0"
    assert order["trades_count"] == 2
    trades = order["trades"]
    assert [(t["price"], t["volume"], t["funds"]) for t in trades] == [
        ("100000000", "0.05", "5000000"),
        ("99990000", "0.03", "2999700"),
    ]
    gross = sum(Decimal(t["funds"]) for t in trades)
    assert gross == Decimal("7999700")
    assert Decimal(order["paid_fee"]) == Decimal("3999.85")  # 7,999,700 × 0.0005

    assert stand.account("KRW").balance == Decimal("1000000") + Decimal("7995700.15")  # type: ignore[union-attr]
    btc = stand.account("BTC")
    assert btc is not None
    assert (btc.balance, btc.locked) == (Decimal("0.02"), Decimal(0))
    assert get_order(client, identifier="fill-1").json()["uuid"] == created["uuid"]


def test_selling_everything_removes_the_row(stand: UpbitStandIn, client: httpx.Client) -> None:
    assert post_order(client, sell_body("0.1")).status_code == 201
    assert stand.account("BTC") is None


@pytest.mark.parametrize(
    ("body", "status", "name"),
    [
        (sell_body(market="KRW-NOPE"), 400, "notfoundmarket"),
        (sell_body(price="100000000"), 400, "create_ask_error"),
        (sell_body("0.2"), 400, "insufficient_funds_ask"),
        (sell_body("0.00004"), 400, "under_min_total_market_ask"),  # 4,000 KRW < 5,000
        (sell_body("0"), 400, "invalid_volume_ask"),
        (sell_body("-0.01"), 400, "invalid_volume_ask"),
        (sell_body("abc"), 400, "invalid_volume_ask"),
        (sell_body("0.000000001"), 400, "invalid_volume_ask"),  # 9 decimals
        (sell_body("1E-8"), 400, "invalid_volume_ask"),  # str(Decimal) bug
        ({"market": "KRW-BTC", "ord_type": "market", "volume": "0.01"}, 400, "validation_error"),
    ],
)
def test_order_validation(
    stand: UpbitStandIn,
    client: httpx.Client,
    body: dict[str, Any],
    status: int,
    name: str,
) -> None:
    r = post_order(client, body)
    assert (r.status_code, error_name(r)) == (status, name), r.text
    assert stand.orders == {}
    assert stand.account("BTC").balance == Decimal("0.1")  # type: ignore[union-attr]


def test_market_offline_and_reused_identifier(stand: UpbitStandIn, client: httpx.Client) -> None:
    stand.set_market_state("KRW-ETH", "offline")
    r = post_order(client, sell_body("0.01", market="KRW-ETH"))
    assert (r.status_code, error_name(r)) == (403, "market_offline")

    assert post_order(client, sell_body("0.01", identifier="once")).status_code == 201
    r = post_order(client, sell_body("0.01", identifier="once"))
    assert (r.status_code, error_name(r)) == (400, "duplicated_identifier")
    assert len(stand.orders) == 1


def test_locked_until_filled_and_partial_fill(stand: UpbitStandIn, client: httpx.Client) -> None:
    stand.auto_fill = False
    created = post_order(client, sell_body("0.08")).json()
    btc = stand.account("BTC")
    assert btc is not None
    assert (btc.balance, btc.locked) == (Decimal("0.02"), Decimal("0.08"))
    assert get_order(client, uuid=created["uuid"]).json()["state"] == "wait"

    order = stand.fill_order(created["uuid"], partial=True)
    assert order.state == "cancel"
    assert order.executed_volume == Decimal("0.04")
    assert order.remaining_volume == Decimal("0.04")
    btc = stand.account("BTC")
    assert btc is not None
    assert (btc.balance, btc.locked) == (Decimal("0.06"), Decimal(0))
    # 0.04 at the best bid 100,000,000 = 4,000,000 gross, fee 2,000.
    assert stand.account("KRW").balance == Decimal("1000000") + Decimal("3998000")  # type: ignore[union-attr]
    rest = get_order(client, uuid=created["uuid"]).json()
    assert (rest["state"], rest["executed_volume"]) == ("cancel", "0.04")


def test_fill_delay(stand: UpbitStandIn, client: httpx.Client) -> None:
    stand.fill_delay = 0.2
    created = post_order(client, sell_body("0.01")).json()
    assert get_order(client, uuid=created["uuid"]).json()["state"] == "wait"
    deadline = time.monotonic() + 3
    while get_order(client, uuid=created["uuid"]).json()["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_cancel_open_order(stand: UpbitStandIn, client: httpx.Client) -> None:
    stand.auto_fill = False
    created = post_order(client, sell_body("0.01")).json()
    params = {"uuid": created["uuid"]}
    r = client.delete("/v1/order", params=params, headers=auth(params))
    assert r.status_code == 200
    assert stand.order(created["uuid"]).state == "cancel"  # type: ignore[union-attr]
    assert stand.account("BTC").balance == Decimal("0.1")  # type: ignore[union-attr]
    r = get_order(client, uuid=str(uuid.uuid4()))
    assert (r.status_code, error_name(r)) == (404, "order_not_found")


# ------------------------------------------------------------------------------- quotation


def test_quotation_endpoints(client: httpx.Client) -> None:
    r = client.get("/v1/ticker", params={"markets": "KRW-BTC,KRW-XRP"})
    assert r.status_code == 200
    assert r.headers["Remaining-Req"].startswith("group=ticker; min=1800; sec=")
    tickers = json.loads(r.text, parse_float=Decimal)
    assert [(t["market"], t["trade_price"]) for t in tickers] == [
        ("KRW-BTC", 100_000_000),
        ("KRW-XRP", 800),
    ]
    r = client.get("/v1/ticker", params={"markets": "KRW-NOPE"})
    assert r.status_code == 404
    assert r.json() == {"error": {"name": 404, "message": "Code not found"}}

    books = client.get("/v1/orderbook", params={"markets": "KRW-ETH"}).json()
    units = books[0]["orderbook_units"]
    assert len(units) == 30
    assert units[0] == {"ask_price": 5001000, "bid_price": 5000000, "ask_size": 2, "bid_size": 2}

    markets = client.get("/v1/market/all", params={"is_details": "true"}).json()
    assert {m["market"] for m in markets} == {"KRW-BTC", "KRW-ETH", "KRW-XRP"}
    assert markets[0]["market_event"]["warning"] is False


# ------------------------------------------------------------------------------ rate limits


def test_rate_limit_answers_429_in_plain_text(stand: UpbitStandIn, client: httpx.Client) -> None:
    statuses = [client.get("/v1/ticker", params={"markets": "KRW-BTC"}) for _ in range(11)]
    assert [r.status_code for r in statuses[:10]] == [200] * 10
    assert statuses[9].headers["Remaining-Req"] == "group=ticker; min=1800; sec=0"
    last = statuses[10]
    assert last.status_code == 429
    assert last.text == "Too many API requests."
    assert stand.rate_limited_count == 1

    stand.rate_limit_enabled = False
    assert all(
        client.get("/v1/ticker", params={"markets": "KRW-BTC"}).status_code == 200
        for _ in range(12)
    )


# ------------------------------------------------------------------------- failure injection


@pytest.mark.parametrize(
    ("kind", "status", "json_name"),
    [
        ("429", 429, None),
        ("418", 418, None),
        ("500", 500, "server_error"),
        ("502", 502, None),
        ("market_offline", 403, "market_offline"),
        ("expired_access_key", 401, "expired_access_key"),
        ("no_authorization_ip", 401, "no_authorization_ip"),
        ("insufficient_funds_ask", 400, "insufficient_funds_ask"),
        ("under_min_total_market_ask", 400, "under_min_total_market_ask"),
        ("invalid_volume_ask", 400, "invalid_volume_ask"),
        ("out_of_scope", 403, "out_of_scope"),
    ],
)
def test_injected_failures(
    stand: UpbitStandIn,
    client: httpx.Client,
    kind: str,
    status: int,
    json_name: str | None,
) -> None:
    stand.fail_next("POST", "/v1/orders", kind)
    r = post_order(client, sell_body("0.01"))
    assert r.status_code == status
    assert "Remaining-Req" in r.headers
    if json_name is not None:
        assert error_name(r) == json_name
    assert stand.orders == {}
    assert post_order(client, sell_body("0.01")).status_code == 201  # only once


def test_injected_drop(stand: UpbitStandIn, client: httpx.Client) -> None:
    stand.fail_next("GET", "/v1/accounts", "drop", times=2)
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/v1/accounts", headers=auth())
    assert client.get("/v1/accounts", headers=auth()).status_code == 200
    assert [r.status for r in stand.requests_to("GET", "/v1/accounts")] == [None, None, 200]


def test_injected_drop_after_create(stand: UpbitStandIn, client: httpx.Client) -> None:
    stand.fail_next("POST", "/v1/orders", "drop_after_create")
    with pytest.raises(httpx.RemoteProtocolError):
        post_order(client, sell_body("0.01", identifier="lost-1"))
    r = get_order(client, identifier="lost-1")
    assert r.status_code == 200
    assert r.json()["state"] == "done"


def test_injected_slow(stand: UpbitStandIn, client: httpx.Client) -> None:
    stand.slow_seconds = 0.5
    stand.fail_next("POST", "/v1/orders", "slow")
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            "/v1/orders", json=sell_body("0.01", identifier="slow-1"), timeout=0.2,
            headers=auth(sell_body("0.01", identifier="slow-1")),
        )  # fmt: skip
    assert stand.order_by_identifier("slow-1") is not None
    stand.fail_next("GET", "/v1/accounts", "slow")
    started = time.monotonic()
    assert client.get("/v1/accounts", headers=auth()).status_code == 200
    assert time.monotonic() - started >= 0.45


# ------------------------------------------------------------------------------- recording


def test_recording(stand: UpbitStandIn, client: httpx.Client) -> None:
    client.get("/v1/ticker", params={"markets": "KRW-BTC"})
    body = sell_body("0.01", identifier="rec-1")
    post_order(client, body)
    calls = stand.private_calls()
    assert [(c.method, c.path, c.status) for c in calls] == [("POST", "/v1/orders", 201)]
    assert calls[0].body == {**body, "volume": "0.01"}
    assert calls[0].jwt_payload is not None
    assert calls[0].jwt_payload["access_key"] == AK
    assert calls[0].header("authorization").startswith("Bearer ")  # type: ignore[union-attr]
    assert stand.requests_to("GET", "/v1/ticker")[0].query == {"markets": ["KRW-BTC"]}
    stand.clear_requests()
    assert stand.requests == []


# ------------------------------------------------------------------------------- websocket


def ws_headers() -> dict[str, str]:
    return auth()


def subscribe(ws: websockets.sync.client.ClientConnection, codes: list[str] | None = None) -> None:
    order: dict[str, Any] = {"type": "myOrder"}
    if codes is not None:
        order["codes"] = codes
    ws.send(json.dumps([{"ticket": str(uuid.uuid4())}, order, {"format": "DEFAULT"}]))


def test_ws_rejects_bad_tokens(stand: UpbitStandIn) -> None:
    url = stand.ws_url + "/private"
    nonce = str(uuid.uuid4())
    for headers, status in [
        ({}, 401),
        (auth(secret="wrong-secret"), 401),
        (auth(nonce=nonce), None),
        (auth(nonce=nonce), 401),  # nonce reused
    ]:
        if status is None:
            with websockets.sync.client.connect(url, additional_headers=headers):
                pass
            continue
        with pytest.raises(InvalidStatus) as info:
            websockets.sync.client.connect(url, additional_headers=headers)
        assert info.value.response.status_code == status
    assert stand.ws_connections_made == 1
    assert stand.ws_rejected_count == 3


def test_ws_delivers_order_events(stand: UpbitStandIn, client: httpx.Client) -> None:
    with websockets.sync.client.connect(
        stand.ws_url + "/private", additional_headers=ws_headers()
    ) as ws:
        subscribe(ws, ["KRW-BTC"])
        assert stand.wait_for_ws_subscribers(1)
        post_order(client, sell_body("0.01", market="KRW-ETH"))  # other market: filtered
        stand.set_orderbook(
            "KRW-BTC",
            bids=[(Decimal(100_000_000), Decimal("0.05")), (Decimal(99_990_000), Decimal(1))],
        )
        created = post_order(client, sell_body("0.08", identifier="ws-1")).json()
        events = []
        for _ in range(4):
            frame = ws.recv(timeout=5)
            assert isinstance(frame, bytes)  # binary frames, like Upbit
            events.append(json.loads(frame, parse_float=Decimal))
        ws.send("PING")
        assert json.loads(ws.recv(timeout=5)) == {"status": "UP"}

    assert [e["state"] for e in events] == ["wait", "trade", "trade", "done"]
    assert {e["uuid"] for e in events} == {created["uuid"]}
    assert all(e["type"] == "myOrder" and e["stream_type"] == "REALTIME" for e in events)
    assert all(e["identifier"] == "ws-1" and e["ask_bid"] == "ASK" for e in events)
    first_trade, second_trade, done = events[1:]
    assert (first_trade["price"], first_trade["volume"]) == (100_000_000, Decimal("0.05"))
    assert (second_trade["price"], second_trade["volume"]) == (99_990_000, Decimal("0.03"))
    assert second_trade["trade_uuid"] and second_trade["is_maker"] is False
    assert done["executed_volume"] == Decimal("0.08")
    assert done["executed_funds"] == 7_999_700
    assert done["paid_fee"] == Decimal("3999.85")
    assert done["remaining_volume"] == 0


def test_ws_controls(stand: UpbitStandIn) -> None:
    url = stand.ws_url + "/private"
    with websockets.sync.client.connect(url, additional_headers=ws_headers()) as ws:
        subscribe(ws)
        assert stand.wait_for_ws_subscribers(1)
        assert stand.drop_ws_connections() == 1
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)

    stand.ws_enabled = False
    with pytest.raises(InvalidStatus) as info:
        websockets.sync.client.connect(url, additional_headers=ws_headers())
    assert info.value.response.status_code == 503
    stand.ws_enabled = True

    stand.ws_idle_timeout = 0.4
    with websockets.sync.client.connect(url, additional_headers=ws_headers()) as ws:
        started = time.monotonic()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
        assert 0.3 < time.monotonic() - started < 3
    assert stand.ws_connections_made == 2


async def test_async_clients_in_the_test_loop(stand: UpbitStandIn) -> None:
    async with (
        httpx.AsyncClient(base_url=stand.url, verify=SSL_CONTEXT) as client,
        websockets.asyncio.client.connect(
            stand.ws_url + "/private", additional_headers=ws_headers()
        ) as ws,
    ):
        await ws.send(json.dumps([{"ticket": "t"}, {"type": "myOrder"}]))
        while stand.ws_subscriber_count < 1:
            await ws.send("PING")
            await ws.recv()
        body = sell_body("0.01")
        r = await client.post("/v1/orders", json=body, headers=auth(body))
        assert r.status_code == 201
        states = [json.loads(await ws.recv())["state"] for _ in range(3)]
        assert states == ["wait", "trade", "done"]


# ------------------------------------------------------------------------------ lifecycle


def test_stop_joins_threads_with_open_keepalive_connections() -> None:
    before = set(threading.enumerate())
    stand = UpbitStandIn()
    stand.seed_basic()
    stand.start()
    url = stand.ws_url + "/private"
    with (
        httpx.Client(base_url=stand.url, verify=SSL_CONTEXT) as client,
        websockets.sync.client.connect(url, additional_headers=auth()) as ws,
    ):
        subscribe(ws)
        assert client.get("/v1/accounts", headers=auth()).status_code == 200
        started = time.monotonic()
        stand.stop()
        assert time.monotonic() - started < 5
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    for thread in set(threading.enumerate()) - before:  # the clients' own threads
        thread.join(5)
    assert set(threading.enumerate()) <= before


def test_command_line_demo() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.standins.upbit", "--port", "0", "--seed", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(2))
        assert lines["UPBIT_WS_URL"].endswith("/websocket/v1")
        with httpx.Client(base_url=lines["UPBIT_API_URL"], verify=SSL_CONTEXT) as client:
            markets = client.get("/v1/market/all").json()
            assert "KRW-DOGE" in {m["market"] for m in markets}
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
        assert proc.stdout is not None
        proc.stdout.close()
