"""`SqlPaperBalances`: the paper account in the database, exact and never overdrawn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_sessionmaker
from bot.db.paper import SqlPaperBalances
from bot.upbit.models import Account
from tests.db_fixtures import db_engine, db_sessions, db_url, engine_factory

__all__ = ["db_engine", "db_sessions", "db_url", "engine_factory"]

SEED = {"KRW": Decimal("1000000"), "BTC": Decimal("0.05"), "ETH": Decimal("1.2")}


@pytest.fixture
def paper(db_sessions: async_sessionmaker[AsyncSession]) -> SqlPaperBalances:
    return SqlPaperBalances(db_sessions)


@pytest.fixture
def second_paper(
    db_engine: AsyncEngine, engine_factory: Callable[[], AsyncEngine]
) -> SqlPaperBalances:
    return SqlPaperBalances(create_sessionmaker(engine_factory()))


async def balances(paper: SqlPaperBalances) -> dict[str, Decimal]:
    return {a.currency: a.balance for a in await paper.get_all()}


async def test_seed_once(paper: SqlPaperBalances) -> None:
    assert await paper.get_all() == []
    assert await paper.seed_if_empty(SEED) is True
    assert await paper.seed_if_empty({"KRW": Decimal(5)}) is False
    accounts = await paper.get_all()
    assert accounts == [
        Account("BTC", Decimal("0.05"), Decimal(0), Decimal(0), False, "KRW"),
        Account("ETH", Decimal("1.2"), Decimal(0), Decimal(0), False, "KRW"),
        Account("KRW", Decimal("1000000"), Decimal(0), Decimal(0), False, "KRW"),
    ]


async def test_seed_with_nothing_stores_nothing(paper: SqlPaperBalances) -> None:
    assert await paper.seed_if_empty({}) is False
    assert await paper.seed_if_empty({"KRW": Decimal(7)}) is True
    assert await balances(paper) == {"KRW": Decimal(7)}


async def test_concurrent_seeds_one_wins(
    paper: SqlPaperBalances, second_paper: SqlPaperBalances
) -> None:
    results = await asyncio.gather(
        paper.seed_if_empty(SEED), second_paper.seed_if_empty({"KRW": Decimal(1)})
    )
    assert sorted(results) == [False, True]
    assert await balances(paper) in (SEED, {"KRW": Decimal(1)})


async def test_sell_moves_exact_amounts(paper: SqlPaperBalances) -> None:
    await paper.seed_if_empty(SEED)
    assert await paper.apply_market_sell(
        "BTC", Decimal("0.0123"), "KRW", Decimal("1234567.89012345")
    )
    assert await balances(paper) == {
        "BTC": Decimal("0.0377"),
        "ETH": Decimal("1.2"),
        "KRW": Decimal("2234567.89012345"),
    }
    assert await paper.apply_market_sell("eth", Decimal("0.00000001"), "krw", Decimal("0.1"))
    after = await balances(paper)
    assert after["ETH"] == Decimal("1.19999999")
    assert format(after["KRW"], "f") == "2234567.99012345"


async def test_sell_creates_the_quote_currency(paper: SqlPaperBalances) -> None:
    await paper.seed_if_empty({"XRP": Decimal("100")})
    assert await paper.apply_market_sell("XRP", Decimal("40"), "BTC", Decimal("0.00123456"))
    accounts = {a.currency: a for a in await paper.get_all()}
    assert accounts["XRP"].balance == Decimal("60")
    assert accounts["BTC"].balance == Decimal("0.00123456")
    assert accounts["BTC"].unit_currency == "KRW"


async def test_selling_everything_drops_the_holding(paper: SqlPaperBalances) -> None:
    await paper.seed_if_empty(SEED)
    assert await paper.apply_market_sell("BTC", Decimal("0.05"), "KRW", Decimal("5000000"))
    assert await balances(paper) == {"ETH": Decimal("1.2"), "KRW": Decimal("6000000")}
    assert await paper.apply_market_sell("BTC", Decimal("0.00000001"), "KRW", Decimal(1)) is False


async def test_insufficient_balance_changes_nothing(paper: SqlPaperBalances) -> None:
    await paper.seed_if_empty(SEED)
    before = await paper.get_all()
    assert await paper.apply_market_sell("BTC", Decimal("0.05000001"), "KRW", Decimal(1)) is False
    assert await paper.apply_market_sell("DOGE", Decimal(1), "KRW", Decimal(1)) is False
    assert await paper.apply_market_sell("ETH", Decimal("2"), "USDT", Decimal(1)) is False
    assert await paper.get_all() == before


@pytest.mark.parametrize(
    ("volume", "proceeds"),
    [(Decimal(0), Decimal(1)), (Decimal(-1), Decimal(1)), (Decimal(1), Decimal(-1))],
)
async def test_nonsense_sell_is_refused(
    paper: SqlPaperBalances, volume: Decimal, proceeds: Decimal
) -> None:
    await paper.seed_if_empty(SEED)
    with pytest.raises(ValueError, match="positive volume"):
        await paper.apply_market_sell("BTC", volume, "KRW", proceeds)
    assert await balances(paper) == SEED


async def test_concurrent_sells_never_overdraw(
    paper: SqlPaperBalances, second_paper: SqlPaperBalances
) -> None:
    await paper.seed_if_empty({"BTC": Decimal("1"), "ETH": Decimal("1"), "KRW": Decimal(0)})
    sells = [
        p.apply_market_sell(coin, Decimal("0.07"), "KRW", Decimal("0.00000001"))
        for p in (paper, second_paper)
        for coin in ("BTC", "ETH")
        for _ in range(8)
    ]
    results = await asyncio.gather(*sells)
    assert results.count(True) == 28  # 14 of 16 per coin fit into 1.0
    assert await balances(paper) == {
        "BTC": Decimal("0.02"),
        "ETH": Decimal("0.02"),
        "KRW": Decimal("0.00000028"),
    }


async def test_execute_sell_stores_the_order_with_the_balances(paper: SqlPaperBalances) -> None:
    await paper.seed_if_empty(SEED)
    assert await paper.execute_sell(
        "BTC", Decimal("0.01"), "KRW", Decimal(95), uuid="u1", identifier="i1", order_json="{1}"
    )
    assert await paper.get_order_json(uuid="u1") == "{1}"
    assert await paper.get_order_json(identifier="i1") == "{1}"
    assert await paper.get_order_json(uuid="u2") is None
    assert (await balances(paper))["BTC"] == Decimal("0.04")
    with pytest.raises(ValueError, match="exactly one"):
        await paper.get_order_json()


async def test_execute_sell_short_balance_stores_nothing(paper: SqlPaperBalances) -> None:
    await paper.seed_if_empty(SEED)
    assert not await paper.execute_sell(
        "BTC", Decimal("1"), "KRW", Decimal(1), uuid="u1", identifier="i1", order_json="{}"
    )
    assert await paper.get_order_json(identifier="i1") is None
    assert await balances(paper) == SEED


async def test_execute_sell_reused_identifier_changes_nothing(paper: SqlPaperBalances) -> None:
    await paper.seed_if_empty(SEED)
    assert await paper.execute_sell(
        "BTC", Decimal("0.01"), "KRW", Decimal(1), uuid="u1", identifier="i1", order_json="{1}"
    )
    before = await balances(paper)
    with pytest.raises(IntegrityError):
        await paper.execute_sell(
            "BTC", Decimal("0.01"), "KRW", Decimal(1), uuid="u2", identifier="i1", order_json="{2}"
        )
    assert await balances(paper) == before
    assert await paper.get_order_json(uuid="u2") is None
