"""The private WebSocket: ``myOrder`` wake-up calls when the user's orders change, and
``myAsset`` balances when they change.

`MyOrderStream.events` runs ONE connection: it signs a fresh JWT (no ``query_hash``) for
the upgrade request, subscribes to ``myOrder`` and ``myAsset`` (one connection for both, as
Upbit asks: https://docs.upbit.com/kr/reference/websocket-myasset), and yields
`MyOrderEvent`s and `MyAssetEvent`s until the connection drops, which raises
`UpbitTransportError`. Keep-alive uses WebSocket ping
frames every ``ping_interval`` seconds, well inside Upbit's 120 s idle limit.

`MyOrderStream.run` is the reconnect loop for callers that want one: capped exponential
backoff (0.5 s → 30 s), a new token every time, and a callback on each
connected/disconnected transition. The backoff is reset only after a connection has lived
``stable_after`` (30 s): a server that accepts and drops at once is not hammered. Whatever
the server does, connects are paced process-wide (`CONNECT_PACER`: at most one a second),
well under Upbit's ``websocket-connect`` limit of 5 a second per pocket
(https://docs.upbit.com/kr/reference/rate-limits); an optional ``shared_pacer`` paces them
across processes and restarts too (the bot passes `bot.db.pacer.SqlConnectPacer`). Events
are hints only; final order figures always come from ``GET /v1/order``
(https://docs.upbit.com/kr/reference/websocket-myorder).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from bot.upbit.auth import make_token
from bot.upbit.errors import AuthError, UpbitError, UpbitTransportError, error_from_response
from bot.upbit.models import MyAssetEvent, MyOrderEvent

__all__ = ["CONNECT_PACER", "DEFAULT_WS_URL", "Backoff", "ConnectPacer", "MyOrderStream"]

logger = logging.getLogger(__name__)

DEFAULT_WS_URL = "wss://api.upbit.com/websocket/v1"

StreamEvent = MyOrderEvent | MyAssetEvent
EventCallback = Callable[[StreamEvent], Awaitable[None]]
StateCallback = Callable[[bool], Awaitable[None]]


class ConnectPacer:
    """At most one connect attempt per ``interval`` seconds, for every stream that shares it.

    One instance (`CONNECT_PACER`) serves the whole process, so a stream that is rebuilt, or
    several streams, cannot add up to more than one connect a second."""

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._next_slot = float("-inf")

    async def wait_turn(self) -> None:
        # Reserve the slot before sleeping: callers that arrive meanwhile queue up behind it.
        now = self._clock()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


CONNECT_PACER = ConnectPacer()


class Backoff:
    """Reconnect delays: doubling from ``initial`` to ``cap``; back to ``initial`` only after a
    connection that lived at least ``stable_after`` seconds."""

    def __init__(self, initial: float, cap: float, stable_after: float) -> None:
        self.initial = initial
        self.cap = cap
        self.stable_after = stable_after
        self._next = initial

    def after(self, lived: float | None) -> float:
        """The delay before the next connect; ``lived``: how long the last connection was
        subscribed (None: it never was)."""
        if lived is not None and lived >= self.stable_after:
            self._next = self.initial
        delay = self._next
        self._next = min(self.cap, self._next * 2)
        return delay


class MyOrderStream:
    """Subscription to the user's ``myOrder`` events on ``{ws_url}/private``."""

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        ws_url: str = DEFAULT_WS_URL,
        *,
        codes: Sequence[str] | None = None,
        ping_interval: float = 30.0,
        ping_timeout: float = 20.0,
        open_timeout: float = 10.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        stable_after: float = 30.0,
        pacer: ConnectPacer | None = None,
        shared_pacer: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if not access_key or not secret_key:
            raise ValueError("access_key and secret_key are required")
        self._access_key = access_key
        self._secret_key = secret_key
        self._url = ws_url.rstrip("/") + "/private"
        self._codes = [c.upper() for c in codes] if codes else None
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._open_timeout = open_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._stable_after = stable_after
        self._pacer = pacer if pacer is not None else CONNECT_PACER
        # Paces connects beyond this process (other processes, restarts), e.g. through the
        # database; if it fails, the process pacer alone decides.
        self._shared_pacer = shared_pacer
        self._connected = False

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(access_key={self._access_key[:4]}***, secret_key=***, "
            f"url={self._url!r}, connected={self._connected})"
        )

    @property
    def connected(self) -> bool:
        """True while a subscribed connection is open."""
        return self._connected

    def subscription(self) -> list[dict[str, Any]]:
        """The request frame: a new ticket, ``myOrder`` (all markets unless ``codes``) and
        ``myAsset`` (which takes no codes), on one connection as Upbit asks."""
        order: dict[str, Any] = {"type": "myOrder"}
        if self._codes:
            order["codes"] = list(self._codes)
        return [{"ticket": str(uuid.uuid4())}, order, {"type": "myAsset"}, {"format": "DEFAULT"}]

    async def events(self) -> AsyncGenerator[StreamEvent, None]:
        """Yield events of one connection; raises `UpbitTransportError` when it ends."""
        async with contextlib.aclosing(self._stream(None)) as stream:
            async for event in stream:
                yield event

    async def _stream(
        self, on_open: Callable[[], Awaitable[None]] | None
    ) -> AsyncGenerator[StreamEvent, None]:
        async with self._connect() as ws:
            try:
                await ws.send(json.dumps(self.subscription()))
                self._connected = True
                if on_open is not None:
                    await on_open()
                while True:
                    try:
                        raw = await ws.recv()
                    except ConnectionClosed as exc:
                        code = exc.rcvd.code if exc.rcvd else None
                        raise UpbitTransportError(f"myOrder stream closed (code {code})") from exc
                    event = self._decode(raw)
                    if event is not None:
                        yield event
            except ConnectionClosed as exc:
                raise UpbitTransportError("myOrder stream closed while subscribing") from exc
            finally:
                self._connected = False

    @contextlib.asynccontextmanager
    async def _connect(self) -> AsyncIterator[ClientConnection]:
        """Open a connection with a fresh token; connect failures become Upbit errors."""
        await self._pacer.wait_turn()
        if self._shared_pacer is not None:
            try:
                await self._shared_pacer()
            except Exception:
                logger.warning("shared connect pacer failed; pacing this process only")
        token = make_token(self._access_key, self._secret_key)
        try:
            ws = await connect(
                self._url,
                additional_headers={"Authorization": f"Bearer {token}"},
                ping_interval=self._ping_interval,
                ping_timeout=self._ping_timeout,
                open_timeout=self._open_timeout,
            )
        except InvalidStatus as exc:
            response = exc.response
            raise error_from_response(response.status_code, bytes(response.body or b"")) from exc
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise UpbitTransportError(
                f"myOrder stream: could not connect ({type(exc).__name__})", request_sent=False
            ) from exc
        try:
            yield ws
        finally:
            await ws.close()

    @staticmethod
    def _decode(raw: str | bytes) -> StreamEvent | None:
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            data = json.loads(text, parse_float=Decimal)
        except ValueError:
            logger.debug("ignoring a non-JSON WebSocket message")
            return None
        if not isinstance(data, dict):
            return None
        error = data.get("error")
        if isinstance(error, dict):
            name = str(error.get("name", ""))
            message = str(error.get("message", "")) or name
            if name == "INVALID_AUTH":
                raise AuthError(message, name=name)
            raise UpbitTransportError(f"myOrder stream error {name}: {message}")
        kind = data.get("type") or data.get("ty")
        try:
            if kind == "myOrder":
                return MyOrderEvent.from_json(data)
            if kind == "myAsset":
                return MyAssetEvent.from_json(data)
        except (ValueError, KeyError, TypeError, ArithmeticError, AttributeError):
            logger.warning("ignoring a malformed %s message", kind)
            if kind == "myAsset":  # some balance changed, which one is not known
                return MyAssetEvent((), readable=False)
        return None  # {"status": "UP"} keep-alive answers, other types, malformed ones

    async def run(
        self,
        on_event: EventCallback,
        on_state_change: StateCallback | None,
        stop_event: asyncio.Event,
    ) -> None:
        """Stay subscribed until ``stop_event`` is set, reconnecting with capped backoff.

        ``on_state_change(True)`` after each successful subscribe, ``(False)`` after each
        drop. An exception from ``on_event`` is logged and does not end the stream.
        """
        backoff = Backoff(self._backoff_initial, self._backoff_max, self._stable_after)
        while not stop_event.is_set():
            opened_at: float | None = None

            async def mark_open() -> None:
                nonlocal opened_at
                opened_at = time.monotonic()
                await _notify(on_state_change, True)

            session = asyncio.create_task(self._consume(mark_open, on_event))
            stopper = asyncio.create_task(stop_event.wait())
            try:
                await asyncio.wait({session, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (session, stopper):
                    task.cancel()
                await asyncio.gather(session, stopper, return_exceptions=True)
            if session.done() and not session.cancelled():
                error = session.exception()
                if error is not None and not isinstance(error, UpbitError):
                    raise error
                if error is not None:
                    logger.warning("myOrder stream down: %s (%s)", type(error).__name__, error)
            lived = None if opened_at is None else time.monotonic() - opened_at
            if opened_at is not None:
                await _notify(on_state_change, False)
            if stop_event.is_set():
                break
            wait = backoff.after(lived) * random.uniform(0.8, 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), timeout=wait)

    async def _consume(
        self, on_open: Callable[[], Awaitable[None]], on_event: EventCallback
    ) -> None:
        async with contextlib.aclosing(self._stream(on_open)) as stream:
            async for event in stream:
                try:
                    await on_event(event)
                except Exception:
                    logger.exception("myOrder event handler failed")


async def _notify(callback: StateCallback | None, connected: bool) -> None:
    if callback is None:
        return
    try:
        await callback(connected)
    except Exception:
        logger.exception("myOrder state callback failed")
