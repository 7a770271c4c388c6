"""The order log as the user sees it: recent orders, one order refreshed, CSV, status.

The CSV opens cleanly in spreadsheet programs: UTF-8 with a byte-order mark (so Excel reads
Korean), times in `TIMEZONE` with their offset, and no text cell a spreadsheet would run as
a formula (OWASP "CSV Injection": https://owasp.org/www-community/attacks/CSV_Injection).
"""

from __future__ import annotations

import csv
import io
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from bot import __version__
from bot.domain import OrderRecord
from bot.services.clock import Clock, utc_now
from bot.services.fills import FillWatcher
from bot.services.ports import Exchange, OrderRepository
from bot.services.upbit_answers import order_fill
from bot.upbit.errors import UpbitError

log = logging.getLogger(__name__)

KEY_EXPIRY_WARNING_DAYS = 30
MAX_RECENT = 50

CSV_COLUMNS = (
    "created_at",
    "updated_at",
    "uuid",
    "identifier",
    "market",
    "side",
    "ord_type",
    "requested_volume",
    "state",
    "executed_volume",
    "avg_price",
    "gross_funds",
    "paid_fee",
    "net_funds",
    "avg_buy_price",
    "realised_pnl",
    "mode",
    "user_id",
    "chat_id",
    "announced_at",
    "last_error",
)


@dataclass(frozen=True, slots=True)
class StatusReport:
    version: str
    paper: bool
    upbit_reachable: bool
    upbit_error: str | None
    key_expires_at: datetime | None
    key_days_left: int | None
    key_expiry_warning: bool
    watching: int
    ws_enabled: bool
    ws_connected: bool
    # Upbit's 418 blocks in force: (request group, whole seconds left), by group.
    blocks: tuple[tuple[str, int], ...] = ()


# A text cell starting with one of these is run as a formula by Excel, LibreOffice, Sheets.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _cell(value: object, tz: tzinfo) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # a number: a leading minus is a sign, not a formula
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _text_cell(str(value))


def _text_cell(text: str) -> str:
    """Text a spreadsheet shows as text: a leading quote defuses a would-be formula."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _column(record: OrderRecord, column: str) -> object:
    if column == "net_funds":
        return record.net_funds
    if column == "realised_pnl":
        return record.realised_pnl
    if column == "mode":
        return "paper" if record.paper else "live"
    if column == "state":
        return record.state.value
    return getattr(record, column)


class HistoryService:
    def __init__(
        self,
        exchange: Exchange,
        repo: OrderRepository,
        watcher: FillWatcher,
        *,
        access_key: str | None = None,
        clock: Clock = utc_now,
        tz: tzinfo = UTC,
    ) -> None:
        self._exchange = exchange
        self._repo = repo
        self._watcher = watcher
        self._access_key = access_key
        self._clock = clock
        self._tz = tz

    async def recent(self, user_id: int, limit: int) -> list[OrderRecord]:
        # Only this process's mode: paper rows are not live orders, nor the other way round.
        paper = self._exchange.is_paper
        return await self._repo.list_recent(user_id, max(1, min(limit, MAX_RECENT)), paper)

    async def order(self, uuid: str, user_id: int) -> tuple[OrderRecord | None, bool]:
        """The user's order by uuid, refreshed from the exchange; (record, refreshed)."""
        record = await self._repo.get_order_by_uuid(uuid)
        if record is None or record.user_id != user_id or record.paper != self._exchange.is_paper:
            return None, False
        try:
            order = await self._exchange.get_order(uuid=uuid)
        except UpbitError as exc:
            log.warning("order refresh failed uuid=%s: %s", uuid, exc.name)
            return record, False
        return await self._repo.update_order(record.identifier, order_fill(order)), True

    async def export_csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for record in await self._repo.list_all():
            writer.writerow([_cell(_column(record, c), self._tz) for c in CSV_COLUMNS])
        # The byte-order mark tells spreadsheet programs the file is UTF-8.
        return buffer.getvalue().encode("utf-8-sig")

    async def status(self) -> StatusReport:
        reachable, error, expires = True, None, None
        try:
            if self._exchange.is_paper:
                await self._exchange.markets()
            else:
                keys = await self._exchange.api_keys()
                mine = [k for k in keys if k.access_key == self._access_key] or keys
                expires = min((k.expire_at for k in mine), default=None)
        except UpbitError as exc:
            reachable, error = False, exc.name or type(exc).__name__
        days_left = None
        if expires is not None:
            days_left = (expires - self._clock()).days
        return StatusReport(
            version=__version__,
            paper=self._exchange.is_paper,
            upbit_reachable=reachable,
            upbit_error=error,
            key_expires_at=expires,
            key_days_left=days_left,
            key_expiry_warning=days_left is not None and days_left < KEY_EXPIRY_WARNING_DAYS,
            watching=len(await self._repo.list_not_final(paper=self._exchange.is_paper)),
            ws_enabled=self._watcher.ws_enabled,
            ws_connected=self._watcher.ws_connected,
            blocks=tuple(
                (group, math.ceil(left))
                for group, left in sorted(self._exchange.rate_blocks().items())
            ),
        )
