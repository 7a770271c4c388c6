"""The watching-at-scale scenario of the bench: hundreds of open limit orders and alerts.

The bot's database is seeded before the bot starts (the orders really rest on the Upbit
stand-in, placed with the bot's own client; the alerts are rows as /alert would write them),
then the bot runs with the WebSocket on or off while the bench counts every Upbit request
per second, closes some orders on the stand-in (fill/close -> notice) and moves some prices
across alert targets (price -> alert message).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.db.alerts import SqlAlertRepository
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade_to_head
from bot.db.repository import SqlOrderRepository
from bot.domain import NewOrder
from bot.services.alerts import Direction, NewAlert
from bot.services.upbit_answers import created
from bot.upbit.client import UpbitClient

if TYPE_CHECKING:
    from bench.run import Driver
    from tests.standins.telegram import Call

LIMIT_PRICE = Decimal(200_000_000)  # far above the book: the orders rest
LIMIT_VOLUME = Decimal("0.0001")
ORDER_CHATS = 5  # the orders belong to the first users in turn, so closes in a row go to
# different chats and stay under Telegram's per-chat pace (about one message a second)
CLOSE_GAP = (0.2, 1.45)  # seconds between closes, drawn at random: spans a polling sweep's
# interval (500 orders: 5 batch calls at 4 a second), so the closes do not fall into step
# with the sweeps and always meet them at the same point
ALERT_GAP = (0.3, 1.3)  # the same after each market's alerts (the polling alert interval 1 s)
_draw = random.Random(15)  # the same gaps on every run


@dataclass(frozen=True)
class Seeded:
    orders: list[tuple[str, int]]  # (uuid, the chat its notice goes to)
    alerts_by_market: dict[str, int]


def seed_database(
    url: str, upbit: Any, orders: int, alerts: int, users: tuple[int, ...], markets: list[str]
) -> Seeded:
    upgrade_to_head(url)
    return asyncio.run(_seed(url, upbit, orders, alerts, users, markets))


async def _seed(
    url: str, upbit: Any, orders: int, alerts: int, users: tuple[int, ...], markets: list[str]
) -> Seeded:
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    repo = SqlOrderRepository(sessions)
    alert_repo = SqlAlertRepository(sessions)
    saved = dict(upbit.rate_limits)
    upbit.rate_limits["order"] = 1_000_000  # seeding is not what is measured
    orders_made: list[tuple[str, int]] = []
    try:
        async with UpbitClient(upbit.access_key, upbit.secret_key, base_url=upbit.url) as client:
            for i in range(orders):
                identifier = f"usb-bench-{time.time_ns()}-{i}"
                owner = users[i % ORDER_CHATS]
                await repo.record_submitting(
                    NewOrder(
                        identifier=identifier,
                        pending_id=None,
                        user_id=owner,
                        chat_id=owner,
                        lang="en",
                        market="KRW-BTC",
                        side="ask",
                        ord_type="limit",
                        requested_volume=LIMIT_VOLUME,
                        paper=False,
                        created_at=datetime.now(UTC),
                        price=LIMIT_PRICE,
                    )
                )
                order = await client.limit_sell("KRW-BTC", LIMIT_VOLUME, LIMIT_PRICE, identifier)
                await repo.update_order(identifier, created(order))
                orders_made.append((order.uuid, owner))
        for i in range(alerts):
            market = markets[i % len(markets)]
            listed = upbit.market(market)
            assert listed is not None
            price = listed.last_price
            await alert_repo.add_alert(
                NewAlert(
                    user_id=users[1 + i % (len(users) - 1)],
                    chat_id=users[1 + i % (len(users) - 1)],
                    language_code="en",
                    market=market,
                    direction=Direction.ABOVE,
                    target_price=price * 2,
                    percent=None,
                    basis_price=None,
                    created_at=datetime.now(UTC),
                ),
                cap=1_000_000,
            )
    finally:
        upbit.rate_limits.clear()
        upbit.rate_limits.update(saved)
        await engine.dispose()
    return Seeded(orders_made, dict(Counter(markets[i % len(markets)] for i in range(alerts))))


def calls_per_second(driver: Driver, seconds: float) -> dict[str, Any]:
    """Every Upbit REST request the bot makes during ``seconds`` of watching."""
    mark = driver.upbit.span_mark()
    time.sleep(seconds)
    spans = driver.upbit.spans_since(mark)
    by_endpoint = Counter(s.endpoint for s in spans)
    return {
        "window_s": seconds,
        "per_second": round(len(spans) / seconds, 2),
        "by_endpoint_per_second": {k: round(v / seconds, 2) for k, v in by_endpoint.items()},
    }


def close_latencies(driver: Driver, orders: list[tuple[str, int]], count: int) -> list[float]:
    """Close resting orders on the stand-in one at a time; seconds until each notice."""
    samples: list[float] = []
    for uuid, chat in orders[:count]:
        mark = driver.tg.mark()
        t0 = time.time()
        driver.upbit.cancel_order(uuid)
        notice = driver.tg.wait_for_message(chat, _notice_of(uuid), timeout=30, after=mark)
        samples.append(notice.at - t0)
        time.sleep(_draw.uniform(*CLOSE_GAP))
    return samples


def _notice_of(uuid: str) -> Callable[[Call], bool]:
    from bench.run import is_notice

    return lambda call: is_notice(call, uuid)


def alert_latencies(driver: Driver, alerts_by_market: dict[str, int], count: int) -> list[float]:
    """Move a market's price above its alerts' targets; seconds until each alert message."""
    samples: list[float] = []
    for market, expected in list(alerts_by_market.items())[:count]:
        upbit = driver.upbit
        listed = upbit.market(market)
        assert listed is not None
        before = listed.last_price
        mark = driver.tg.mark()
        t0 = time.time()
        upbit.set_ticker(market, trade_price=before * 3)
        coin = market.partition("-")[2]
        seen: list[float] = []
        deadline = time.time() + 30
        while len(seen) < expected and time.time() < deadline:
            calls = [
                c
                for c in driver.tg.calls("sendMessage", after=mark)
                if str(c.params.get("text", "")).startswith(f"🔔 {coin} ")
            ]
            seen = [c.at - t0 for c in calls]
            time.sleep(0.02)
        samples.extend(seen)
        upbit.set_ticker(market, trade_price=before)
        time.sleep(_draw.uniform(*ALERT_GAP))
    return samples


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(0.95 * len(ordered) + 0.4999)))
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(ordered[rank - 1] * 1000, 1),
    }
