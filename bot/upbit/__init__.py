"""Upbit API access: REST client, private WebSocket, signing, models and errors.

Nothing here imports python-telegram-bot, SQLAlchemy or other ``bot`` packages.
"""

from __future__ import annotations

from bot.upbit.auth import make_token, query_string
from bot.upbit.client import DEFAULT_BASE_URL, RemainingReq, UpbitClient
from bot.upbit.errors import (
    AuthError,
    ExpiredKey,
    InsufficientFunds,
    InvalidRequest,
    InvalidVolume,
    IPNotAllowed,
    MarketNotFound,
    MarketOffline,
    OrderNotFound,
    OrderOutcomeUnknown,
    OrderRejected,
    OutOfScope,
    OverMaxTotal,
    RateLimited,
    ServerError,
    UnderMinTotal,
    UpbitAPIError,
    UpbitError,
    UpbitTransportError,
    error_from_response,
)
from bot.upbit.models import (
    Account,
    ApiKey,
    MarketInfo,
    MyOrderEvent,
    Order,
    Orderbook,
    OrderbookInstrument,
    OrderbookUnit,
    OrderChance,
    Ticker,
    Trade,
)
from bot.upbit.ws import DEFAULT_WS_URL, MyOrderStream

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_WS_URL",
    "Account",
    "ApiKey",
    "AuthError",
    "ExpiredKey",
    "IPNotAllowed",
    "InsufficientFunds",
    "InvalidRequest",
    "InvalidVolume",
    "MarketInfo",
    "MarketNotFound",
    "MarketOffline",
    "MyOrderEvent",
    "MyOrderStream",
    "Order",
    "OrderChance",
    "OrderNotFound",
    "OrderOutcomeUnknown",
    "OrderRejected",
    "Orderbook",
    "OrderbookInstrument",
    "OrderbookUnit",
    "OutOfScope",
    "OverMaxTotal",
    "RateLimited",
    "RemainingReq",
    "ServerError",
    "Ticker",
    "Trade",
    "UnderMinTotal",
    "UpbitAPIError",
    "UpbitClient",
    "UpbitError",
    "UpbitTransportError",
    "error_from_response",
    "make_token",
    "query_string",
]
