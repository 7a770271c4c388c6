"""Price alerts: ``/alert BTC >= 110,000,000``, ``/alert BTC -10%``; `/alerts` lists them.

An alert is a stored condition on one market's last trade price. The `AlertWatcher` reads
the prices of every watched market with ONE ``GET /v1/ticker`` call per interval (Upbit
takes many comma-separated codes in one call and counts it once against the quotation
limit of 10 requests a second: https://docs.upbit.com/kr/reference/rate-limits), and fires
each alert exactly once through the announce-once protocol of fill notices
(`bot.services.announce`): claimed in the database, sent within the lease, then marked.
Firing only notifies; the message's quick-sell buttons open the usual preview, and nothing
is sold without Confirm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Protocol

from bot.services.amounts import parse_asset
from bot.services.announce import Announcer
from bot.services.clock import Clock, utc_now
from bot.services.errors import ServiceError
from bot.services.markets import LISTING_MAX_AGE, MarketDirectory, MarketList
from bot.services.ports import Exchange
from bot.services.upbit_answers import exchange_unavailable
from bot.upbit.errors import UpbitError

log = logging.getLogger(__name__)

MAX_ALERTS_PER_USER = 50
MAX_PRICE_WHOLE_DIGITS = 13
MAX_PRICE_DECIMALS = 8
MIN_PERCENT = Decimal(-99)
MAX_PERCENT = Decimal(1000)
MIN_CHECK_GAP = 0.25
_PRICE_STEP = Decimal(1).scaleb(-MAX_PRICE_DECIMALS)

_COMPARE = re.compile(r"(.+?)\s*(>=|<=|≥|≤|=>|=<)\s*(\S+)", re.ASCII)
_CHANGE = re.compile(r"(.+?)\s+([+-])\s*(\S+?)\s*%", re.ASCII)
_GROUPED = re.compile(
    r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|\.[0-9]+", re.ASCII
)


class Direction(StrEnum):
    ABOVE = "above"  # fires when the price is at or above the target
    BELOW = "below"

    def met(self, price: Decimal, target: Decimal) -> bool:
        return price >= target if self is Direction.ABOVE else price <= target


class AlertStatus(StrEnum):
    ACTIVE = "active"
    FIRED = "fired"
    DELETED = "deleted"


class AlertRefused(ServiceError):
    """The alert was not set (or not deleted); nothing changed."""


@dataclass(frozen=True, slots=True)
class NewAlert:
    user_id: int
    chat_id: int
    language_code: str | None  # the Telegram app's, for users whose language is "auto"
    market: str
    direction: Direction
    target_price: Decimal
    percent: Decimal | None  # for +N% / -N% alerts: the change asked for
    basis_price: Decimal | None  # ... and the average buy price it was measured from
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PriceAlert:
    id: int
    user_id: int
    chat_id: int
    language_code: str | None
    market: str
    direction: Direction
    target_price: Decimal
    percent: Decimal | None
    basis_price: Decimal | None
    status: AlertStatus
    created_at: datetime
    fire_claimed_at: datetime | None
    triggered_price: Decimal | None  # the price that met the condition, once claimed

    @property
    def currency(self) -> str:
        return self.market.split("-", 1)[1]

    @property
    def quote_currency(self) -> str:
        return self.market.split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class AlertCreated:
    alert: PriceAlert
    price: Decimal  # the price when it was set


class AlertRepository(Protocol):
    async def add_alert(self, alert: NewAlert, cap: int) -> PriceAlert | None:
        """Insert unless the user already has ``cap`` active alerts (then None)."""
        ...

    async def count_active(self, user_id: int) -> int: ...

    async def list_active(self, user_id: int | None) -> list[PriceAlert]:
        """Active alerts (claimed-but-not-yet-sent ones included), oldest first."""
        ...

    async def delete_alert(self, alert_id: int, user_id: int) -> PriceAlert | None:
        """Active and not being fired, owned by ``user_id`` → deleted; None otherwise."""
        ...

    async def trigger(self, alert_id: int, price: Decimal) -> PriceAlert | None:
        """Record the price that met the condition (the first one stays); None if the alert
        is no longer active. After this the alert is sent even if the price moves back."""
        ...

    # The announce-once claim (`bot.services.announce.AnnouncementClaims`); marking an alert
    # announced means it has fired.
    async def claim_announcement(
        self, item_id: int, now: datetime | None, lease: timedelta, /
    ) -> datetime | None: ...

    async def release_announcement(self, item_id: int, claimed_at: datetime, /) -> None: ...

    async def mark_announced(self, item_id: int, now: datetime | None, /) -> None: ...


class PriceStream(Protocol):
    """Live prices pushed by the exchange (Upbit's public WebSocket ticker)."""

    @property
    def connected(self) -> bool: ...

    def watch(self, markets: Sequence[str]) -> None: ...

    def price(self, market: str) -> Decimal | None: ...

    async def run(
        self, on_price: Callable[[str, Decimal], Awaitable[None]], stop: asyncio.Event
    ) -> None: ...


async def _either(first: asyncio.Event, second: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


class AlertNotifier(Protocol):
    async def fire(self, alert: PriceAlert, price: Decimal, held: bool) -> None:
        """Send the alert; raises `NoticeUndeliverable` when the chat can never get it."""
        ...


# -- parsing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRequest:
    currency: str
    market: str | None  # explicit market code; None = from the account, else KRW
    direction: Direction | None  # None for a percent alert (the sign decides)
    price: Decimal | None
    percent: Decimal | None


def parse_price(text: str) -> Decimal:
    """``110,000,000`` or ``0.0123`` → Decimal; refuses zero, junk and too many digits."""
    cleaned = text.strip().replace("₩", "").replace("원", "")
    if not _GROUPED.fullmatch(cleaned):
        if cleaned.startswith("-"):
            raise AlertRefused("alert_price_not_positive", price=text[:40])
        raise AlertRefused("alert_bad_price", price=text[:40])
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
        raise AlertRefused("alert_bad_price", price=text[:40]) from exc
    whole, _, places = cleaned.replace(",", "").partition(".")
    if len(whole.lstrip("0")) > MAX_PRICE_WHOLE_DIGITS or len(places) > MAX_PRICE_DECIMALS:
        raise AlertRefused(
            "alert_price_digits",
            price=text[:40],
            whole=MAX_PRICE_WHOLE_DIGITS,
            places=MAX_PRICE_DECIMALS,
        )
    if value <= 0:
        raise AlertRefused("alert_price_not_positive", price=text[:40])
    return value


def parse_alert_args(args: Sequence[str], markets: MarketList | None = None) -> AlertRequest:
    """The words after ``/alert``; the asset as ``/sell`` reads it (ticker, market code or
    the coin's Korean or English name)."""
    text = " ".join(args).strip()
    if not text or len(text) > 80:
        raise AlertRefused("alert_usage")
    if match := _COMPARE.fullmatch(text):
        currency, market = parse_asset(match.group(1), markets)
        direction = Direction.ABOVE if match.group(2) in (">=", "≥", "=>") else Direction.BELOW
        return AlertRequest(currency, market, direction, parse_price(match.group(3)), None)
    if match := _CHANGE.fullmatch(text):
        currency, market = parse_asset(match.group(1), markets)
        raw = match.group(2) + match.group(3)
        try:
            percent = Decimal(raw) if re.fullmatch(r"[+-][0-9]{1,4}(\.[0-9]{1,2})?", raw) else None
        except InvalidOperation:  # pragma: no cover - the regex admits only digits
            percent = None
        if percent is None or percent == 0 or not MIN_PERCENT <= percent <= MAX_PERCENT:
            raise AlertRefused("alert_bad_percent", value=f"{raw}%"[:40])
        return AlertRequest(currency, market, None, None, percent)
    raise AlertRefused("alert_usage")


# -- the service -------------------------------------------------------------------------


class AlertService:
    def __init__(
        self,
        exchange: Exchange,
        repo: AlertRepository,
        markets: MarketDirectory,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._exchange = exchange
        self._repo = repo
        self._markets = markets
        self._clock = clock

    async def listed_markets(self) -> frozenset[str]:
        return (await self._markets.current(LISTING_MAX_AGE)).listed

    async def create(
        self, args: Sequence[str], *, user_id: int, chat_id: int, language_code: str | None
    ) -> AlertCreated:
        try:
            names = await self._markets.current(LISTING_MAX_AGE)
        except UpbitError as exc:
            raise exchange_unavailable(exc) from exc
        request = parse_alert_args(args, names)
        if await self._repo.count_active(user_id) >= MAX_ALERTS_PER_USER:
            raise AlertRefused("alert_too_many", max=MAX_ALERTS_PER_USER)
        try:
            market, basis = await self._market_and_basis(request)
            tickers = await self._exchange.tickers([market])
        except UpbitError as exc:
            raise exchange_unavailable(exc) from exc
        if not tickers:
            raise AlertRefused("market_unknown", market=market)
        price = tickers[0].trade_price
        if request.direction is not None and request.price is not None:
            direction, target = request.direction, request.price
        elif request.percent is not None and basis is not None and basis > 0:
            direction = Direction.ABOVE if request.percent > 0 else Direction.BELOW
            target = (basis * (1 + request.percent / 100)).quantize(_PRICE_STEP)
        else:
            raise AlertRefused("alert_no_holding", currency=request.currency)
        alert = NewAlert(
            user_id=user_id,
            chat_id=chat_id,
            language_code=language_code,
            market=market,
            direction=direction,
            target_price=target,
            percent=request.percent,
            basis_price=basis if request.percent is not None else None,
            created_at=self._clock(),
        )
        if direction.met(price, target):
            raise AlertRefused("alert_already_met", market=market, price=price, alert=alert)
        stored = await self._repo.add_alert(alert, MAX_ALERTS_PER_USER)
        if stored is None:
            raise AlertRefused("alert_too_many", max=MAX_ALERTS_PER_USER)
        return AlertCreated(stored, price)

    async def _market_and_basis(self, request: AlertRequest) -> tuple[str, Decimal | None]:
        market = request.market
        basis: Decimal | None = None
        if market is None or request.percent is not None:
            accounts = await self._exchange.accounts()
            held = next(
                (
                    a
                    for a in accounts
                    if a.currency == request.currency and (market is None or a.market == market)
                ),
                None,
            )
            if held is not None and held.balance + held.locked > 0:
                market = market or held.market
                basis = held.avg_buy_price
        market = market or f"KRW-{request.currency}"
        if market not in await self.listed_markets():
            raise AlertRefused("market_unknown", market=market)
        return market, basis

    async def list(self, user_id: int) -> list[PriceAlert]:
        # One already met is on its way to the user (its price is recorded before the
        # message is sent): it is no longer theirs to see or delete.
        alerts = await self._repo.list_active(user_id)
        return [alert for alert in alerts if alert.triggered_price is None]

    async def delete(self, user_id: int, alert_id: int) -> PriceAlert | None:
        return await self._repo.delete_alert(alert_id, user_id)


# -- the watcher -------------------------------------------------------------------------


class AlertWatcher:
    """Checks every active alert against one batched ticker call per ``interval``."""

    def __init__(
        self,
        exchange: Exchange,
        repo: AlertRepository,
        notifier: AlertNotifier,
        service: AlertService,
        *,
        interval: float = 1.0,
        stream: PriceStream | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._exchange = exchange
        self._repo = repo
        self._notifier = notifier
        self._service = service
        self._interval = interval
        self._stream = stream
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()
        # None: the database's clock judges the firing claim's lease (production).
        self._announcer = Announcer(repo, clock=clock)

    def stop(self) -> None:
        self._stopping.set()

    @property
    def streaming(self) -> bool:
        """True while the WebSocket ticker is connected and subscribed."""
        return self._stream is not None and self._stream.connected

    def streamed_price(self, market: str) -> Decimal | None:
        return self._stream.price(market) if self._stream is not None else None

    async def _on_price(self, market: str, price: Decimal) -> None:
        self._woken.set()

    async def run(self) -> None:
        stream_task = None
        if self._stream is not None:
            stream_task = asyncio.create_task(
                self._stream.run(self._on_price, self._stopping), name="ticker-stream"
            )
        try:
            while not self._stopping.is_set():
                self._woken.clear()
                try:
                    await self.check_once()
                except Exception:
                    log.warning("alert check failed; retrying next interval", exc_info=True)
                # Streamed prices wake the check early, at most every MIN_CHECK_GAP seconds.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), MIN_CHECK_GAP)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        _either(self._stopping, self._woken), self._interval - MIN_CHECK_GAP
                    )
        finally:
            if stream_task is not None:
                stream_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await stream_task

    async def check_once(self) -> None:
        alerts = await self._repo.list_active(None)
        if not alerts:
            if self._stream is not None:
                self._stream.watch(())
            return
        # A delisted market would make Upbit refuse the whole batch: ask only for listed ones.
        listed = await self._service.listed_markets()
        markets = sorted({a.market for a in alerts if a.market in listed})
        prices: dict[str, Decimal] = {}
        if self._stream is not None:
            self._stream.watch(markets)
            streamed = {m: self._stream.price(m) for m in markets}
            prices = {m: p for m, p in streamed.items() if p is not None}
        missing = [m for m in markets if m not in prices]
        if missing:
            # The REST fallback (no stream, or it is down): still one call for all of them.
            fetched = await self._exchange.tickers(missing)
            prices.update({t.market: t.trade_price for t in fetched})
        held: set[str] | None = None
        looked_up = False
        for alert in alerts:
            price = alert.triggered_price or prices.get(alert.market)
            if price is None:
                continue
            if alert.triggered_price is None and not alert.direction.met(
                price, alert.target_price
            ):
                continue
            if not looked_up:
                held, looked_up = await self._held_markets(), True
            # Unknown holdings (accounts unreadable): offer the buttons; the preview checks.
            await self._fire(alert, price, held is None or alert.market in held)

    async def _held_markets(self) -> set[str] | None:
        try:
            return {a.market for a in await self._exchange.accounts() if a.balance > 0}
        except UpbitError:
            log.info("accounts unavailable while firing alerts")
            return None

    async def _fire(self, alert: PriceAlert, price: Decimal, held: bool) -> None:
        triggered = await self._repo.trigger(alert.id, price)
        if triggered is None:
            return  # deleted meanwhile

        async def send() -> None:
            await self._notifier.fire(triggered, triggered.triggered_price or price, held)

        # Claimed in the database, sent within the lease, then marked: once across processes.
        await self._announcer.announce(alert.id, send)
