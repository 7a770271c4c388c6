"""/pnl end to end: realised profit by day and month in TIMEZONE, as text and as a PNG chart
sent with sendPhoto; the chart is drawn in a child process, so the bot stays small."""

from __future__ import annotations

import asyncio
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image
from sqlalchemy import update

from bench.run import read_memory
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.migrate import upgrade_to_head_async
from bot.db.models import OrderRow
from bot.db.repository import SqlOrderRepository
from bot.domain import OrderFill, OrderState
from tests.e2e.harness import USER, BotFactory, RunningBot
from tests.e2e.process import BotProcess, bot_env
from tests.e2e.test_sell_flow import confirm, open_preview, text_of
from tests.factories import new_order
from tests.standins.telegram import Call, TelegramStandin, image_size

D = Decimal
KST = ZoneInfo("Asia/Seoul")
DRAWING_ALLOWANCE_MB = 4.0


@dataclass(frozen=True)
class Sell:
    market: str
    volume: Decimal
    price: Decimal
    fee: Decimal
    avg_buy: Decimal | None
    at: datetime  # when it reached its final state
    paper: bool = False
    state: OrderState = OrderState.DONE

    @property
    def pnl(self) -> Decimal:
        assert self.avg_buy is not None
        return self.volume * self.price - self.fee - self.volume * self.avg_buy


def _kst(day_offset: int, hour: int, minute: int = 0) -> datetime:
    today = datetime.now(KST).date()
    return datetime.combine(today + timedelta(days=day_offset), time(hour, minute), KST)


def _log() -> list[Sell]:
    # 00:30 KST is still the previous day in UTC: counted under the KST day.
    today = _kst(0, 0, 30)
    return [
        Sell("KRW-BTC", D("0.01"), D(100_000_000), D(500), D(90_000_000), today),  # +99,500
        Sell("KRW-ETH", D(1), D(5_000_000), D(2_500), D(5_200_000), today),  # -202,500
        Sell("KRW-XRP", D(1000), D(800), D(400), D(700), _kst(-3, 12)),  # +99,600
        Sell("KRW-BTC", D("0.01"), D(100_000_000), D(500), D(80_000_000), _kst(-40, 12)),
        Sell("BTC-XRP", D(100), D("0.00001"), D("0.0000025"), D("0.000009"), today),
        # Left out: no known buy price, not filled, or the other mode.
        Sell("KRW-ETH", D(1), D(5_000_000), D(2_500), None, today),
        Sell("KRW-BTC", D(0), D(0), D(0), D(1), today, state=OrderState.FAILED),
        Sell("KRW-BTC", D(1), D(100_000_000), D(0), D(1), today, paper=True),
    ]


async def seed(database_url: str, sells: list[Sell]) -> None:
    await upgrade_to_head_async(database_url)
    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine)
        repo = SqlOrderRepository(sessions)
        for index, sell in enumerate(sells):
            identifier = f"seed-{index}"
            await repo.record_submitting(
                new_order(
                    identifier,
                    market=sell.market,
                    requested_volume=sell.volume or D(1),
                    avg_buy_price=sell.avg_buy,
                    paper=sell.paper,
                )
            )
            await repo.update_order(
                identifier,
                OrderFill(
                    state=sell.state,
                    uuid=f"00000000-0000-4000-8000-{index:012d}",
                    executed_volume=sell.volume,
                    avg_price=sell.price or None,
                    gross_funds=sell.volume * sell.price,
                    paid_fee=sell.fee,
                    announced_at=datetime.now(UTC),  # already told: no fill notice now
                ),
            )
            async with sessions() as session, session.begin():
                await session.execute(
                    update(OrderRow)
                    .where(OrderRow.identifier == identifier)
                    .values(updated_at=sell.at.astimezone(UTC))
                )
    finally:
        await engine.dispose()


def _expected_months(sells: list[Sell]) -> dict[str, Decimal]:
    months: dict[str, Decimal] = defaultdict(Decimal)
    for sell in sells[:4]:  # the KRW sells that count
        months[sell.at.strftime("%Y-%m")] += sell.pnl
    return months


async def _photo(bot: RunningBot, after: int) -> Call:
    return await bot.tg.await_call("sendPhoto", after=after, timeout=30)


def _colours(png: bytes) -> set[tuple[int, int, int]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    found = image.getcolors(maxcolors=1 << 16) or []
    return {(c[0], c[1], c[2]) for _count, c in found if isinstance(c, tuple)}


async def test_pnl_by_day_and_month_in_timezone(bot_factory: BotFactory, tmp_path: Path) -> None:
    bot = await bot_factory()
    sells = _log()
    await seed(f"sqlite:///{tmp_path}/bot.db", sells)
    mark = bot.tg.mark()
    text = text_of(await bot.command("/pnl"))

    today = _kst(0, 0).strftime("%Y-%m-%d")
    three_ago = _kst(-3, 0).strftime("%Y-%m-%d")
    utc_yesterday = sells[0].at.astimezone(UTC).strftime("%Y-%m-%d")
    assert "<b>Realised profit/loss</b> (times in KST)" in text
    assert f"{today}: -103,000 KRW (sells: 2)" in text
    assert f"{today}: +0.0000975 BTC (sells: 1)" in text
    assert f"{three_ago}: +99,600 KRW (sells: 1)" in text
    assert f"{utc_yesterday}: -103,000" not in text  # counted in KST, not UTC
    assert _kst(-40, 0).strftime("%Y-%m-%d") not in text  # by day: the last 30 days
    by_month = text.split("<b>By month</b>")[1]
    for month, amount in _expected_months(sells).items():
        assert f"{month}: {'+' if amount > 0 else ''}{amount:,.0f} KRW" in by_month
    assert "Total: +196,100 KRW, +0.0000975 BTC" in text
    assert "Sells left out (average buy price unknown): 1" in text

    photo = await _photo(bot, mark)
    png = photo.files["photo"].data
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and image_size(png) == (900, 500)
    Image.open(io.BytesIO(png)).verify()  # a whole, valid PNG
    assert photo.params["caption"] == "Realised profit/loss by day"
    assert photo.result["photo"][0]["width"] == 900
    colours = _colours(png)
    assert (0x16, 0xA3, 0x4A) in colours and (0xDC, 0x26, 0x26) in colours  # gain, loss


async def test_pnl_in_korean_uses_upbit_colours(bot_factory: BotFactory, tmp_path: Path) -> None:
    bot = await bot_factory()
    await seed(f"sqlite:///{tmp_path}/bot.db", _log())
    mark = bot.tg.mark()
    text = text_of(await bot.command("/pnl", language_code="ko"))
    assert "<b>실현손익</b>(시간대: KST)" in text and "(매도 2건)" in text
    photo = await _photo(bot, mark)
    assert photo.params["caption"] == "일별 실현손익"
    colours = _colours(photo.files["photo"].data)
    assert (0xDC, 0x26, 0x26) in colours and (0x1D, 0x4E, 0xD8) in colours  # gain red, loss blue


async def test_pnl_of_a_real_sell(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    await confirm(bot, preview)
    await bot.message_after(0, contains="Sold")
    mark = bot.tg.mark()
    text = text_of(await bot.command("/pnl"))
    # 0.05 BTC at 100,000,000, fee 0.05 % = 2,500; bought at 90,000,000 → +497,500.
    assert "+497,500 KRW (sells: 1)" in text and "Total: +497,500 KRW" in text
    await _photo(bot, mark)


async def test_pnl_with_arguments_is_refused(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    mark = bot.tg.mark()
    assert "Usage: <code>/pnl</code>" in text_of(await bot.command("/pnl 2026-12"))
    assert "사용법: <code>/pnl</code>" in text_of(await bot.command("/pnl x", language_code="ko"))
    assert bot.tg.calls("sendPhoto", after=mark) == []


async def test_pnl_with_nothing_sold(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    mark = bot.tg.mark()
    text = text_of(await bot.command("/pnl"))
    assert "No filled sells with a known average buy price yet" in text
    await bot.command("/help")  # later than any photo the /pnl would have sent
    assert bot.tg.calls("sendPhoto", after=mark) == []


def test_drawing_keeps_the_bot_within_its_memory_budget(
    telegram_standin: TelegramStandin, upbit_standin, tmp_path: Path
) -> None:
    """The bot process (python -m bot) sends a chart without loading the drawing library and
    without growing: its idle memory stays where it was (the 90 MB budget)."""

    env = bot_env(telegram_standin, upbit_standin, tmp_path, LOG_LEVEL="INFO")
    asyncio.run(seed(env["DATABASE_URL"], _log()))
    bot = BotProcess(env, tmp_path, "bot")
    try:
        telegram_standin.wait_for_call("getUpdates", timeout=30)
        before = read_memory(bot.pid)
        mark = telegram_standin.mark()
        telegram_standin.send_command(USER, "/pnl")
        photo = telegram_standin.wait_for_call("sendPhoto", after=mark, timeout=60)
        assert image_size(photo.files["photo"].data) == (900, 500)
        # The chart's child process has exited before the photo is sent; one more round
        # trip lets the handler finish.
        mark = telegram_standin.mark()
        telegram_standin.send_command(USER, "/help")
        telegram_standin.wait_for_message(USER, after=mark, timeout=30)
        after = read_memory(bot.pid)
        maps = Path(f"/proc/{bot.pid}/maps").read_text()
        print(f"\nbot RSS before /pnl {before}, after {after} (MB)")
        # Drawing happens elsewhere: the library is never mapped into the bot, and the bot
        # grows by no more than the photo it sent (the 90 MB idle budget is the bench's to
        # measure for the whole bot; the figures are printed above).
        assert "PIL" not in maps and "_imaging" not in maps
        assert after["VmRSS"] - before["VmRSS"] < DRAWING_ALLOWANCE_MB, (before, after)
    finally:
        bot.close()
