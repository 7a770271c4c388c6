"""Korean-first details end to end: times in TIMEZONE with the zone written, the CSV export
(byte-order mark, zone, realised profit, mode, no formula cells)."""

from __future__ import annotations

import csv
import io
import os
import time
import uuid as uuid_mod
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db.migrate import upgrade_to_head_async
from bot.domain import OrderFill, OrderState
from tests.e2e.harness import USER, BotFactory, RunningBot
from tests.e2e.process import order_log, place_order
from tests.factories import new_order

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def host_zone_kolkata() -> Iterator[None]:
    """The host's own zone is Asia/Kolkata (+05:30): it must never show."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


async def _export(bot: RunningBot) -> bytes:
    mark = bot.tg.mark()
    bot.tg.send_command(USER, "/export")
    call = await bot.tg.await_call(
        "sendDocument", lambda c: str(c.params.get("chat_id")) == str(USER), after=mark
    )
    assert call.ok
    return call.files["document"].data


async def test_times_are_in_timezone_with_the_zone_written(
    bot_factory: BotFactory, host_zone_kolkata: None, tmp_path: Path
) -> None:
    # The log is written before the bot starts, so its fill watcher finds nothing to do.
    url = f"sqlite:///{tmp_path}/bot.db"
    await upgrade_to_head_async(url)
    async with order_log(url) as repo:
        await repo.record_submitting(new_order("usb-tz-1", created_at=T0))
        await repo.update_order(
            "usb-tz-1",
            OrderFill(
                state=OrderState.DONE,
                uuid="0b5c8e52-8c49-4a8e-9d0f-1c2d3e4f5a6b",
                announced_at=T0,
            ),
        )
    bot = await bot_factory(timezone="America/New_York")
    text = str((await bot.command("/orders")).params["text"])
    assert "2024-05-01 08:00:00 EDT" in text  # 12:00 UTC in New York (summer time)
    assert "+05:30" not in text and "17:30" not in text and "UTC" not in text

    detail = str((await bot.command("/order 0b5c8e52-8c49-4a8e-9d0f-1c2d3e4f5a6b")).params["text"])
    assert "2024-05-01 08:00:00 EDT" in detail

    preview = str((await bot.command("/sell BTC 0.01")).params["text"])
    assert "Sell preview" in preview
    # The deadline is written as a New York clock time with its zone.
    assert " EDT " in preview or " EST " in preview

    rows = list(csv.DictReader(io.StringIO((await _export(bot)).decode("utf-8-sig"))))
    assert rows[0]["created_at"] == "2024-05-01T08:00:00-04:00"


async def test_default_zone_is_seoul_written_as_kst(
    bot_factory: BotFactory, host_zone_kolkata: None, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/bot.db"
    await upgrade_to_head_async(url)
    async with order_log(url) as repo:
        await repo.record_submitting(new_order("usb-tz-2", created_at=T0))
        await repo.update_order(
            "usb-tz-2",
            OrderFill(state=OrderState.DONE, uuid=str(uuid_mod.uuid4()), announced_at=T0),
        )
    bot = await bot_factory()
    text = str((await bot.command("/orders")).params["text"])
    assert "2024-05-01 21:00:00 KST" in text


async def test_csv_has_a_bom_zone_realised_profit_mode_and_no_formulas(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    bot.upbit.set_account("BTC", balance="0.1", avg_buy_price=90_000_000)
    uuid, mark = await place_order(bot, "/sell BTC 0.01")
    await bot.message_after(mark, contains="Sold")
    async with order_log(bot.settings.database_url) as repo:
        await repo.record_submitting(
            new_order("usb-csv-evil", created_at=T0, paper=True, market="KRW-ETH")
        )
        await repo.update_order(
            "usb-csv-evil",
            OrderFill(
                state=OrderState.FAILED, error='=HYPERLINK("http://evil","x")', announced_at=T0
            ),
        )
        placed = await repo.get_order_by_uuid(uuid)
    assert placed is not None and placed.avg_buy_price == Decimal(90_000_000)

    data = await _export(bot)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
    rows = {r["identifier"]: r for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
    live = rows[placed.identifier]
    assert live["mode"] == "live"
    assert live["avg_buy_price"] == "90000000"
    net = Decimal(live["net_funds"])
    assert Decimal(live["realised_pnl"]) == net - Decimal("0.01") * 90_000_000
    assert Decimal(live["realised_pnl"]) > 0  # sold near 100,000,000, bought at 90,000,000
    assert live["created_at"].endswith("+09:00")

    evil = rows["usb-csv-evil"]
    assert evil["mode"] == "paper"
    assert evil["last_error"] == '\'=HYPERLINK("http://evil","x")'
    assert evil["realised_pnl"] == ""
    for row in rows.values():
        for column, cell in row.items():
            if column in {"realised_pnl"}:
                continue  # a number: its minus sign is a sign
            assert not cell.startswith(("=", "+", "-", "@")), (column, cell)
