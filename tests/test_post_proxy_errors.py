"""An order POST answered with a 4xx that is not Upbit's own JSON error (a proxy's HTML
404, 403, 408, 499 ...) proves nothing about the order: it is looked up by identifier,
never reported as "Nothing was sold".

Real Upbit client and sell service against the Upbit stand-in (which answers such pages on
demand), with the real order log (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.repository import SqlOrderRepository
from bot.domain import OrderState
from bot.services.sell import ConfirmStatus, SellService
from bot.upbit import OrderOutcomeUnknown
from bot.upbit.client import UpbitClient
from bot.upbit.errors import InsufficientFunds
from tests.standins.upbit import UpbitStandIn

OWNER = 1001
PROXY_STATUSES = [404, 403, 408, 499]


@pytest.fixture
async def client(upbit_standin: UpbitStandIn) -> AsyncIterator[UpbitClient]:
    upbit_standin.add_market("KRW-TST", bids=[(1000, 10), (990, 20)], asks=[(1001, 10)])
    upbit_standin.set_account("TST", balance=40, avg_buy_price=900)
    async with UpbitClient(
        upbit_standin.access_key, upbit_standin.secret_key, base_url=upbit_standin.url
    ) as upbit:
        yield upbit


@pytest.mark.parametrize("status", PROXY_STATUSES)
async def test_client_takes_a_proxy_page_for_an_unknown_outcome(
    client: UpbitClient, upbit_standin: UpbitStandIn, status: int
) -> None:
    upbit_standin.fail_next("POST", "/v1/orders", "proxy_error", status=status)
    with pytest.raises(OrderOutcomeUnknown) as caught:
        await client.sell_market("KRW-TST", Decimal(5), "usb-proxy-page")
    assert caught.value.identifier == "usb-proxy-page"
    assert len(upbit_standin.requests_to("POST", "/v1/orders")) == 1  # never re-sent


async def test_client_still_takes_upbits_own_refusal_as_a_refusal(
    client: UpbitClient, upbit_standin: UpbitStandIn
) -> None:
    upbit_standin.fail_next("POST", "/v1/orders", "insufficient_funds_ask")
    with pytest.raises(InsufficientFunds):
        await client.sell_market("KRW-TST", Decimal(5), "usb-upbit-refusal")


async def _sell(
    client: UpbitClient, sessions: async_sessionmaker[AsyncSession]
) -> tuple[SellService, SqlOrderRepository, str]:
    repo = SqlOrderRepository(sessions)
    sell = SellService(client, repo, confirm_timeout=timedelta(seconds=60), lookup_delays=(0,))
    preview = await sell.preview(["tst", "5"], user_id=OWNER, chat_id=OWNER, lang="en")
    return sell, repo, preview.pending_id


@pytest.mark.parametrize("status", PROXY_STATUSES)
async def test_order_created_behind_a_proxy_error_is_found_and_placed(
    client: UpbitClient,
    upbit_standin: UpbitStandIn,
    db_sessions: async_sessionmaker[AsyncSession],
    status: int,
) -> None:
    # Upbit creates the order; the proxy in front answers its own error page instead.
    sell, repo, pending_id = await _sell(client, db_sessions)
    upbit_standin.fail_next("POST", "/v1/orders", "proxy_error_after_create", status=status)
    result = await sell.confirm(pending_id, OWNER)
    assert result.status is ConfirmStatus.PLACED and result.order is not None
    assert len(upbit_standin.requests_to("POST", "/v1/orders")) == 1
    assert list(upbit_standin.orders) == [result.order.uuid]
    record = await repo.get_order(result.order.id)
    assert record is not None and record.state is not OrderState.FAILED


async def test_proxy_error_with_no_order_stays_unknown_for_the_watcher(
    client: UpbitClient,
    upbit_standin: UpbitStandIn,
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Nothing reached Upbit, but the bot cannot know that: not "Nothing was sold"; the
    # order stays submitting and the fill watcher decides after repeated not-found answers.
    sell, repo, pending_id = await _sell(client, db_sessions)
    upbit_standin.fail_next("POST", "/v1/orders", "proxy_error", status=404)
    result = await sell.confirm(pending_id, OWNER)
    assert result.status is ConfirmStatus.UNKNOWN and result.order is not None
    record = await repo.get_order(result.order.id)
    assert record is not None and record.state is OrderState.SUBMITTING
    lookups = [
        r
        for r in upbit_standin.requests_to("GET", "/v1/order")
        if r.query.get("identifier") == [record.identifier]
    ]
    assert lookups, "the order was not looked up by its identifier"
    assert len(upbit_standin.requests_to("POST", "/v1/orders")) == 1
