"""Upbit request signing: the hashed query string and the JWT.

Every private call carries ``Authorization: Bearer <JWT>``; see
https://docs.upbit.com/kr/reference/auth . The JWT holds
``access_key`` and a fresh uuid4 ``nonce`` (single use, so never cache or reuse a token),
plus ``query_hash``/``query_hash_alg`` when the request has parameters. The hash input is
the *unquoted* ``k=v&k=v`` string in request order: for GET the query string as sent,
for POST the JSON body's items in body order, built from the same dict that is sent.

The token is signed HS512 with the raw secret string, as Upbit's auth page recommends.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeAlias
from urllib.parse import unquote, urlencode

from jwt import PyJWS
from jwt.algorithms import HMACAlgorithm

__all__ = ["ParamValue", "Params", "make_token", "query_string", "wire_query"]

ParamValue: TypeAlias = str | int | Decimal | Sequence[str]
Params: TypeAlias = Mapping[str, ParamValue]

JWT_ALGORITHM = "HS512"


class _UpbitHS512(HMACAlgorithm):
    """HS512 without PyJWT's short-key warning.

    Upbit issues 40-character secrets; RFC 7518 recommends a key as long as the hash
    (64 bytes for SHA-512), so PyJWT would warn on every token. The key length is
    Upbit's choice, not ours, and the warning would only be noise.
    """

    def check_key_length(self, key: bytes) -> str | None:
        return None


# A private JWS instance: registering the algorithm here leaves PyJWT's global registry
# (used by anyone else in the process) untouched.
_JWS = PyJWS(algorithms=[])
_JWS.register_algorithm(JWT_ALGORITHM, _UpbitHS512(HMACAlgorithm.SHA512))


def _items(params: Params) -> list[tuple[str, str | list[str]]]:
    items: list[tuple[str, str | list[str]]] = []
    for key, value in params.items():
        if isinstance(value, str):
            items.append((key, value))
        elif isinstance(value, bool):
            items.append((key, "true" if value else "false"))
        elif isinstance(value, Decimal):
            items.append((key, format(value, "f")))
        elif isinstance(value, int):
            items.append((key, str(value)))
        else:
            items.append((key, [str(v) for v in value]))
    return items


def wire_query(params: Params) -> str:
    """The percent-encoded query string sent on the wire; decodes to `query_string`."""
    return urlencode(_items(params), doseq=True)


def query_string(params: Params) -> str:
    """The string Upbit hashes: unquoted ``k=v&k=v``, arrays as ``k[]=a&k[]=b``, in order.

    Array parameter names already end with ``[]`` and take a list of values; comma lists
    (``markets=A,B``) are a single string.
    """
    return unquote(wire_query(params))


def make_token(access_key: str, secret_key: str, params: Params | None = None) -> str:
    """A freshly signed JWT for one request; ``params`` is the query or the JSON body dict."""
    payload: dict[str, Any] = {"access_key": access_key, "nonce": str(uuid.uuid4())}
    if params:
        payload["query_hash"] = hashlib.sha512(query_string(params).encode("utf-8")).hexdigest()
        payload["query_hash_alg"] = "SHA512"
    return _JWS.encode(
        json.dumps(payload, separators=(",", ":")).encode("utf-8"),
        secret_key,
        algorithm=JWT_ALGORITHM,
        headers={"typ": "JWT"},
    )
