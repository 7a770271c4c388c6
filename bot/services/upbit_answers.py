"""Reading Upbit's answers, shared by the sell flow, the fill watcher and the history:
what the order log stores of an order, and the catalogue code of a refusal."""

from __future__ import annotations

import json

from bot.domain import OrderFill, OrderState
from bot.services.errors import ExchangeUnavailable
from bot.upbit.errors import (
    AgreementRequired,
    AuthError,
    DuplicatedIdentifier,
    ExpiredKey,
    InsufficientFunds,
    InvalidVolume,
    IPNotAllowed,
    MarketNotFound,
    MarketOffline,
    OrderNotFound,
    OrderRejected,
    OutOfScope,
    OverMaxTotal,
    RateLimited,
    UnderMinTotal,
    UnderMinTotalMarketAsk,
    UpbitAPIError,
    UpbitError,
)
from bot.upbit.models import Order

# Upbit refusals → catalogue codes; the first matching class wins.
_ORDER_ERROR_CODES: tuple[tuple[type[UpbitAPIError], str], ...] = (
    (InsufficientFunds, "err_insufficient_funds"),
    (UnderMinTotalMarketAsk, "err_under_min_total_market_ask"),
    (UnderMinTotal, "err_under_min_total"),
    (OverMaxTotal, "err_over_max_total"),
    (InvalidVolume, "err_invalid_volume"),
    (IPNotAllowed, "err_ip_not_allowed"),
    (ExpiredKey, "err_key_expired"),
    (OutOfScope, "err_out_of_scope"),
    (AuthError, "err_auth"),
    (RateLimited, "err_rate_limited"),
    (MarketOffline, "err_market_offline"),
    (AgreementRequired, "err_thirdparty_agreement"),
    (MarketNotFound, "err_market_not_found"),
    (DuplicatedIdentifier, "err_duplicated_identifier"),
    (OrderNotFound, "err_order_not_found"),
    (OrderRejected, "err_order_rejected"),
)


def error_code(exc: UpbitError) -> str:
    for cls, code in _ORDER_ERROR_CODES:
        if isinstance(exc, cls):
            return code
    return "err_exchange"


def exchange_unavailable(exc: UpbitError) -> ExchangeUnavailable:
    return ExchangeUnavailable(error_code(exc), name=exc.name)


def created(order: Order) -> OrderFill:
    """What the log stores from the answer to ``POST /v1/orders``: the uuid and that the
    order exists. That answer has no trades, so its figures are not final even when it says
    "done": the fill watcher reads them from ``GET /v1/order``."""
    return OrderFill(
        state=OrderState.WAIT,
        uuid=order.uuid,
        raw_response=json.dumps(order.raw, default=str, ensure_ascii=False),
    )


def order_fill(order: Order) -> OrderFill:
    """What the log stores of an order Upbit reported.

    A final answer without its ``trades`` (a "done" that executed something) cannot give the
    proceeds: it is stored as not final yet, so the order is read again before it is
    announced, never announced as zero.
    """
    state = OrderState.from_upbit(order.state)
    executed = order.state == "done" or order.executed_volume > 0
    if state.is_final and executed and not order.trades:
        state = OrderState.WAIT
    return OrderFill(
        state=state,
        uuid=order.uuid,
        executed_volume=order.executed_volume,
        avg_price=order.avg_price,
        gross_funds=order.gross_funds if order.trades else None,
        paid_fee=order.paid_fee,
        raw_response=json.dumps(order.raw, default=str, ensure_ascii=False),
    )
