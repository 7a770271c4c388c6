"""Paper trading: a second implementation of the `Exchange` port.

Prices and order books come from Upbit's public quotation API (no keys; none are used even
if set). Balances and orders live in the database, so they survive restarts. A market sell
fills at once by walking the live bids, with the market's fee; the balance change and the
order record are written in one transaction. A limit sell executes what the live bids at or
above its price take; IOC cancels the rest, FOK executes all or nothing, and a plain limit
sell rests (its volume locked) until a later look at the book (`get_order`, `open_orders`,
which the fill watcher and /open call) finds bids that reach it, or until it is cancelled.
Nothing above the port knows which exchange is in use, except that every message carries
the PAPER tag.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid as uuid_lib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol

from bot.services.amounts import round_volume, walk_bids
from bot.services.ticks import on_tick
from bot.upbit.client import UpbitClient
from bot.upbit.errors import (
    DuplicatedIdentifier,
    InsufficientFunds,
    InvalidVolume,
    MarketNotFound,
    OrderNotFound,
    OrderRejected,
    UnderMinTotal,
)
from bot.upbit.models import (
    Account,
    ApiKey,
    ChanceMarket,
    MarketInfo,
    MarketSide,
    MyOrderEvent,
    Order,
    Orderbook,
    OrderbookUnit,
    OrderChance,
    Ticker,
)
from bot.upbit.rules import DEFAULT_TAKER_FEE, MAX_ORDER_TOTAL, MIN_ORDER_TOTAL, TAKER_FEE

log = logging.getLogger(__name__)

KST = timezone(timedelta(hours=9))
MARKETS_CACHE_SECONDS = 600.0


class PaperStore(Protocol):
    async def seed_if_empty(
        self, balances: Mapping[str, Decimal], unit_currency: str = "KRW"
    ) -> bool: ...

    async def get_all(self) -> list[Account]: ...

    async def execute_sell(
        self,
        currency: str,
        volume: Decimal,
        quote_currency: str,
        net_proceeds: Decimal,
        *,
        uuid: str,
        identifier: str,
        order_json: str,
    ) -> bool:
        """Move the balances and store the order, atomically; False if the balance is short."""
        ...

    async def get_order_json(
        self, *, uuid: str | None = None, identifier: str | None = None
    ) -> str | None: ...

    async def settle(
        self,
        *,
        currency: str,
        quote_currency: str,
        balance_delta: Decimal,
        locked_delta: Decimal,
        credit: Decimal,
        uuid: str,
        identifier: str,
        old_json: str | None,
        new_json: str,
    ) -> bool:
        """Apply one step of a limit order and store its JSON, atomically (compare-and-swap
        on the previous JSON); False when a balance is short or the order changed."""
        ...

    async def order_jsons(self) -> list[str]: ...


class PaperEvents:
    """Wakes the fill watcher the moment a paper order fills (the paper `myOrder` stream)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[MyOrderEvent] = asyncio.Queue()

    def publish(self, event: MyOrderEvent) -> None:
        self._queue.put_nowait(event)

    async def run(
        self,
        on_event: Callable[[MyOrderEvent], Awaitable[None]],
        on_state_change: Callable[[bool], Awaitable[None]],
        stop_event: asyncio.Event,
    ) -> None:
        await on_state_change(True)
        stopper = asyncio.create_task(stop_event.wait())
        try:
            while not stop_event.is_set():
                getter = asyncio.create_task(self._queue.get())
                done, _ = await asyncio.wait(
                    {getter, stopper}, return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    await on_event(getter.result())
                else:
                    getter.cancel()
        finally:
            stopper.cancel()


def _kst_now() -> str:
    return datetime.now(UTC).astimezone(KST).isoformat(timespec="seconds")


def _split(market: str) -> tuple[str, str]:
    quote, _, currency = market.partition("-")
    return quote, currency


class PaperExchange:
    """Simulated account on live public prices."""

    def __init__(
        self,
        quotes: UpbitClient,
        store: PaperStore,
        seed: Mapping[str, Decimal],
    ) -> None:
        self._quotes = quotes
        self._store = store
        self._seed = dict(seed)
        self._seeded = False
        self._events = PaperEvents()
        self._listed: dict[str, MarketInfo] = {}
        self._listed_at = float("-inf")

    @classmethod
    def create(cls, api_url: str, store: PaperStore, seed: Mapping[str, Decimal]) -> PaperExchange:
        return cls(UpbitClient.public(base_url=api_url), store, seed)

    @property
    def is_paper(self) -> bool:
        return True

    def rate_blocks(self) -> dict[str, float]:
        return self._quotes.rate_blocks()

    def events(self) -> PaperEvents:
        return self._events

    async def aclose(self) -> None:
        await self._quotes.aclose()

    async def _ensure_seeded(self) -> None:
        if not self._seeded:
            if await self._store.seed_if_empty(self._seed):
                log.info("paper account seeded with %s", ", ".join(sorted(self._seed)))
            self._seeded = True

    async def _listed_markets(self) -> dict[str, MarketInfo]:
        if time.monotonic() - self._listed_at > MARKETS_CACHE_SECONDS:
            self._listed = {m.market: m for m in await self._quotes.markets()}
            self._listed_at = time.monotonic()
        return self._listed

    # -- the Exchange port -------------------------------------------------------------------

    async def accounts(self) -> list[Account]:
        await self._ensure_seeded()
        return await self._store.get_all()

    async def order_chance(self, market: str) -> OrderChance:
        if market not in await self._listed_markets():
            raise MarketNotFound(f"unknown market {market}", name="notfoundmarket", status=400)
        quote, currency = _split(market)
        accounts = {a.currency: a for a in await self.accounts()}
        fee = TAKER_FEE.get(quote, DEFAULT_TAKER_FEE)
        minimum = MIN_ORDER_TOTAL.get(quote, Decimal(0))

        def account(code: str) -> Account:
            return accounts.get(code) or Account(
                code, Decimal(0), Decimal(0), Decimal(0), False, quote
            )

        return OrderChance(
            bid_fee=fee,
            ask_fee=fee,
            maker_bid_fee=fee,
            maker_ask_fee=fee,
            market=ChanceMarket(
                id=market,
                name=f"{currency}/{quote}",
                order_sides=("ask", "bid"),
                bid_types=("limit", "price"),
                ask_types=("limit", "market"),
                bid=MarketSide(quote, minimum),
                ask=MarketSide(currency, minimum),
                max_total=MAX_ORDER_TOTAL.get(quote),
                state="active",
            ),
            bid_account=account(quote),
            ask_account=account(currency),
        )

    async def tickers(self, markets: Sequence[str]) -> list[Ticker]:
        return await self._quotes.tickers(markets)

    async def orderbooks(self, markets: Sequence[str]) -> list[Orderbook]:
        return await self._quotes.orderbooks(markets)

    async def markets(self) -> list[MarketInfo]:
        return list((await self._listed_markets()).values())

    async def api_keys(self) -> list[ApiKey]:
        return []

    async def sell_market(self, market: str, volume: Decimal, identifier: str) -> Order:
        if volume <= 0 or volume != round_volume(volume):
            raise InvalidVolume("invalid volume", name="invalid_volume_ask", status=400)
        if await self._store.get_order_json(identifier=identifier) is not None:
            raise DuplicatedIdentifier(
                "identifier already used", name="duplicated_identifier", status=400
            )
        chance = await self.order_chance(market)
        books = await self._quotes.orderbooks([market])
        if not books or not books[0].units:
            raise OrderRejected("no order book", name="create_ask_error", status=400)
        book = books[0]
        walk = walk_bids(book.units, volume)
        if not walk.filled:
            raise OrderRejected(
                "volume exceeds the order book", name="create_ask_error", status=400
            )
        best_bid = book.best_bid or Decimal(0)
        if volume * best_bid < chance.market.ask.min_total:
            raise UnderMinTotal(
                "under minimum total", name="under_min_total_market_ask", status=400
            )
        fee = walk.gross * chance.ask_fee
        order = self._order_json(market, volume, identifier, book, fee)
        quote, currency = _split(market)
        ok = await self._store.execute_sell(
            currency,
            volume,
            quote,
            walk.gross - fee,
            uuid=order["uuid"],
            identifier=identifier,
            order_json=json.dumps(order),
        )
        if not ok:
            raise InsufficientFunds(
                "insufficient balance", name="insufficient_funds_ask", status=400
            )
        log.info("paper order filled market=%s uuid=%s", market, order["uuid"])
        self._events.publish(MyOrderEvent(order["uuid"], identifier, market, "done", "REALTIME"))
        return Order.from_json(json.loads(json.dumps(order)))

    async def get_order(self, *, uuid: str | None = None, identifier: str | None = None) -> Order:
        text = await self._store.get_order_json(uuid=uuid, identifier=identifier)
        if text is None:
            raise OrderNotFound("order not found", name="order_not_found", status=404)
        data = json.loads(text)
        if data.get("state") == "wait":
            data = await self._match_resting(data, text)
        return Order.from_json(data)

    async def orders_by_uuids(self, uuids: Sequence[str]) -> list[Order]:
        found: list[Order] = []
        for uuid in uuids:
            with contextlib.suppress(OrderNotFound):
                found.append(await self.get_order(uuid=uuid))
        return found

    # -- limit orders ------------------------------------------------------------------------

    async def tick_size(self, market: str) -> Decimal:
        return await self._quotes.tick_size(market)

    async def limit_sell(
        self,
        market: str,
        volume: Decimal,
        price: Decimal,
        identifier: str,
        *,
        time_in_force: str | None = None,
    ) -> Order:
        if volume <= 0 or volume != round_volume(volume):
            raise InvalidVolume("invalid volume", name="invalid_volume_ask", status=400)
        if await self._store.get_order_json(identifier=identifier) is not None:
            raise DuplicatedIdentifier(
                "identifier already used", name="duplicated_identifier", status=400
            )
        chance = await self.order_chance(market)
        if price <= 0 or not on_tick(price, await self.tick_size(market)):
            raise OrderRejected("price not on the tick", name="invalid_price_ask", status=400)
        if volume * price < chance.market.ask.min_total:
            raise UnderMinTotal("under minimum total", name="under_min_total_ask", status=400)
        if chance.ask_account.balance < volume:
            raise InsufficientFunds(
                "insufficient balance", name="insufficient_funds_ask", status=400
            )
        books = await self._quotes.orderbooks([market])
        bids = [u for u in (books[0].units if books else ()) if u.bid_price >= price]
        reachable = sum((u.bid_size for u in bids), Decimal(0))
        now = _kst_now()
        data: dict[str, Any] = {
            "uuid": str(uuid_lib.uuid4()),
            "identifier": identifier,
            "market": market,
            "side": "ask",
            "ord_type": "limit",
            "price": format(price, "f"),
            "state": "wait",
            "created_at": now,
            "volume": format(volume, "f"),
            "remaining_volume": format(volume, "f"),
            "executed_volume": "0",
            "reserved_fee": "0",
            "remaining_fee": "0",
            "paid_fee": "0",
            "locked": format(volume, "f"),
            "trades_count": 0,
            "trades": [],
        }
        if time_in_force is not None:
            data["time_in_force"] = time_in_force
        executable = bids if time_in_force != "fok" or reachable >= volume else []
        take, gross = self._execute(data, executable, chance.ask_fee)
        fee = gross * chance.ask_fee
        rest = volume - take
        if rest > 0 and time_in_force in ("ioc", "fok"):
            data["state"], data["locked"] = "cancel", "0"
            rest = Decimal(0)
        quote, currency = _split(market)
        ok = await self._store.settle(
            currency=currency,
            quote_currency=quote,
            balance_delta=-(take + rest),
            locked_delta=rest,
            credit=gross - fee,
            uuid=data["uuid"],
            identifier=identifier,
            old_json=None,
            new_json=json.dumps(data),
        )
        if not ok:
            raise InsufficientFunds(
                "insufficient balance", name="insufficient_funds_ask", status=400
            )
        log.info(
            "paper limit order market=%s uuid=%s state=%s", market, data["uuid"], data["state"]
        )
        self._publish(data)
        return Order.from_json(data)

    async def open_orders(
        self, *, page: int = 1, limit: int = 100, market: str | None = None
    ) -> list[Order]:
        found: list[Order] = []
        for text in reversed(await self._store.order_jsons()):  # newest first, like Upbit
            data = json.loads(text)
            if data.get("state") != "wait" or (market is not None and data["market"] != market):
                continue
            data = await self._match_resting(data, text)
            if data.get("state") == "wait":
                found.append(Order.from_json(data))
        return found[(page - 1) * limit : page * limit]

    async def cancel_order(self, *, uuid: str) -> Order:
        for _ in range(3):
            text = await self._store.get_order_json(uuid=uuid)
            if text is None:
                break
            data = json.loads(text)
            if data.get("state") != "wait":
                break
            rest = Decimal(data["remaining_volume"])
            answer = Order.from_json(data)
            data["state"], data["locked"] = "cancel", "0"
            quote, currency = _split(data["market"])
            if await self._store.settle(
                currency=currency,
                quote_currency=quote,
                balance_delta=rest,
                locked_delta=-rest,
                credit=Decimal(0),
                uuid=uuid,
                identifier=data["identifier"],
                old_json=text,
                new_json=json.dumps(data),
            ):
                self._publish(data)
                return answer
        raise OrderNotFound("order not found", name="order_not_found", status=404)

    async def _match_resting(self, data: dict[str, Any], text: str) -> dict[str, Any]:
        """A resting paper limit sell meets the live bids that reach its price now."""
        price = Decimal(data["price"])
        books = await self._quotes.orderbooks([data["market"]])
        bids = [u for u in (books[0].units if books else ()) if u.bid_price >= price]
        if not bids:
            return data
        fee_rate = (await self.order_chance(data["market"])).ask_fee
        updated: dict[str, Any] = json.loads(text)
        take, gross = self._execute(updated, bids, fee_rate)
        if take <= 0:
            return data
        quote, currency = _split(data["market"])
        ok = await self._store.settle(
            currency=currency,
            quote_currency=quote,
            balance_delta=Decimal(0),
            locked_delta=-take,
            credit=gross - gross * fee_rate,
            uuid=data["uuid"],
            identifier=data["identifier"],
            old_json=text,
            new_json=json.dumps(updated),
        )
        if not ok:  # someone else moved it first: read what they stored
            stored = await self._store.get_order_json(uuid=data["uuid"])
            fresh: dict[str, Any] = json.loads(stored) if stored else data
            return fresh
        self._publish(updated)
        return updated

    @staticmethod
    def _execute(
        data: dict[str, Any], bids: Sequence[OrderbookUnit], fee_rate: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Execute the order's remaining volume against ``bids`` (best first), in ``data``;
        the volume taken and its gross proceeds."""
        remaining = Decimal(data["remaining_volume"])
        taken = Decimal(0)
        gross = Decimal(0)
        now = _kst_now()
        for unit in sorted(bids, key=lambda u: u.bid_price, reverse=True):
            if remaining <= 0:
                break
            take = min(remaining, unit.bid_size)
            if take <= 0:
                continue
            remaining -= take
            taken += take
            funds = take * unit.bid_price
            gross += funds
            data["trades"].append(
                {
                    "market": data["market"],
                    "uuid": str(uuid_lib.uuid4()),
                    "price": format(unit.bid_price, "f"),
                    "volume": format(take, "f"),
                    "funds": format(funds, "f"),
                    "trend": "down",
                    "side": "ask",
                    "created_at": now,
                }
            )
        if taken:
            data["remaining_volume"] = format(remaining, "f")
            data["executed_volume"] = format(Decimal(data["executed_volume"]) + taken, "f")
            data["paid_fee"] = format(Decimal(data["paid_fee"]) + gross * fee_rate, "f")
            data["trades_count"] = len(data["trades"])
            data["locked"] = format(remaining, "f")
            if remaining == 0:
                data["state"] = "done"
        return taken, gross

    def _publish(self, data: Mapping[str, Any]) -> None:
        self._events.publish(
            MyOrderEvent(
                data["uuid"], data["identifier"], data["market"], data["state"], "REALTIME"
            )
        )

    @staticmethod
    def _order_json(
        market: str, volume: Decimal, identifier: str, book: Orderbook, fee: Decimal
    ) -> dict[str, Any]:
        now = datetime.now(UTC).astimezone(KST).isoformat(timespec="seconds")
        trades: list[dict[str, str]] = []
        remaining = volume
        for unit in sorted(book.units, key=lambda u: u.bid_price, reverse=True):
            if remaining <= 0:
                break
            take = min(remaining, unit.bid_size)
            remaining -= take
            trades.append(
                {
                    "market": market,
                    "uuid": str(uuid_lib.uuid4()),
                    "price": format(unit.bid_price, "f"),
                    "volume": format(take, "f"),
                    "funds": format(take * unit.bid_price, "f"),
                    "trend": "down",
                    "side": "ask",
                    "created_at": now,
                }
            )
        return {
            "uuid": str(uuid_lib.uuid4()),
            "identifier": identifier,
            "market": market,
            "side": "ask",
            "ord_type": "market",
            "state": "done",
            "created_at": now,
            "volume": format(volume, "f"),
            "remaining_volume": "0",
            "executed_volume": format(volume, "f"),
            "reserved_fee": "0",
            "remaining_fee": "0",
            "paid_fee": format(fee, "f"),
            "locked": "0",
            "trades_count": len(trades),
            "trades": trades,
        }
