"""/pnl: realised profit and loss from the order log, by day and by month, in TIMEZONE.

A sell's realised profit is its net proceeds minus the executed volume times the average
buy price stored on the order row at Confirm (`OrderRecord.realised_pnl`). It counts on
the day (in ``TIMEZONE``) the order reached its final state. Amounts stay per quote
currency (a BTC-market sell earns BTC) and are never converted. The log is shared by every
allowed user (one Upbit account), and a paper process reports paper rows, a live one live
rows.

The chart is drawn by a `ChartRenderer` (a short-lived child process, see
`bot.charts.runner`), so the drawing library never enters the bot's memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta, tzinfo
from decimal import Decimal
from typing import Protocol

from bot.domain import OrderRecord
from bot.services.clock import Clock, utc_now
from bot.services.ports import OrderRepository

DAYS_SHOWN = 30
MONTHS_SHOWN = 12
CHART_QUOTE = "KRW"


@dataclass(frozen=True, slots=True)
class PeriodPnl:
    period: str  # "2026-12-02" or "2026-12", in TIMEZONE
    quote: str
    amount: Decimal
    sells: int


@dataclass(frozen=True, slots=True)
class ProfitReport:
    days: tuple[PeriodPnl, ...]  # oldest first, the last DAYS_SHOWN days with sells
    months: tuple[PeriodPnl, ...]  # oldest first, the last MONTHS_SHOWN months with sells
    totals: tuple[tuple[str, Decimal], ...]  # per quote currency, whole log
    unknown_basis: int  # filled sells without an average buy price: left out
    zone: str  # the zone's abbreviation now, e.g. "KST"
    paper: bool

    @property
    def empty(self) -> bool:
        return not self.totals


@dataclass(frozen=True, slots=True)
class BarChart:
    """What to draw; neutral text only (the chart font has no Hangul)."""

    title: str
    labels: tuple[str, ...]
    values: tuple[Decimal, ...]
    rising_red: bool = False  # Korean convention (Upbit's own): gains red, losses blue


class ChartRenderer(Protocol):
    async def bar_chart(self, chart: BarChart) -> bytes:
        """PNG bytes; raises `ChartFailed`."""
        ...


class ChartFailed(Exception):
    """The chart could not be drawn (the figures in text are still complete)."""


def _is_sell_with_fills(record: OrderRecord) -> bool:
    return record.side == "ask" and record.state.is_final and record.executed_volume > 0


def _quote_order(quote: str) -> tuple[bool, str]:
    return quote != CHART_QUOTE, quote  # KRW first


def _sum(
    rows: Sequence[tuple[str, str, Decimal]],
) -> list[PeriodPnl]:
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for period, quote, amount in rows:
        amounts[(period, quote)] += amount
        counts[(period, quote)] += 1
    keys = sorted(amounts, key=lambda k: (k[0], *_quote_order(k[1])))
    return [PeriodPnl(p, q, amounts[(p, q)], counts[(p, q)]) for p, q in keys]


class ProfitService:
    def __init__(
        self,
        repo: OrderRepository,
        tz: tzinfo,
        *,
        paper: bool,
        renderer: ChartRenderer | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._repo = repo
        self._tz = tz
        self._paper = paper
        self._renderer = renderer
        self._clock = clock

    async def report(self) -> ProfitReport:
        now = self._clock().astimezone(self._tz)
        first_day = (now - timedelta(days=DAYS_SHOWN - 1)).strftime("%Y-%m-%d")
        months_back = now.year * 12 + now.month - MONTHS_SHOWN
        first_month = f"{months_back // 12:04d}-{months_back % 12 + 1:02d}"
        daily: list[tuple[str, str, Decimal]] = []
        monthly: list[tuple[str, str, Decimal]] = []
        totals: dict[str, Decimal] = defaultdict(Decimal)
        unknown = 0
        for record in await self._repo.list_all():
            if record.paper != self._paper or not _is_sell_with_fills(record):
                continue
            pnl = record.realised_pnl
            if pnl is None:
                unknown += 1
                continue
            quote = record.market.partition("-")[0]
            local = record.updated_at.astimezone(self._tz)
            day, month = local.strftime("%Y-%m-%d"), local.strftime("%Y-%m")
            if day >= first_day:
                daily.append((day, quote, pnl))
            if month >= first_month:
                monthly.append((month, quote, pnl))
            totals[quote] += pnl
        return ProfitReport(
            days=tuple(_sum(daily)),
            months=tuple(_sum(monthly)),
            totals=tuple(sorted(totals.items(), key=lambda kv: _quote_order(kv[0]))),
            unknown_basis=unknown,
            zone=now.tzname() or "",
            paper=self._paper,
        )

    @staticmethod
    def daily_chart(
        report: ProfitReport, *, rising_red: bool = False, quote: str = CHART_QUOTE
    ) -> BarChart | None:
        days = [d for d in report.days if d.quote == quote]
        if not days:
            return None
        title = f"Realised P/L by day, {quote} ({report.zone})"
        if report.paper:
            title = f"PAPER - {title}"
        return BarChart(
            title=title,
            labels=tuple(d.period[5:] for d in days),  # MM-DD
            values=tuple(d.amount for d in days),
            rising_red=rising_red,
        )

    async def chart(self, report: ProfitReport, *, rising_red: bool = False) -> bytes | None:
        """The daily bar chart as PNG; None when there is nothing to draw."""
        spec = self.daily_chart(report, rising_red=rising_red)
        if spec is None or self._renderer is None:
            return None
        return await self._renderer.bar_chart(spec)
