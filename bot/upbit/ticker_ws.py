"""The public ``ticker`` WebSocket: live last-trade prices for a set of markets.

`TickerStream.run` keeps ONE connection to ``{ws_url}`` (the quotation endpoint, no
authentication) subscribed to ``ticker`` for the codes last given to `watch`; when the set
changes it reconnects with the new set (a new subscription replaces the old one only on a
new connection, which keeps the rule simple). Connects share the process-wide
`CONNECT_PACER` (and the optional ``shared_pacer`` across processes) and back off like the
private stream. Prices are kept only while the
connection is up: `price` answers None for a market the stream cannot vouch for, so the
caller falls back to ``GET /v1/ticker``.
Message format: https://docs.upbit.com/kr/reference/websocket-ticker
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from bot.upbit.ws import CONNECT_PACER, DEFAULT_WS_URL, Backoff, ConnectPacer

logger = logging.getLogger(__name__)

PriceCallback = Callable[[str, Decimal], Awaitable[None]]


class TickerStream:
    def __init__(
        self,
        ws_url: str = DEFAULT_WS_URL,
        *,
        ping_interval: float = 30.0,
        open_timeout: float = 10.0,
        pacer: ConnectPacer | None = None,
        shared_pacer: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._url = ws_url.rstrip("/")
        self._ping_interval = ping_interval
        self._open_timeout = open_timeout
        self._pacer = pacer if pacer is not None else CONNECT_PACER
        self._shared_pacer = shared_pacer  # across processes (the bot's database pacer)
        self._wanted: frozenset[str] = frozenset()
        self._subscribed: frozenset[str] = frozenset()
        self._prices: dict[str, Decimal] = {}
        self._changed = asyncio.Event()

    @property
    def connected(self) -> bool:
        return bool(self._subscribed)

    def watch(self, codes: Iterable[str]) -> None:
        """Follow these markets from now on (reconnects if the set changed)."""
        wanted = frozenset(codes)
        if wanted != self._wanted:
            self._wanted = wanted
            self._changed.set()

    def price(self, code: str) -> Decimal | None:
        """The last trade price received on the live subscription, if any."""
        return self._prices.get(code) if code in self._subscribed else None

    def subscription(self, codes: Iterable[str]) -> list[dict[str, Any]]:
        return [
            {"ticket": str(uuid.uuid4())},
            {"type": "ticker", "codes": sorted(codes)},
            {"format": "DEFAULT"},
        ]

    async def run(self, on_price: PriceCallback, stop: asyncio.Event) -> None:
        backoff = Backoff(0.5, 30.0, 30.0)
        while not stop.is_set():
            if not self._wanted:
                self._changed.clear()
                await _first(stop.wait(), self._changed.wait())
                continue
            codes = self._wanted
            self._changed.clear()
            opened = time.monotonic()
            lived: float | None = None
            try:
                await self._pacer.wait_turn()
                if self._shared_pacer is not None:
                    try:
                        await self._shared_pacer()
                    except Exception:
                        logger.warning("shared connect pacer failed; pacing this process only")
                lived = await _first(
                    self._session(codes, on_price), self._changed.wait(), stop.wait()
                )
            except (OSError, TimeoutError, WebSocketException) as exc:
                logger.info("ticker stream down: %s", type(exc).__name__)
            finally:
                self._subscribed = frozenset()
                self._prices.clear()
            if self._changed.is_set() or stop.is_set():
                continue  # a new set of codes: reconnect at once
            delay = backoff.after(None if lived is None else time.monotonic() - opened)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _session(self, codes: frozenset[str], on_price: PriceCallback) -> float:
        async with connect(
            self._url, ping_interval=self._ping_interval, open_timeout=self._open_timeout
        ) as ws:
            await ws.send(json.dumps(self.subscription(codes)))
            self._subscribed = codes
            started = time.monotonic()
            try:
                async for raw in ws:
                    found = _decode(raw)
                    if found is not None and found[0] in codes:
                        self._prices[found[0]] = found[1]
                        await on_price(*found)
            except ConnectionClosed:
                pass
            return time.monotonic() - started


def _decode(raw: str | bytes) -> tuple[str, Decimal] | None:
    try:
        data = json.loads(raw, parse_float=Decimal)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("error"), dict):
        logger.warning("ticker stream error: %s", data["error"].get("name"))
        return None
    if (data.get("type") or data.get("ty")) != "ticker":
        return None
    code = data.get("code") or data.get("cd")
    try:
        price = Decimal(str(data.get("trade_price", data.get("tp"))))
    except InvalidOperation:
        return None
    if not isinstance(code, str) or not price.is_finite() or price <= 0:
        return None
    return code, price


async def _first(*waits: Awaitable[Any]) -> Any:
    """Run until the first of ``waits`` finishes; cancel the rest; its result (or error)."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    first = next(iter(done))
    return first.result() if tasks[0] is first else None
