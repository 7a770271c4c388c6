"""MyOrderStream against the stand-in's private WebSocket (real sockets, verified JWTs)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from bot.upbit import AuthError, MyOrderEvent, UpbitTransportError
from bot.upbit.client import UpbitClient
from bot.upbit.models import MyAssetEvent
from bot.upbit.ws import CONNECT_PACER, Backoff, MyOrderStream, StreamEvent
from tests.standins.upbit import UpbitStandIn

TIMEOUT = 5.0

# The stand-in's blocking calls (wait_for_ws_subscribers, drop_ws_connections: its close
# handshake waits for the client's answer) run in a thread so the client can answer.


def make_stream(stand: UpbitStandIn, **kwargs: object) -> MyOrderStream:
    return MyOrderStream(
        stand.access_key,
        stand.secret_key,
        stand.ws_url,
        backoff_initial=0.05,
        backoff_max=0.2,
        **kwargs,  # type: ignore[arg-type]
    )


def rest_client(stand: UpbitStandIn) -> UpbitClient:
    return UpbitClient(stand.access_key, stand.secret_key, base_url=stand.url, timeout=5.0)


async def wait_subscribed(stand: UpbitStandIn, count: int = 1) -> None:
    assert await asyncio.to_thread(stand.wait_for_ws_subscribers, count, TIMEOUT)


async def until(predicate: object, timeout: float = TIMEOUT) -> None:
    assert callable(predicate)
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def collecting(
    stream: MyOrderStream, kind: type[StreamEvent] = MyOrderEvent
) -> AsyncIterator[asyncio.Queue[StreamEvent]]:
    """Consume ``stream.events()`` in a task; yields the queue of received ``kind`` events."""
    queue: asyncio.Queue[StreamEvent] = asyncio.Queue()

    async def consume() -> None:
        async with contextlib.aclosing(stream.events()) as events:
            async for event in events:
                if isinstance(event, kind):
                    queue.put_nowait(event)

    task = asyncio.create_task(consume())
    try:
        yield queue
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, UpbitTransportError):
            await task


async def test_events_arrive_for_a_placed_order(upbit_standin: UpbitStandIn) -> None:
    stream = make_stream(upbit_standin)
    assert not stream.connected
    async with collecting(stream) as queue:
        await wait_subscribed(upbit_standin)
        assert stream.connected
        # Keep-alive answers and other types are skipped, not yielded.
        upbit_standin.ws_broadcast({"status": "UP"})
        upbit_standin.ws_broadcast({"type": "myAsset", "assets": []})
        async with rest_client(upbit_standin) as client:
            order = await client.sell_market("KRW-XRP", Decimal(100), "usb-ws-1")
        states: list[str] = []
        async with asyncio.timeout(TIMEOUT):
            while "done" not in states:
                event = await queue.get()
                assert isinstance(event, MyOrderEvent)
                assert event.uuid == order.uuid
                assert event.identifier == "usb-ws-1"
                assert event.market == "KRW-XRP"
                states.append(event.state)
    assert "trade" in states
    assert not stream.connected


async def test_asset_events_carry_the_changed_balances(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.set_account("XRP", balance=1000)
    stream = make_stream(upbit_standin)
    async with collecting(stream, MyAssetEvent) as queue:
        await wait_subscribed(upbit_standin)
        async with rest_client(upbit_standin) as client:
            await client.sell_market("KRW-XRP", Decimal(100), "usb-ws-asset")
        balances: dict[str, Decimal] = {}
        async with asyncio.timeout(TIMEOUT):
            while balances.get("XRP") != Decimal(900):
                event = await queue.get()
                assert isinstance(event, MyAssetEvent)
                balances.update(event.balances)
        # A deposit or withdrawal (here: the stand-in's account set by hand) is told too.
        upbit_standin.set_account("XRP", balance=250)
        async with asyncio.timeout(TIMEOUT):
            while balances.get("XRP") != Decimal(250):
                event = await queue.get()
                assert isinstance(event, MyAssetEvent)
                balances.update(event.balances)
    assert "KRW" in balances


async def test_events_raise_transport_error_when_dropped(upbit_standin: UpbitStandIn) -> None:
    stream = make_stream(upbit_standin)

    async def consume() -> None:
        async for _ in stream.events():
            pass

    task = asyncio.create_task(consume())
    await wait_subscribed(upbit_standin)
    assert await asyncio.to_thread(upbit_standin.drop_ws_connections) == 1
    with pytest.raises(UpbitTransportError):
        await asyncio.wait_for(task, TIMEOUT)
    assert not stream.connected


async def test_wrong_secret_is_rejected_at_upgrade(upbit_standin: UpbitStandIn) -> None:
    stream = MyOrderStream(upbit_standin.access_key, "not-the-secret", upbit_standin.ws_url)
    with pytest.raises(AuthError) as info:
        async for _ in stream.events():
            pass
    assert info.value.name == "jwt_verification"
    assert upbit_standin.ws_connections_made == 0


async def test_run_reconnects_with_a_fresh_token(upbit_standin: UpbitStandIn) -> None:
    stream = make_stream(upbit_standin, ping_interval=0.2)
    states: list[bool] = []
    events: list[MyOrderEvent] = []
    stop = asyncio.Event()

    async def on_event(event: StreamEvent) -> None:
        if isinstance(event, MyOrderEvent):
            events.append(event)

    async def on_state(connected: bool) -> None:
        states.append(connected)

    runner = asyncio.create_task(stream.run(on_event, on_state, stop))
    try:
        await until(lambda: states == [True])
        assert await asyncio.to_thread(upbit_standin.drop_ws_connections) == 1
        await until(lambda: states == [True, False, True])
        await wait_subscribed(upbit_standin)
        # The nonce is single use: reusing the first token would have been rejected.
        assert upbit_standin.ws_connections_made == 2
        assert upbit_standin.ws_rejected_count == 0

        async with rest_client(upbit_standin) as client:
            order = await client.sell_market("KRW-XRP", Decimal(100), "usb-ws-2")
        await until(lambda: any(e.uuid == order.uuid and e.state == "done" for e in events))
    finally:
        stop.set()
        await asyncio.wait_for(runner, TIMEOUT)
    assert states == [True, False, True, False]
    assert not stream.connected


async def test_run_backs_off_while_server_refuses(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.ws_enabled = False
    stream = make_stream(upbit_standin)
    states: list[bool] = []
    stop = asyncio.Event()

    async def on_event(event: StreamEvent) -> None:
        raise AssertionError("no events expected")

    async def on_state(connected: bool) -> None:
        states.append(connected)

    runner = asyncio.create_task(stream.run(on_event, on_state, stop))
    await until(lambda: upbit_standin.ws_rejected_count >= 2)
    assert states == []
    upbit_standin.ws_enabled = True
    await until(lambda: states == [True])
    stop.set()
    await asyncio.wait_for(runner, TIMEOUT)
    assert states == [True, False]


def test_repr_masks_keys() -> None:
    stream = MyOrderStream("abcdefghij", "super-secret-value", "ws://127.0.0.1:1/websocket/v1")
    text = repr(stream)
    assert "super-secret-value" not in text
    assert "abcdefghij" not in text
    assert "abcd***" in text


def test_subscription_frame() -> None:
    stream = MyOrderStream("a", "b", codes=["krw-btc"])
    ticket, order, asset, fmt = stream.subscription()
    assert isinstance(ticket["ticket"], str) and ticket["ticket"]
    assert order == {"type": "myOrder", "codes": ["KRW-BTC"]}
    assert asset == {"type": "myAsset"}  # Upbit refuses codes on myAsset (WRONG_FORMAT)
    assert fmt == {"format": "DEFAULT"}
    assert MyOrderStream("a", "b").subscription()[1] == {"type": "myOrder"}


# ------------------------------------------------------------------ reconnect pacing


def test_backoff_is_reset_only_after_a_connection_lived_30_seconds() -> None:
    backoff = Backoff(initial=0.5, cap=30.0, stable_after=30.0)
    assert [backoff.after(None) for _ in range(3)] == [0.5, 1.0, 2.0]  # never connected
    assert backoff.after(5.0) == 4.0  # connected, dropped after 5 s: keeps growing
    assert backoff.after(29.9) == 8.0
    assert [backoff.after(0.1) for _ in range(4)] == [16.0, 30.0, 30.0, 30.0]
    assert backoff.after(30.0) == 0.5  # a connection that lived 30 s: start over
    assert backoff.after(0.2) == 1.0


async def _flapping_run(
    stand: UpbitStandIn, streams: list[MyOrderStream], connects: int
) -> list[float]:
    """Run ``streams`` against a server that closes every connection once subscribed,
    until it has seen ``connects`` upgrade requests; returns their times."""
    stand.ws_close_on_subscribe = True
    stop = asyncio.Event()

    async def ignore(_: object) -> None:
        return None

    runners = [asyncio.create_task(s.run(ignore, ignore, stop)) for s in streams]
    try:
        await until(lambda: len(stand.ws_connect_times) >= connects, timeout=30.0)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*runners), TIMEOUT)
    return stand.ws_connect_times[:connects]


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


async def test_connects_are_paced_one_a_second_per_process_whatever_the_server_does(
    upbit_standin: UpbitStandIn,
) -> None:
    # Two streams with a near-zero backoff against a server that drops every connection at
    # once: the process-wide pacer still allows one connect a second, so Upbit's 5 a
    # second (websocket-connect) is never reached.
    streams = [
        MyOrderStream(
            upbit_standin.access_key,
            upbit_standin.secret_key,
            upbit_standin.ws_url,
            backoff_initial=0.01,
            backoff_max=0.01,
        )
        for _ in range(2)
    ]
    times = await _flapping_run(upbit_standin, streams, connects=5)
    # Server-side arrival times; 0.05 s of slack for the trip from the pacer to the server.
    assert min(_gaps(times)) >= CONNECT_PACER.interval - 0.05, _gaps(times)
    assert upbit_standin.ws_rejected_count == 0


async def test_a_flapping_server_sees_the_backoff_grow(upbit_standin: UpbitStandIn) -> None:
    stream = MyOrderStream(
        upbit_standin.access_key,
        upbit_standin.secret_key,
        upbit_standin.ws_url,
        backoff_initial=0.3,
        backoff_max=10.0,
    )
    times = await _flapping_run(upbit_standin, [stream], connects=5)
    # Delays 0.3, 0.6, 1.2, 2.4 (x 0.8-1.0 jitter), never reset by the short-lived
    # connections: the last gap is at least 2.4 x 0.8 (a reset would keep it near 1 s).
    assert _gaps(times)[-1] >= 1.9, _gaps(times)


async def test_a_shared_pacer_is_asked_before_every_connect(upbit_standin: UpbitStandIn) -> None:
    asked: list[int] = []

    async def shared() -> None:
        asked.append(upbit_standin.ws_connections_made)

    stream = MyOrderStream(
        upbit_standin.access_key,
        upbit_standin.secret_key,
        upbit_standin.ws_url,
        backoff_initial=0.05,
        shared_pacer=shared,
    )
    times = await _flapping_run(upbit_standin, [stream], connects=2)
    assert len(times) == 2
    # Asked before the first connect (none made yet) and before the second.
    assert asked[:2] == [0, 1]
