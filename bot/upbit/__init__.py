"""Upbit API access; knows nothing of the bot (no python-telegram-bot, no SQLAlchemy, no
other ``bot`` package).

- `bot.upbit.models` and `bot.upbit.errors`: Upbit's answers and refusals as plain types.
  They are also the vocabulary of the service layer's ports (`bot.services.ports`), so this
  package face re-exports them and nothing else: importing it loads no transport.
- `bot.upbit.client.UpbitClient` (REST over httpx, signing in `bot.upbit.auth`) and
  `bot.upbit.ws.MyOrderStream` (the private WebSocket): import them from their modules.
- `bot.upbit.rules`: Upbit's published trading rules (minimum order total, fees).
"""

from __future__ import annotations

from bot.upbit.errors import (
    AgreementRequired,
    AuthError,
    DuplicatedIdentifier,
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
    UnderMinTotalMarketAsk,
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

__all__ = [
    "Account",
    "AgreementRequired",
    "ApiKey",
    "AuthError",
    "DuplicatedIdentifier",
    "ExpiredKey",
    "IPNotAllowed",
    "InsufficientFunds",
    "InvalidRequest",
    "InvalidVolume",
    "MarketInfo",
    "MarketNotFound",
    "MarketOffline",
    "MyOrderEvent",
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
    "ServerError",
    "Ticker",
    "Trade",
    "UnderMinTotal",
    "UnderMinTotalMarketAsk",
    "UpbitAPIError",
    "UpbitError",
    "UpbitTransportError",
    "error_from_response",
]
