"""What Confirm checks at the press, gathered without waiting on Upbit where it can be.

A preview leaves its facts behind (`PreviewFacts`: the preview, the fee, the holding's
balance and average buy price, the user's open orders). At the press the sell service needs
the available balance (checked again first) and, for a market sell, an order book at most
``max_age`` old for the price check. Round trips between the press and the POST cost the
user the price they saw, so:

* `BookKeeper` keeps the books of markets with an open preview fresh by reading them in
  the background, all in one request, about once a second;
* `BalanceBook` keeps balances current from the private WebSocket's ``myAsset`` events
  (https://docs.upbit.com/kr/reference/websocket-myasset) and vouches for a balance only
  while the stream has stayed up since the preview read it;
* whatever neither can vouch for is read at the press.

Everything here is per process and advisory: a press that reaches another process (webhook
mode behind several processes), or comes after a restart, simply reads what it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from bot.domain import PendingSell
from bot.upbit.errors import UpbitAPIError, UpbitError
from bot.upbit.models import MyAssetEvent, MyOrderEvent, Order, Orderbook

log = logging.getLogger(__name__)

BOOK_READ_INTERVAL = 1.0  # seconds between background reads of the watched books
REMEMBERED_PREVIEWS = 256


@dataclass(frozen=True, slots=True)
class BalanceMark:
    """Where the balance stream stood when a preview read the balance."""

    connection: int  # which connection of the stream (a new one after every drop)
    seen: int  # how many myAsset events had arrived by then


@dataclass(frozen=True, slots=True)
class PreviewFacts:
    """What a preview read, kept so the press need not read it again."""

    pending: PendingSell
    # None: not known here (a preview this process did not make): read at the press.
    fee: Decimal | None = None  # ask_fee
    avg_buy_price: Decimal | None = None
    balance: Decimal | None = None  # available, as the preview read it
    mark: BalanceMark | None = None  # the balance stream then (None: it could not vouch)
    own_orders: tuple[Order, ...] | None = None  # the account's open orders then


class PreviewMemory:
    """The facts of the newest previews, by preview id (bounded, per process)."""

    def __init__(self, size: int = REMEMBERED_PREVIEWS) -> None:
        self._size = size
        self._facts: OrderedDict[str, PreviewFacts] = OrderedDict()

    def keep(self, facts: PreviewFacts) -> None:
        self._facts[facts.pending.id] = facts
        while len(self._facts) > self._size:
            self._facts.popitem(last=False)

    def get(self, pending_id: str) -> PreviewFacts | None:
        return self._facts.get(pending_id)

    def forget(self, pending_id: str) -> None:
        self._facts.pop(pending_id, None)


@dataclass(frozen=True, slots=True)
class _Asset:
    balance: Decimal
    connection: int
    seen: int


class BalanceBook:
    """Available balances from the private stream's ``myAsset`` events.

    Upbit sends an event only when a balance changes, and may send nothing for the first
    minutes of an account's first subscription. So a balance is vouched for only when the
    stream has been up without a break since the preview's read, and this process has seen
    at least one event arrive (the stream is known to deliver): then the newest event of
    that currency since the read wins, and without one the preview's own read still holds.
    """

    def __init__(self) -> None:
        self._connection = 0
        self._up = False
        self._seen = 0
        self._delivering = False
        self._assets: dict[str, _Asset] = {}

    def stream_state(self, up: bool) -> None:
        """Every report starts afresh: a balance read before it is vouched for no more."""
        self._connection += 1
        self._up = up

    def unreadable(self) -> None:
        """A myAsset message that could not be read may have changed any balance."""
        self._connection += 1

    def assets(self, balances: Iterable[tuple[str, Decimal]]) -> None:
        self._seen += 1
        self._delivering = True
        for currency, balance in balances:
            self._assets[currency] = _Asset(balance, self._connection, self._seen)

    def mark(self) -> BalanceMark | None:
        """Take before reading a balance; None while the stream cannot vouch."""
        if not self._up or not self._delivering:
            return None
        return BalanceMark(self._connection, self._seen)

    def available(self, currency: str, read: Decimal, mark: BalanceMark | None) -> Decimal | None:
        """The balance now, given what was ``read`` at ``mark``; None: read it again."""
        if mark is None or not self._up or self._connection != mark.connection:
            return None
        asset = self._assets.get(currency)
        if asset is not None and asset.connection == mark.connection and asset.seen > mark.seen:
            return asset.balance
        return read


class StreamEvents(Protocol):
    """The private stream, as `bot.upbit.ws.MyOrderStream.run` offers it."""

    async def run(
        self,
        on_event: Callable[[MyOrderEvent | MyAssetEvent], Awaitable[None]],
        on_state_change: Callable[[bool], Awaitable[None]],
        stop_event: asyncio.Event,
    ) -> None: ...


@dataclass(frozen=True)
class BalanceTap:
    """The private stream with its ``myAsset`` events and its ups and downs told to a
    `BalanceBook`; what it passes on (to the fill watcher) are the ``myOrder`` events."""

    stream: StreamEvents
    balances: BalanceBook

    async def run(
        self,
        on_event: Callable[[MyOrderEvent], Awaitable[None]],
        on_state_change: Callable[[bool], Awaitable[None]],
        stop_event: asyncio.Event,
    ) -> None:
        async def event(seen: MyOrderEvent | MyAssetEvent) -> None:
            if not isinstance(seen, MyAssetEvent):
                await on_event(seen)
            elif seen.readable:
                self.balances.assets(seen.balances)
            else:
                self.balances.unreadable()

        async def state(up: bool) -> None:
            self.balances.stream_state(up)
            await on_state_change(up)

        try:
            await self.stream.run(event, state, stop_event)
        finally:
            self.balances.stream_state(False)  # however the stream ended


@dataclass
class _Book:
    book: Orderbook
    at: float  # loop time the request was sent (the book is at least this fresh)


@dataclass
class _Watch:
    market: str
    until: float


BookReader = Callable[[Sequence[str]], Awaitable[list[Orderbook]]]


@dataclass
class BookKeeper:
    """Order books of markets with an open preview, read in the background."""

    read: BookReader
    interval: float = BOOK_READ_INTERVAL
    _books: dict[str, _Book] = field(default_factory=dict)
    _watches: dict[str, _Watch] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _failures: int = 0
    _retry_at: float = 0.0

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def put(self, book: Orderbook, at: float) -> None:
        """A book read elsewhere (the preview's), requested at loop time ``at``."""
        known = self._books.get(book.market)
        if known is None or known.at <= at:
            self._books[book.market] = _Book(book, at)

    def watch(self, key: str, market: str, seconds: float) -> None:
        """Keep ``market``'s book fresh for ``seconds`` (or until `unwatch` of ``key``)."""
        self._watches[key] = _Watch(market, self._now() + seconds)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="preview-books")

    @property
    def reader(self) -> asyncio.Task[None] | None:
        """The background reader (None before the first watch); it ends by itself when no
        preview needs a book."""
        return self._task

    def unwatch(self, key: str) -> None:
        self._watches.pop(key, None)

    def fresh(self, market: str, max_age: float) -> Orderbook | None:
        known = self._books.get(market)
        if known is None or self._now() - known.at > max_age:
            return None
        return known.book

    async def read_now(self, market: str) -> Orderbook | None:
        at = self._now()
        books = await self.read([market])
        for book in books:
            self.put(book, at)
        return books[0] if books else None

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _due(self) -> list[str] | None:
        """Watched markets whose book is older than the interval; None: nothing watched."""
        now = self._now()
        for key in [k for k, w in self._watches.items() if w.until <= now]:
            del self._watches[key]
        if not self._watches:
            return None
        markets = {w.market for w in self._watches.values()}
        return sorted(m for m in markets if self.fresh(m, self.interval) is None)

    async def _run(self) -> None:
        while (due := self._due()) is not None:
            if due and self._now() >= self._retry_at:
                try:
                    await self._read(due)
                except UpbitError as exc:
                    self._failed(f"preview books not read: {type(exc).__name__}")
                except Exception:
                    log.exception("preview books not read")
                    self._failed("")
                else:
                    self._failures, self._retry_at = 0, 0.0
            await asyncio.sleep(self.interval / 4)

    async def _read(self, markets: list[str]) -> None:
        at = self._now()
        try:
            books = await self.read(markets)
        except UpbitAPIError as exc:
            if exc.status != 404 or len(markets) == 1:
                raise
            # One market gone (delisted meanwhile) fails them all: read them one by one.
            answers = await asyncio.gather(
                *(self.read([market]) for market in markets), return_exceptions=True
            )
            books = [
                b for answer in answers if not isinstance(answer, BaseException) for b in answer
            ]
        for book in books:
            self.put(book, at)

    def _failed(self, why: str) -> None:
        """Back off (the interval, doubling up to 16 of them): a stale book is never used,
        the press reads its own, so there is no hurry and Upbit's limits count."""
        if why:
            log.info(why)
        self._failures += 1
        self._retry_at = self._now() + self.interval * min(2**self._failures, 16)
