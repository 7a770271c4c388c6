"""Typed, frozen results of Upbit calls.

Every amount is a `Decimal`. Exchange endpoints send decimal strings; quotation endpoints
and the WebSocket send JSON numbers, which callers must parse with
``json.loads(..., parse_float=Decimal)`` so nothing passes through a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# "prevented" (WebSocket only) means self-trade prevention cut part of the order; the order
# itself goes on (https://docs.upbit.com/kr/v1.6.4/docs/smp, read 2026-12-02): not final.
FINAL_ORDER_STATES = frozenset({"done", "cancel"})

# Self-trade prevention modes Upbit accepts for ``smp_type`` since 2026-11-09 (without one it
# applies cancel_maker): https://docs.upbit.com/kr/changelog/add-smp-type-default
SMP_TYPES = ("cancel_maker", "cancel_taker", "reduce", "none")


def dec(value: Any, default: Decimal | None = None) -> Decimal:
    """Parse an Upbit number (string, int or Decimal from parse_float) without float loss."""
    if value is None or value == "":
        if default is None:
            raise ValueError("missing number")
        return default
    if isinstance(value, float):
        # Only reachable when a caller forgot parse_float=Decimal; repr keeps the shortest
        # round-trip form, which is what Upbit printed.
        value = repr(value)
    try:
        result = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def opt_dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else dec(value)


@dataclass(frozen=True, slots=True)
class Account:
    """One row of ``GET /v1/accounts``."""

    currency: str
    balance: Decimal
    locked: Decimal
    avg_buy_price: Decimal
    avg_buy_price_modified: bool
    unit_currency: str

    @property
    def market(self) -> str:
        return f"{self.unit_currency}-{self.currency}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Account:
        return cls(
            currency=str(data["currency"]),
            balance=dec(data.get("balance"), Decimal(0)),
            locked=dec(data.get("locked"), Decimal(0)),
            avg_buy_price=dec(data.get("avg_buy_price"), Decimal(0)),
            avg_buy_price_modified=bool(data.get("avg_buy_price_modified", False)),
            unit_currency=str(data.get("unit_currency") or "KRW"),
        )


@dataclass(frozen=True, slots=True)
class MarketSide:
    currency: str
    min_total: Decimal

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MarketSide:
        return cls(
            currency=str(data["currency"]), min_total=dec(data.get("min_total"), Decimal(0))
        )


@dataclass(frozen=True, slots=True)
class ChanceMarket:
    id: str
    name: str
    order_sides: tuple[str, ...]
    bid_types: tuple[str, ...]
    ask_types: tuple[str, ...]
    bid: MarketSide
    ask: MarketSide
    max_total: Decimal | None
    state: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChanceMarket:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            order_sides=tuple(data.get("order_sides") or ()),
            bid_types=tuple(data.get("bid_types") or ()),
            ask_types=tuple(data.get("ask_types") or ()),
            bid=MarketSide.from_json(data["bid"]),
            ask=MarketSide.from_json(data["ask"]),
            max_total=opt_dec(data.get("max_total")),
            state=str(data.get("state", "")),
        )


@dataclass(frozen=True, slots=True)
class OrderChance:
    """``GET /v1/orders/chance``: fees, market rules and both accounts of one market."""

    bid_fee: Decimal
    ask_fee: Decimal
    maker_bid_fee: Decimal
    maker_ask_fee: Decimal
    market: ChanceMarket
    bid_account: Account
    ask_account: Account

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderChance:
        bid_fee = dec(data.get("bid_fee"), Decimal(0))
        ask_fee = dec(data.get("ask_fee"), Decimal(0))
        return cls(
            bid_fee=bid_fee,
            ask_fee=ask_fee,
            maker_bid_fee=dec(data.get("maker_bid_fee"), bid_fee),
            maker_ask_fee=dec(data.get("maker_ask_fee"), ask_fee),
            market=ChanceMarket.from_json(data["market"]),
            bid_account=Account.from_json(data["bid_account"]),
            ask_account=Account.from_json(data["ask_account"]),
        )


@dataclass(frozen=True, slots=True)
class Ticker:
    """One market of ``GET /v1/ticker``."""

    market: str
    trade_price: Decimal
    signed_change_rate: Decimal
    timestamp: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ticker:
        return cls(
            market=str(data["market"]),
            trade_price=dec(data["trade_price"]),
            signed_change_rate=dec(data.get("signed_change_rate"), Decimal(0)),
            timestamp=int(data.get("timestamp") or 0),
        )


@dataclass(frozen=True, slots=True)
class OrderbookUnit:
    ask_price: Decimal
    bid_price: Decimal
    ask_size: Decimal
    bid_size: Decimal

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderbookUnit:
        return cls(
            ask_price=dec(data["ask_price"]),
            bid_price=dec(data["bid_price"]),
            ask_size=dec(data["ask_size"]),
            bid_size=dec(data["bid_size"]),
        )


@dataclass(frozen=True, slots=True)
class Orderbook:
    """One market of ``GET /v1/orderbook``; ``units[0]`` holds the best bid and ask."""

    market: str
    timestamp: int
    total_ask_size: Decimal
    total_bid_size: Decimal
    units: tuple[OrderbookUnit, ...]

    @property
    def best_bid(self) -> Decimal | None:
        return self.units[0].bid_price if self.units else None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Orderbook:
        return cls(
            market=str(data["market"]),
            timestamp=int(data.get("timestamp") or 0),
            total_ask_size=dec(data.get("total_ask_size"), Decimal(0)),
            total_bid_size=dec(data.get("total_bid_size"), Decimal(0)),
            units=tuple(OrderbookUnit.from_json(u) for u in data.get("orderbook_units") or ()),
        )


@dataclass(frozen=True, slots=True)
class OrderbookInstrument:
    """One market of ``GET /v1/orderbook/instruments``: its price step (``tick_size``).

    https://docs.upbit.com/kr/reference/list-orderbook-instruments (호가 정책 조회, added
    2025-07-31): ``[{"market", "quote_currency", "tick_size": "1000", "supported_levels"}]``.
    """

    market: str
    quote_currency: str
    tick_size: Decimal

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderbookInstrument:
        tick = dec(data["tick_size"])
        if tick <= 0:
            raise ValueError(f"tick_size must be positive: {tick}")
        market = str(data["market"])
        return cls(
            market=market,
            quote_currency=str(data.get("quote_currency") or market.partition("-")[0]),
            tick_size=tick,
        )


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """One row of ``GET /v1/market/all?is_details=true``."""

    market: str
    korean_name: str
    english_name: str
    warning: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MarketInfo:
        event = data.get("market_event") or {}
        warning = bool(event.get("warning")) or data.get("market_warning") == "CAUTION"
        return cls(
            market=str(data["market"]),
            korean_name=str(data.get("korean_name", "")),
            english_name=str(data.get("english_name", "")),
            warning=warning,
        )


@dataclass(frozen=True, slots=True)
class Trade:
    market: str
    uuid: str
    price: Decimal
    volume: Decimal
    funds: Decimal
    side: str
    created_at: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Trade:
        price = dec(data["price"])
        volume = dec(data["volume"])
        return cls(
            market=str(data.get("market", "")),
            uuid=str(data.get("uuid", "")),
            price=price,
            volume=volume,
            funds=dec(data.get("funds"), price * volume),
            side=str(data.get("side", "")),
            created_at=str(data.get("created_at", "")),
        )


@dataclass(frozen=True, slots=True)
class Order:
    """The order object of create / get / cancel responses (``trades`` only on get)."""

    uuid: str
    identifier: str | None
    market: str
    side: str
    ord_type: str
    state: str
    price: Decimal | None
    volume: Decimal | None
    remaining_volume: Decimal
    executed_volume: Decimal
    paid_fee: Decimal
    locked: Decimal
    trades_count: int
    trades: tuple[Trade, ...]
    created_at: str
    time_in_force: str | None = None
    executed_funds: Decimal | None = None  # list endpoints only (open/closed/uuids)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # Self-trade prevention: the mode applied, and how much of this order it cancelled.
    smp_type: str | None = None
    prevented_volume: Decimal = Decimal(0)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_ORDER_STATES

    @property
    def gross_funds(self) -> Decimal:
        """Quote currency received before fees: the sum of the trades' funds."""
        return sum((t.funds for t in self.trades), Decimal(0))

    @property
    def avg_price(self) -> Decimal | None:
        if self.executed_volume == 0 or not self.trades:
            return None
        return self.gross_funds / self.executed_volume

    @property
    def net_funds(self) -> Decimal:
        return self.gross_funds - self.paid_fee

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Order:
        return cls(
            uuid=str(data["uuid"]),
            identifier=data.get("identifier"),
            market=str(data["market"]),
            side=str(data.get("side", "")),
            ord_type=str(data.get("ord_type", "")),
            state=str(data.get("state", "")),
            price=opt_dec(data.get("price")),
            volume=opt_dec(data.get("volume")),
            remaining_volume=dec(data.get("remaining_volume"), Decimal(0)),
            executed_volume=dec(data.get("executed_volume"), Decimal(0)),
            paid_fee=dec(data.get("paid_fee"), Decimal(0)),
            locked=dec(data.get("locked"), Decimal(0)),
            trades_count=int(data.get("trades_count") or 0),
            trades=tuple(Trade.from_json(t) for t in data.get("trades") or ()),
            created_at=str(data.get("created_at", "")),
            time_in_force=data.get("time_in_force") or None,
            executed_funds=opt_dec(data.get("executed_funds")),
            raw=dict(data),
            smp_type=data.get("smp_type"),
            prevented_volume=dec(data.get("prevented_volume"), Decimal(0)),
        )


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One row of ``GET /v1/api_keys``."""

    access_key: str
    expire_at: datetime

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiKey:
        return cls(
            access_key=str(data["access_key"]),
            expire_at=datetime.fromisoformat(str(data["expire_at"])),
        )


@dataclass(frozen=True, slots=True)
class MyOrderEvent:
    """A ``myOrder`` WebSocket message: only a wake-up call, final figures come from REST."""

    uuid: str
    identifier: str | None
    market: str
    state: str
    stream_type: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MyOrderEvent:
        # DEFAULT format keys, with the SIMPLE abbreviations as fallback.
        return cls(
            uuid=str(data.get("uuid") or data.get("uid") or ""),
            identifier=data.get("identifier", data.get("id")),
            market=str(data.get("code") or data.get("cd") or ""),
            state=str(data.get("state") or data.get("s") or ""),
            stream_type=str(data.get("stream_type") or data.get("st") or ""),
        )


@dataclass(frozen=True, slots=True)
class MyAssetEvent:
    """A ``myAsset`` WebSocket message: the available balances that just changed
    (https://docs.upbit.com/kr/reference/websocket-myasset)."""

    balances: tuple[tuple[str, Decimal], ...]  # (currency, available)
    readable: bool = True  # False: a myAsset message came that could not be read

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MyAssetEvent:
        assets = data.get("assets", data.get("ast"))
        if not isinstance(assets, list):
            raise ValueError("myAsset message without assets")
        balances = []
        for asset in assets:
            currency = asset.get("currency", asset.get("cu"))
            balance = asset.get("balance", asset.get("b"))
            if not currency or balance is None:
                raise ValueError("myAsset asset without currency or balance")
            balances.append((str(currency), Decimal(str(balance))))
        return cls(tuple(balances))
