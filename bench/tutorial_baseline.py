"""The baseline: Upbit's blocking market-sell tutorial, as written there (``requests`` +
PyJWT), pointed at the Upbit stand-in instead of api.upbit.com.

accounts → order chance → create order (50 % of the balance) → get order, one plain
``requests.get``/``requests.post`` per step (no session: a new connection every call, as in
the tutorial). `run_once` times each step with ``time.perf_counter()``.

The tutorial's ``_create_jwt``/``_build_query_string`` come from Upbit's auth recipe; the
token is HS512 here. With a secret shorter than 64 bytes PyJWT warns
(``InsecureKeyLengthWarning``) on every token: the warning is silenced around the calls.
"""

from __future__ import annotations

import hashlib
import time
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import unquote, urlencode

import jwt  # PyJWT
import requests
from jwt.warnings import InsecureKeyLengthWarning

STEPS = ("accounts", "order_chance", "create_order", "get_order")


@dataclass
class Tutorial:
    """The tutorial's module-level globals (keys, base URL) as one object."""

    access_key: str
    secret_key: str
    base_url: str  # "https://api.upbit.com" in the tutorial

    # -- the tutorial's auth helpers --------------------------------------------------------

    def _build_query_string(self, params: Mapping[str, Any]) -> str:
        return unquote(urlencode(params, doseq=True))

    def _create_jwt(self, access_key: str, secret_key: str, query_string: str = "") -> str:
        payload: dict[str, Any] = {"access_key": access_key, "nonce": str(uuid.uuid4())}
        if query_string:
            query_hash = hashlib.sha512(query_string.encode("utf-8")).hexdigest()
            payload["query_hash"] = query_hash
            payload["query_hash_alg"] = "SHA512"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            return jwt.encode(payload, secret_key, algorithm="HS512")

    # -- the tutorial's four functions --------------------------------------------------------

    def get_pair_and_balance_from_account(self, currency: str) -> Mapping[str, Any]:
        jwt_token = self._create_jwt(self.access_key, self.secret_key)
        url = f"{self.base_url}/v1/accounts"
        headers = {
            "Authorization": f"Bearer {jwt_token}",
            "Content-Type": "application/json",
        }
        response = requests.get(url, headers=headers).json()
        market_pair = [item for item in response if item.get("currency") == currency]
        if len(market_pair) == 0:
            raise ValueError(f"Currency {currency} is not found")
        pair = market_pair[0]
        return {
            "pair": f"{pair.get('unit_currency')}-{pair.get('currency')}",
            "balance": pair.get("balance"),
        }

    def get_order_chance(self, market: str) -> Mapping[str, Any]:
        params = {"market": market}
        query_string = self._build_query_string(params)
        jwt_token = self._create_jwt(self.access_key, self.secret_key, query_string)
        url = f"{self.base_url}/v1/orders/chance"
        headers = {
            "Authorization": f"Bearer {jwt_token}",
            "Content-Type": "application/json",
        }
        response = requests.get(url, headers=headers, params=params).json()
        min_total = response.get("market").get("ask").get("min_total")
        ask_types = response.get("market").get("ask_types")
        if "market" not in ask_types:
            raise ValueError(f"This pair does not support market order. {ask_types}")
        return {"order_type_market": True, "min_total": min_total}

    def create_order(self, market: str, volume: str) -> str:
        body = {"market": market, "side": "ask", "ord_type": "market", "volume": volume}
        query_string = self._build_query_string(body)
        jwt_token = self._create_jwt(self.access_key, self.secret_key, query_string)
        url = f"{self.base_url}/v1/orders"
        headers = {
            "Authorization": f"Bearer {jwt_token}",
            "Content-Type": "application/json",
        }
        response = requests.post(url, headers=headers, json=body).json()
        order_uuid = response.get("uuid")
        if order_uuid is None:
            raise ValueError(f"Please check the response. {response}")
        return str(order_uuid)

    def get_order(self, order_uuid: str) -> Mapping[str, Any]:
        params = {"uuid": order_uuid}
        query_string = self._build_query_string(params)
        jwt_token = self._create_jwt(self.access_key, self.secret_key, query_string)
        url = f"{self.base_url}/v1/order"
        headers = {
            "Authorization": f"Bearer {jwt_token}",
            "Content-Type": "application/json",
        }
        response: Mapping[str, Any] = requests.get(url, headers=headers, params=params).json()
        return response

    # -- the tutorial's __main__, timed ------------------------------------------------------

    def run_once(self, currency: str = "BTC") -> dict[str, float]:
        """One full tutorial flow; seconds per step plus ``total`` and ``to_post_done``
        (accounts + chance + create order: the work the bot's preview + Confirm does)."""
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        account_info = self.get_pair_and_balance_from_account(currency)
        t1 = time.perf_counter()
        market_pair = str(account_info.get("pair"))
        balance = account_info.get("balance")
        order_chance = self.get_order_chance(market_pair)
        t2 = time.perf_counter()
        fifty_percent_volume = str(
            (Decimal(str(balance)) * Decimal("0.5")).quantize(Decimal("1e-8"), rounding=ROUND_DOWN)
        )
        if not order_chance["order_type_market"]:
            raise ValueError(f"This pair does not support market order. {order_chance}")
        order_uuid = self.create_order(market_pair, fifty_percent_volume)
        t3 = time.perf_counter()
        order_info = self.get_order(order_uuid)
        t4 = time.perf_counter()
        if order_info.get("uuid") != order_uuid:
            raise ValueError(f"unexpected order: {order_info}")
        times["accounts"] = t1 - t0
        times["order_chance"] = t2 - t1
        times["create_order"] = t3 - t2
        times["get_order"] = t4 - t3
        times["to_post_done"] = t3 - t0
        times["total"] = t4 - t0
        return times
