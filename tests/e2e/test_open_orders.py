"""/open end to end: the real bot against the Telegram and Upbit stand-ins.

Open orders of every market (placed elsewhere: with a client straight on the stand-in, as
Upbit's app would), paged; a cancel button asks first (first button confirms), then one
DELETE /v1/order; the question is edited with the outcome; a cancelled order that had
fills is announced once, one without fills is not announced again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.repository import SqlOrderRepository
from bot.upbit.client import UpbitClient
from tests.e2e.harness import BotFactory
from tests.standins.telegram import Call
from tests.standins.upbit import UpbitStandIn

D = Decimal


def text_of(call: Call) -> str:
    return str(call.params.get("text", ""))


def buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqlOrderRepository]:
    """The order log of the bot that ``bot_factory()`` starts (its default database)."""
    engine = create_engine(f"sqlite:///{tmp_path}/bot.db")
    try:
        yield SqlOrderRepository(create_sessionmaker(engine))
    finally:
        await engine.dispose()


async def place_outside(stand: UpbitStandIn, count: int, *, start: int = 900) -> list[str]:
    """Resting limit sells of 10 XRP each at ``start``, ``start + 1``, … (newest last)."""
    async with UpbitClient(stand.access_key, stand.secret_key, base_url=stand.url) as client:
        return [
            (await client.limit_sell("KRW-XRP", D(10), D(start + i), f"app-{start}-{i}")).uuid
            for i in range(count)
        ]


async def test_open_lists_pages_and_cancels_after_asking(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn, repo: SqlOrderRepository
) -> None:
    uuids = await place_outside(upbit_standin, 12)
    bot = await bot_factory()

    listing = await bot.command("/open")
    text = text_of(listing)
    assert "Open orders on Upbit" in text and "page 1" in text
    assert "#1 KRW-XRP · sell limit · 911.0 KRW" in text  # newest first, the tick's digits
    assert "0 of 10 XRP filled (0%)" in text
    cancel_buttons = [b for b in buttons(listing) if b["callback_data"].startswith("oc:")]
    assert [b["callback_data"][3:] for b in cancel_buttons] == list(reversed(uuids))[:10]
    nav = [b["callback_data"] for b in buttons(listing) if b["callback_data"].startswith("op:")]
    assert nav == ["op:2"]

    mark = await bot.press(listing.result["message_id"], "op:2")
    page2 = await bot.edit_after(mark, listing.result["message_id"])
    assert "#11 KRW-XRP" in text_of(page2) and "#12 KRW-XRP" in text_of(page2)
    assert [b["callback_data"][3:] for b in buttons(page2) if b["callback_data"][:3] == "oc:"] == [
        uuids[1],
        uuids[0],
    ]

    # Ask first: a message of its own whose first button confirms. Nothing is cancelled yet.
    mark = await bot.press(listing.result["message_id"], f"oc:{uuids[0]}")
    question = await bot.message_after(mark, contains="Cancel this order?")
    assert buttons(question)[0]["callback_data"] == f"oy:{uuids[0]}"
    assert buttons(question)[1]["callback_data"] == f"on:{uuids[0]}"
    assert upbit_standin.requests_to("DELETE", "/v1/order") == []

    mark = await bot.press(question.result["message_id"], f"oy:{uuids[0]}")
    outcome = await bot.edit_after(mark, question.result["message_id"])
    assert "Order cancelled" in text_of(outcome) and "nothing of it had been executed" in text_of(
        outcome
    )
    assert not buttons(outcome)
    deletes = upbit_standin.requests_to("DELETE", "/v1/order")
    assert [d.query["uuid"] for d in deletes] == [[uuids[0]]]
    assert upbit_standin.order(uuids[0]).state == "cancel"  # type: ignore[union-attr]
    # The edit was its only word: logged as announced, no "nothing sold" notice follows.
    row = await repo.get_order_by_uuid(uuids[0])
    assert row is not None
    assert row.announced_at is not None
    await bot.services.watcher.sweep()
    assert not [c for c in bot.tg.calls("sendMessage", after=mark) if "Order closed" in text_of(c)]

    # A late second tap (sent before the edit reached the phone) cancels nothing more.
    mark = await bot.press(question.result["message_id"], f"oy:{uuids[0]}", forge=True)
    again = await bot.edit_after(mark, question.result["message_id"])
    assert "no longer open" in text_of(again)
    assert len(upbit_standin.requests_to("DELETE", "/v1/order")) == 1

    # "Keep it" keeps it.
    mark = await bot.press(listing.result["message_id"], f"oc:{uuids[1]}")
    question = await bot.message_after(mark, contains="Cancel this order?")
    mark = await bot.press(question.result["message_id"], f"on:{uuids[1]}")
    kept = await bot.edit_after(mark, question.result["message_id"])
    assert "Kept" in text_of(kept)
    assert upbit_standin.order(uuids[1]).state == "wait"  # type: ignore[union-attr]
    assert len(upbit_standin.requests_to("DELETE", "/v1/order")) == 1


async def test_cancelled_order_with_fills_is_announced_once(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    (uuid,) = await place_outside(upbit_standin, 1, start=810)
    upbit_standin.set_orderbook("KRW-XRP", bids=[(812, 4), (800, 10_000)])  # 4 of 10 sell
    bot = await bot_factory()

    listing = await bot.command("/open")
    assert "4 of 10 XRP filled (40%)" in text_of(listing)
    mark = await bot.press(listing.result["message_id"], f"oc:{uuid}")
    question = await bot.message_after(mark, contains="Cancel this order?")
    mark = await bot.press(question.result["message_id"], f"oy:{uuid}")
    outcome = await bot.edit_after(mark, question.result["message_id"])
    assert "What had sold stays sold" in text_of(outcome)

    notice = await bot.message_after(mark, contains="Partially sold")
    assert "Executed: 4 of 10 XRP" in text_of(notice)
    assert "3,248 KRW" in text_of(notice)  # 4 × 812 gross
    for _ in range(3):
        await bot.services.watcher.sweep()
    notices = [c for c in bot.tg.calls("sendMessage", after=mark) if "sold" in text_of(c)]
    assert len(notices) == 1


async def test_open_with_nothing_open_and_korean(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    bot = await bot_factory()
    empty = await bot.command("/open")
    assert text_of(empty) == "No open orders on Upbit."
    await place_outside(upbit_standin, 1)
    for bad in ("/open x", "/open 0", "/open 1 2"):
        assert "Usage: <code>/open</code>" in text_of(await bot.command(bad))
    korean = await bot.command("/open", language_code="ko")
    assert "업비트 미체결 주문" in text_of(korean)
    assert "KRW-XRP · 지정가 매도 · 900.0원" in text_of(korean)
    second = await bot.command("/open 2")
    assert "page 2" in text_of(second)
    assert [b["callback_data"] for b in buttons(second)] == ["op:1"]


async def test_cancel_answer_lost_says_what_upbit_shows(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    first, second = await place_outside(upbit_standin, 2)
    bot = await bot_factory()
    listing = await bot.command("/open")

    async def confirm_cancel(uuid: str) -> str:
        mark = await bot.press(listing.result["message_id"], f"oc:{uuid}")
        question = await bot.message_after(mark, contains="Cancel this order?")
        mark = await bot.press(question.result["message_id"], f"oy:{uuid}")
        return text_of(await bot.edit_after(mark, question.result["message_id"]))

    # Upbit cancelled it but the answer was lost: the bot looks and says it is cancelled.
    upbit_standin.fail_next("DELETE", "/v1/order", "drop_after_create")
    assert "Order cancelled" in await confirm_cancel(first)
    assert upbit_standin.order(first).state == "cancel"  # type: ignore[union-attr]

    # Upbit failed before cancelling: the bot looks and says it was not cancelled.
    upbit_standin.fail_next("DELETE", "/v1/order", "500")
    assert "Not cancelled" in await confirm_cancel(second)
    assert upbit_standin.order(second).state == "wait"  # type: ignore[union-attr]


async def test_a_buy_order_is_listed_and_cancelled_too(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn, repo: SqlOrderRepository
) -> None:
    bid = upbit_standin.place_own_bid("KRW-BTC", 90_000_000, "0.001")
    bot = await bot_factory()
    listing = await bot.command("/open")
    assert "KRW-BTC · buy limit · 90,000,000 KRW" in text_of(listing)
    mark = await bot.press(listing.result["message_id"], f"oc:{bid.uuid}")
    question = await bot.message_after(mark, contains="Cancel this order?")
    mark = await bot.press(question.result["message_id"], f"oy:{bid.uuid}")
    outcome = await bot.edit_after(mark, question.result["message_id"])
    assert "Order cancelled" in text_of(outcome)
    assert upbit_standin.order(bid.uuid).state == "cancel"  # type: ignore[union-attr]
    assert await repo.get_order_by_uuid(bid.uuid) is None  # buys are not announced as sells
