"""A 418 block is waited out for the time Upbit states; nothing of that group is sent meanwhile.

The client against scripted answers (the formats a 418 may come in) and against the stand-in.
"""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from bot.upbit import RateLimited
from bot.upbit.client import UpbitClient
from bot.upbit.errors import stated_block_seconds
from tests.standins.upbit import UpbitStandIn
from tests.test_upbit_client import ORDER_JSON, Recorder, mock_client


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("Too many API requests. Your IP is temporarily blocked for 60 seconds.", 60),
        (
            '{"error": {"name": "too_many_requests", "message": "요청이 30초 동안 차단됩니다."}}',
            30,
        ),
        ("blocked for 2 minutes", 120),
        ("1분 30초 후에 다시 시도해 주세요", 90),
        ("blocked 1 hour", 3600),
        ("blocked for 600 sec", 600),
        ("blocked", None),
        ("", None),
    ],
)
def test_stated_block_seconds(text: str, seconds: int | None) -> None:
    assert stated_block_seconds(text) == seconds


BLOCKED_3S = httpx.Response(
    418, json={"error": {"name": "too_many_requests", "message": "3초 동안 요청이 차단됩니다."}}
)


async def test_a_short_block_is_waited_out_then_the_read_goes_through() -> None:
    rec = Recorder(BLOCKED_3S, httpx.Response(200, json=[]))
    async with mock_client(rec, max_block_wait=10) as client:
        started = time.monotonic()
        assert await client.accounts() == []
        waited = time.monotonic() - started
    assert len(rec.requests) == 2
    assert waited >= 2.9  # the stated 3 s, not a short backoff


async def test_retry_after_header_states_the_block() -> None:
    rec = Recorder(httpx.Response(418, headers={"Retry-After": "45"}, text="no words"))
    async with mock_client(rec) as client:
        with pytest.raises(RateLimited) as info:
            await client.accounts()
        assert info.value.retry_after == Decimal(45)
        assert 40 < client.rate_blocks()["default"] <= 45


async def test_an_unreadable_block_is_taken_as_60_seconds() -> None:
    rec = Recorder(httpx.Response(418, text="<html>teapot</html>"))
    async with mock_client(rec) as client:
        with pytest.raises(RateLimited) as info:
            await client.accounts()
        assert info.value.retry_after == Decimal(60)
        assert 55 < client.rate_blocks()["default"] <= 60


async def test_nothing_of_a_blocked_group_is_sent_until_the_block_ends() -> None:
    rec = Recorder(
        httpx.Response(418, text="blocked for 600 seconds"),
        httpx.Response(201, json=ORDER_JSON),
    )
    async with mock_client(rec) as client:
        with pytest.raises(RateLimited):
            await client.accounts()
        assert len(rec.requests) == 1
        # Every default-group call is refused here, without a request; so is waiting.
        for call in (client.accounts, lambda: client.get_order(uuid="u-1")):
            with pytest.raises(RateLimited) as info:
                await call()
            assert info.value.status == 418
            assert info.value.retry_after is not None and info.value.retry_after > 590
        assert len(rec.requests) == 1
        # Another group is not blocked: the order group still answers.
        order = await client.sell_market("KRW-BTC", Decimal("0.00000001"), "usb-1")
        assert order.uuid == ORDER_JSON["uuid"]
        assert [r.url.path for r in rec.requests] == ["/v1/accounts", "/v1/orders"]
        assert set(client.rate_blocks()) == {"default"}


async def test_an_order_is_never_sent_into_a_block() -> None:
    rec = Recorder(httpx.Response(418, text="blocked for 5 seconds"))
    async with mock_client(rec, max_block_wait=10) as client:
        with pytest.raises(RateLimited):
            await client.sell_market("KRW-BTC", Decimal("0.00000001"), "usb-1")
        with pytest.raises(RateLimited):  # not waited, not sent
            await client.sell_market("KRW-BTC", Decimal("0.00000001"), "usb-2")
    assert len(rec.requests) == 1


async def test_standin_418_blocks_the_group(upbit_standin: UpbitStandIn) -> None:
    upbit_standin.fail_next("GET", "/v1/accounts", "418")
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as client:
        with pytest.raises(RateLimited):
            await client.accounts()
        with pytest.raises(RateLimited):
            await client.order_chance("KRW-BTC")
        assert "default" in client.rate_blocks()
        assert await client.tickers(["KRW-BTC"])  # quotation groups are not blocked
    assert len(upbit_standin.requests_to("GET", "/v1/accounts")) == 1
    assert upbit_standin.requests_to("GET", "/v1/orders/chance") == []
