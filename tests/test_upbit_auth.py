"""Signing: the hashed query string and the JWT claims (pure functions, no server)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
import warnings
from decimal import Decimal

import jwt
import pytest

from bot.upbit.auth import Params, make_token, query_string, wire_query

ACCESS = "test-access-key-0123456789abcdefghijklmnop"
# PyJWT itself warns when verifying HS512 with a key shorter than 64 bytes, so the tests
# that decode with PyJWT use a long secret; `test_realistic_short_secret_*` covers Upbit's
# 40-character secrets with a hand-rolled HMAC check.
SECRET = "s" * 64 + "-long-enough-for-hs512-verification"


def decode(token: str, secret: str = SECRET) -> dict[str, object]:
    return jwt.decode(token, secret, algorithms=["HS512"])


def sha512_hex(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()


def test_query_string_arrays_repeat_the_key_in_order() -> None:
    params: Params = {"market": "KRW-BTC", "states[]": ["wait", "watch"], "limit": 10}
    assert query_string(params) == "market=KRW-BTC&states[]=wait&states[]=watch&limit=10"
    # The wire form is percent-encoded and decodes to the hashed form.
    assert wire_query(params) == "market=KRW-BTC&states%5B%5D=wait&states%5B%5D=watch&limit=10"


def test_query_string_keeps_insertion_order_and_comma_lists() -> None:
    assert query_string({"markets": "KRW-ETH,KRW-BTC", "a": "1"}) == "markets=KRW-ETH,KRW-BTC&a=1"
    assert query_string({"b": "2", "a": "1"}) == "b=2&a=1"


def test_query_string_formats_decimals_plainly() -> None:
    assert query_string({"volume": Decimal("0.00000001")}) == "volume=0.00000001"


def test_token_with_get_params_has_expected_query_hash() -> None:
    params: Params = {"market": "KRW-BTC", "states[]": ["wait", "watch"], "limit": 10}
    claims = decode(make_token(ACCESS, SECRET, params))
    assert claims["access_key"] == ACCESS
    assert claims["query_hash"] == sha512_hex(
        "market=KRW-BTC&states[]=wait&states[]=watch&limit=10"
    )
    assert claims["query_hash_alg"] == "SHA512"
    uuid.UUID(str(claims["nonce"]))  # a real uuid


def test_token_for_post_body_hashes_body_items_in_body_order() -> None:
    body = {
        "market": "KRW-XRP",
        "side": "ask",
        "ord_type": "market",
        "volume": "0.00000001",
        "identifier": "sell-123",
    }
    claims = decode(make_token(ACCESS, SECRET, body))
    assert claims["query_hash"] == sha512_hex(
        "market=KRW-XRP&side=ask&ord_type=market&volume=0.00000001&identifier=sell-123"
    )


def test_token_without_params_has_no_query_hash() -> None:
    empty: Params = {}
    for params in (None, empty):
        claims = decode(make_token(ACCESS, SECRET, params))
        assert set(claims) == {"access_key", "nonce"}


def test_token_header_is_hs512() -> None:
    header = jwt.get_unverified_header(make_token(ACCESS, SECRET))
    assert header["alg"] == "HS512"
    assert header["typ"] == "JWT"


def test_every_token_has_a_fresh_nonce() -> None:
    nonces = {decode(make_token(ACCESS, SECRET))["nonce"] for _ in range(20)}
    assert len(nonces) == 20


def test_signature_uses_the_raw_secret() -> None:
    token = make_token(ACCESS, SECRET)
    with pytest.raises(jwt.InvalidSignatureError):
        decode(token, SECRET + "x")
    # Not base64-decoded: a secret that happens to be valid base64 is used as text.
    b64_secret = base64.b64encode(b"k" * 64).decode()
    assert decode(make_token(ACCESS, b64_secret), b64_secret)["access_key"] == ACCESS


def test_realistic_short_secret_signs_hs512_without_warning() -> None:
    secret = "0123456789abcdefghijABCDEFGHIJ0123456789"  # 40 chars, like Upbit's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        token = make_token(ACCESS, secret, {"market": "KRW-BTC"})
    header_b64, payload_b64, sig_b64 = token.split(".")
    expected = hmac.new(
        secret.encode(), f"{header_b64}.{payload_b64}".encode(), hashlib.sha512
    ).digest()
    assert base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4)) == expected
    payload = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    assert payload["query_hash"] == sha512_hex("market=KRW-BTC")
