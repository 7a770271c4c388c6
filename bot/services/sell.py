"""The sell flow: request → preview → confirm → one market sell order → recorded.

Knows nothing of Telegram. The rules that keep money safe live here:

* a preview is a PENDING row; Confirm claims it in one conditional UPDATE (one winner);
* the balance (and a market sell's price) is checked again at the press, before the claim,
  from what `bot.services.press` keeps fresh or read then; a refusal cancels the preview;
* the claim and the order row with its fresh ``identifier`` are one transaction, committed
  BEFORE ``POST /v1/orders``;
* the POST is sent once; when its outcome is unknown the order is looked up by
  identifier, never re-sent, and left SUBMITTING for the fill watcher if still unknown.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from bot.domain import (
    ClaimOutcome,
    FailureKind,
    NewOrder,
    NewPendingSell,
    OrderFill,
    OrderRecord,
    OrderState,
    PendingSell,
    PendingStatus,
)
from bot.services.amounts import (
    HUNDRED,
    AmountKind,
    SellRequest,
    bid_depth,
    parse_sell_args,
    round_volume,
    volume_for_net,
    volume_for_percent,
    walk_bids,
)
from bot.services.announce import Announcer, Delivery
from bot.services.clock import Clock, utc_now
from bot.services.errors import BookTooThin, SellRefused, ServiceError
from bot.services.guards import MAX_WRONG_CODES_PER_PREVIEW, CodeVerdict, GuardService
from bot.services.limit_sells import LimitQuote, limit_price, quote_limit, volume_for_net_at
from bot.services.markets import LISTING_MAX_AGE, CoinName, MarketDirectory
from bot.services.ports import Exchange, OrderRepository
from bot.services.press import BalanceBook, BookKeeper, PreviewFacts, PreviewMemory
from bot.services.self_trade import OwnBids, SelfTradeWatch, own_bids_met
from bot.services.sell_tails import SellKind, split_tail
from bot.services.upbit_answers import created, error_code, exchange_unavailable, order_fill
from bot.upbit.errors import (
    DuplicatedIdentifier,
    InvalidRequest,
    MarketNotFound,
    UpbitAPIError,
    UpbitError,
    UpbitTransportError,
)
from bot.upbit.models import Order, Orderbook, OrderChance

log = logging.getLogger(__name__)

_T = TypeVar("_T")

BOOK_MAX_AGE = 2.0  # seconds: the price check at Confirm uses no older order book


@dataclass(frozen=True, slots=True)
class SellPreview:
    pending_id: str
    market: str
    currency: str
    quote_currency: str
    volume: Decimal
    available: Decimal
    share_percent: Decimal  # of the available balance
    best_bid: Decimal
    est_avg_price: Decimal
    est_gross: Decimal
    fee_rate: Decimal
    est_fee: Decimal
    est_net: Decimal
    price_impact_percent: Decimal  # how far the average lands below the best bid
    expires_at: datetime
    paper: bool
    limit: LimitQuote | None = None  # a limit or protected sell (`bot.services.limit_sells`)
    avg_buy_price: Decimal = Decimal(0)  # of the holding; 0 when Upbit does not know it
    name: CoinName | None = None  # from Upbit's market list
    warning: bool = False  # the market is under Upbit's investment warning
    # The user's open buy orders this sell would meet (self-trade prevention), if any.
    own_bids: OwnBids | None = None

    @property
    def expected_pnl(self) -> Decimal | None:
        """Estimated net proceeds minus what the volume cost at the average buy price."""
        if self.avg_buy_price <= 0:
            return None
        return self.est_net - self.volume * self.avg_buy_price


class ConfirmStatus(StrEnum):
    CODE_NEEDED = "code_needed"  # nothing claimed: the one-time code must come first
    PLACED = "placed"  # Upbit has the order (uuid known)
    FAILED = "failed"  # Upbit refused it; nothing was created
    UNKNOWN = "unknown"  # sent, fate not yet known; the watcher keeps looking
    REFUSED = "refused"  # not sent at all (not the owner, expired, balance changed, ...)


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    status: ConfirmStatus
    claim: ClaimOutcome  # anything but CLAIMED: this press placed nothing and may say so
    order: OrderRecord | None = None
    reason: str = ""  # catalogue code for FAILED / REFUSED / UNKNOWN
    params: Mapping[str, Any] | None = None
    pending: PendingSell | None = None  # the preview waiting for its code (CODE_NEEDED)
    fresh_preview: SellPreview | None = None  # the price fell: a new preview to confirm


@dataclass(frozen=True, slots=True)
class CodeAttempt:
    """A one-time code sent for the user's preview that waited for one, and what came of it."""

    pending: PendingSell
    result: ConfirmResult


@dataclass(frozen=True, slots=True)
class PressInputs:
    """What the checks at the press go by."""

    balance: Decimal  # available
    fee: Decimal
    avg_buy_price: Decimal
    book: Orderbook | None  # market sells; None: no price check
    own_orders: tuple[Order, ...] = ()  # the account's open orders (self-trade line)


async def _maybe(read: Awaitable[_T] | None) -> _T | None:
    return None if read is None else await read


class SellService:
    def __init__(
        self,
        exchange: Exchange,
        repo: OrderRepository,
        *,
        confirm_timeout: timedelta,
        clock: Clock | None = None,
        lookup_delays: tuple[float, ...] = (0.3, 1.0, 2.0),
        on_order_placed: Callable[[OrderRecord], None] | None = None,
        announcer: Announcer | None = None,
        markets: MarketDirectory | None = None,
        guards: GuardService | None = None,
        self_trade_prevention: str = "cancel_maker",
        max_price_drop_percent: Decimal = Decimal(3),
        self_trade: SelfTradeWatch | None = None,
        balances: BalanceBook | None = None,
        books: BookKeeper | None = None,
    ) -> None:
        self._exchange = exchange
        self._previews = PreviewMemory()
        self._books = books or BookKeeper(exchange.orderbooks)
        self._balances = balances or BalanceBook()
        self._markets = markets or MarketDirectory(exchange)
        self._smp_mode = self_trade_prevention
        self._self_trade = self_trade
        self._repo = repo
        self._announcer = announcer or Announcer(repo, clock=clock)
        self._guards = guards
        self._confirm_timeout = confirm_timeout
        # None (production): deadlines are judged by the database's clock; tests may pin one.
        self._clock = clock
        self._lookup_delays = lookup_delays
        self._on_order_placed = on_order_placed
        self._max_drop = max_price_drop_percent

    @property
    def paper(self) -> bool:
        return self._exchange.is_paper

    async def aclose(self) -> None:
        """Stop reading the books of open previews (at shutdown)."""
        await self._books.aclose()

    def _pinned(self) -> datetime | None:
        return None if self._clock is None else self._clock()

    async def _now(self) -> datetime:
        return self._clock() if self._clock is not None else await self._repo.now()

    # -- preview ---------------------------------------------------------------------------

    async def preview(
        self, args: list[str], *, user_id: int, chat_id: int, lang: str
    ) -> SellPreview:
        """Check a ``/sell`` request against the account and the book; store it as PENDING."""
        words, tail = split_tail(args)
        if self._guards is not None and await self._guards.is_locked():
            raise SellRefused("sell_locked")  # early word; the claim decides again
        markets = await self._markets.names(LISTING_MAX_AGE)  # fresh warnings
        request = parse_sell_args(words, markets)
        mark = self._balances.mark()  # before the balance is read (see BalanceBook)
        read_at = asyncio.get_running_loop().time()
        market, chance, book, open_orders = await self._market_data(request)
        limit: LimitQuote | None = None
        if tail.kind is SellKind.MARKET:
            volume, available = self._volume(request, chance, book)
            preview = self._price(request, market, chance, book, volume, available)
            lowest = preview.pop("lowest_price")
        else:
            tick = await self._tick_size(market)
            at = limit_price(tail, book.best_bid, tick) if tail.kind is SellKind.LIMIT else None
            volume, available = self._volume(request, chance, book, net_price=at)
            limit = quote_limit(
                tail,
                market=market,
                volume=volume,
                units=book.units,
                best_bid=book.best_bid,
                tick=tick,
                chance=chance,
            )
            preview = self._price_limit(request, market, chance, book, limit, available)
            lowest = limit.price  # a limit sell meets the bids at or above its price
        preview["own_bids"] = own_bids_met(open_orders, market, lowest, self._smp_mode)
        # The guards weigh what the order may sell: all of a protected sell's volume (the
        # book may have deepened by Confirm), at the best bid or the limit, whichever is more.
        guarded = preview["est_gross"]
        if limit is not None:
            guarded = max(guarded, limit.volume * max(preview["best_bid"], limit.price))
        est_krw = await self._krw_value(guarded, preview["quote_currency"])
        now = await self._now()
        pending = await self._repo.create_pending(
            NewPendingSell(
                id=secrets.token_urlsafe(12),
                user_id=user_id,
                chat_id=chat_id,
                market=market,
                volume=volume,
                lang=lang,
                created_at=now,
                expires_at=now + self._confirm_timeout,
                ord_type="market" if limit is None else "limit",
                price=None if limit is None else limit.price,
                time_in_force=None if limit is None else limit.time_in_force,
                slip_percent=None if limit is None else limit.slip_percent,
                est_krw=est_krw,
                est_net=preview["est_net"],
            )
        )
        self._previews.keep(
            PreviewFacts(
                pending,
                fee=chance.ask_fee,
                avg_buy_price=chance.ask_account.avg_buy_price,
                balance=chance.ask_account.balance,
                mark=mark,
                own_orders=tuple(open_orders),
            )
        )
        if limit is None:  # the price check at Confirm wants a fresh book of this market
            self._books.put(book, read_at)
            self._books.watch(pending.id, market, self._confirm_timeout.total_seconds())
        return SellPreview(
            pending_id=pending.id,
            expires_at=pending.expires_at,
            paper=self.paper,
            limit=limit,
            avg_buy_price=chance.ask_account.avg_buy_price,
            name=markets.name(request.currency),
            warning=markets.warning(market),
            **preview,
        )

    def _price_drop(self, pending: PendingSell, inputs: PressInputs) -> ConfirmResult | None:
        """Refuse a market sell whose estimated net proceeds, on an order book read at most
        `BOOK_MAX_AGE` before the check, fell by more than the allowed percentage since the
        preview; None to go on."""
        if inputs.book is None or pending.est_net is None:
            return None
        walk = walk_bids(inputs.book.units, pending.volume)
        net = walk.gross - walk.gross * inputs.fee
        floor = pending.est_net * (HUNDRED - self._max_drop) / HUNDRED
        if walk.filled and net >= floor:
            return None
        drop = (pending.est_net - net) / pending.est_net * HUNDRED if pending.est_net else HUNDRED
        log.info("price fell since the preview market=%s drop=%.2f%%", pending.market, drop)
        return ConfirmResult(
            ConfirmStatus.REFUSED,
            ClaimOutcome.CLAIMED,
            reason="price_dropped",
            params={
                "old": pending.est_net,
                "new": net,
                "drop": str(drop.quantize(Decimal("0.01"))),
                "limit": str(self._max_drop),
                "quote": pending.market.partition("-")[0],
            },
        )

    async def _krw_value(self, gross: Decimal, quote: str) -> Decimal | None:
        """The estimated KRW value of a sell, for the guards (None: unknown)."""
        if quote == "KRW":
            return gross
        if self._guards is None or not self._guards.settings.any_on:
            return None  # nobody needs it: no extra ticker call
        try:
            (ticker,) = await self._exchange.tickers([f"KRW-{quote}"])
        except (UpbitError, ValueError):
            return None  # unknown: a code is asked for, the daily limit refuses
        return gross * ticker.trade_price

    async def _tick_size(self, market: str) -> Decimal:
        try:
            return await self._exchange.tick_size(market)
        except MarketNotFound as exc:
            raise SellRefused("market_unknown", market=market) from exc
        except UpbitError as exc:
            raise exchange_unavailable(exc) from exc

    @staticmethod
    def _price_limit(
        request: SellRequest,
        market: str,
        chance: OrderChance,
        book: Orderbook,
        limit: LimitQuote,
        available: Decimal,
    ) -> dict[str, Any]:
        """The preview figures of a limit or protected sell (terms in ``limit``)."""
        gross = limit.est_gross
        sold = limit.volume if limit.kind is SellKind.LIMIT else limit.fillable_volume
        avg = gross / sold if sold else limit.price
        best_bid = book.best_bid if book.best_bid is not None else limit.price
        fee = gross * chance.ask_fee
        return {
            "market": market,
            "currency": request.currency,
            "quote_currency": chance.market.bid.currency,
            "volume": limit.volume,
            "available": available,
            "share_percent": limit.volume / available * HUNDRED,
            "best_bid": best_bid,
            "est_avg_price": avg,
            "est_gross": gross,
            "fee_rate": chance.ask_fee,
            "est_fee": fee,
            "est_net": gross - fee,
            "price_impact_percent": (best_bid - avg) / best_bid * HUNDRED,
        }

    async def _market_data(
        self, request: SellRequest
    ) -> tuple[str, OrderChance, Orderbook, list[Order]]:
        """The market's rules, its book and the account's open orders, read concurrently.

        Open orders of every market are read in the first round, so a guess corrected by
        the accounts needs no second call for them; self-trade prevention only cares about
        the ones on the sell's market (`bot.services.self_trade`).
        """
        guess = request.market or f"KRW-{request.currency}"
        try:
            if request.market is None:
                # Ask for the usual KRW market while the accounts say which market it is.
                accounts, chance, books, open_orders = await asyncio.gather(
                    self._exchange.accounts(),
                    self._chance(guess),
                    self._exchange.orderbooks([guess]),
                    self._exchange.open_orders(),
                    return_exceptions=True,
                )
                if isinstance(accounts, BaseException):
                    raise accounts
                held = next((a for a in accounts if a.currency == request.currency), None)
                if held is None or held.balance + held.locked <= 0:
                    raise SellRefused("not_held", currency=request.currency)
                if held.market != guess:
                    guess = held.market
                    chance, books = await asyncio.gather(
                        self._chance(guess),
                        self._exchange.orderbooks([guess]),
                        return_exceptions=True,
                    )
            else:
                chance, books, open_orders = await asyncio.gather(
                    self._chance(guess),
                    self._exchange.orderbooks([guess]),
                    self._exchange.open_orders(),
                    return_exceptions=True,
                )
            if isinstance(chance, BaseException):
                raise chance
            if isinstance(books, BaseException):
                raise books
            if isinstance(open_orders, BaseException):
                raise open_orders
        except SellRefused:
            raise
        except (MarketNotFound, InvalidRequest) as exc:
            raise SellRefused("market_unknown", market=guess) from exc
        except UpbitAPIError as exc:
            if exc.status == 404:  # quotation API: unknown market code
                raise SellRefused("market_unknown", market=guess) from exc
            raise exchange_unavailable(exc) from exc
        except UpbitError as exc:
            raise exchange_unavailable(exc) from exc
        if not books:
            raise SellRefused("market_unknown", market=guess)
        return guess, chance, books[0], open_orders

    async def _chance(self, market: str) -> OrderChance:
        return await self._exchange.order_chance(market)

    @staticmethod
    def _volume(
        request: SellRequest,
        chance: OrderChance,
        book: Orderbook,
        *,
        net_price: Decimal | None = None,
    ) -> tuple[Decimal, Decimal]:
        """The volume to sell and the available balance; a quote amount to receive is
        reached at ``net_price`` when given (a limit sell), else by walking the bids."""
        rules = chance.market
        if rules.state != "active":
            raise SellRefused("market_inactive", market=rules.id)
        if "market" not in rules.ask_types:
            raise SellRefused("no_market_sell", market=rules.id)
        available = chance.ask_account.balance
        if available <= 0:
            raise SellRefused("not_held", currency=request.currency)
        if request.kind is AmountKind.PERCENT:
            volume = volume_for_percent(available, request.value)
        elif request.kind is AmountKind.QUANTITY:
            volume = round_volume(request.value)
        else:
            if request.quote_currency != rules.bid.currency:
                raise SellRefused(
                    "quote_mismatch", quote=request.quote_currency, expected=rules.bid.currency
                )
            if net_price is not None:
                volume = volume_for_net_at(net_price, request.value, chance.ask_fee)
            else:
                volume = volume_for_net(book.units, request.value, chance.ask_fee)
        if volume <= 0:
            raise SellRefused("volume_zero", currency=request.currency)
        if volume > available:
            raise SellRefused(
                "over_balance", volume=volume, available=available, currency=request.currency
            )
        return volume, available

    def _price(
        self,
        request: SellRequest,
        market: str,
        chance: OrderChance,
        book: Orderbook,
        volume: Decimal,
        available: Decimal,
    ) -> dict[str, Any]:
        rules = chance.market
        quote = rules.bid.currency
        best_bid = book.best_bid
        walk = walk_bids(book.units, volume)
        if best_bid is None or not walk.filled:
            depth, depth_value = bid_depth(book.units)
            raise BookTooThin(
                market=market,
                volume=volume,
                depth=depth,
                depth_value=depth_value,
                currency=request.currency,
                quote=quote,
            )
        # Upbit values a market sell at volume × best bid for its minimum and maximum.
        order_value = volume * best_bid
        if order_value < rules.ask.min_total:
            raise SellRefused(
                "below_min_total", value=order_value, min_total=rules.ask.min_total, quote=quote
            )
        if rules.max_total is not None and order_value > rules.max_total:
            raise SellRefused(
                "above_max_total", value=order_value, max_total=rules.max_total, quote=quote
            )
        avg = walk.avg_price or best_bid
        fee = walk.gross * chance.ask_fee
        return {
            "market": market,
            "currency": request.currency,
            "quote_currency": quote,
            "volume": volume,
            "available": available,
            "share_percent": volume / available * HUNDRED,
            "best_bid": best_bid,
            "est_avg_price": avg,
            "est_gross": walk.gross,
            "fee_rate": chance.ask_fee,
            "est_fee": fee,
            "est_net": walk.gross - fee,
            "price_impact_percent": (best_bid - avg) / best_bid * HUNDRED,
            "lowest_price": walk.lowest_price,
        }

    # -- confirm / cancel ----------------------------------------------------------------

    async def cancel(self, pending_id: str, user_id: int) -> bool:
        cancelled = await self._repo.cancel_pending(pending_id, user_id)
        if cancelled:
            self._forget(pending_id)
        return cancelled

    async def cancel_all(self, user_id: int) -> list[PendingSell]:
        cancelled = await self._repo.cancel_pending_for_user(user_id)
        for pending in cancelled:
            self._forget(pending.id)
        return cancelled

    async def set_message(self, pending_id: str, message_id: int) -> bool:
        """Remember which message shows a preview; False when the preview was cancelled
        while that message was on its way (a quick /cancel), so the caller can say so."""
        status = await self._repo.set_pending_message(pending_id, message_id)
        return status is not None and status is not PendingStatus.CANCELLED

    async def expire(self, pending_id: str) -> PendingSell | None:
        """Cancel a preview whose time is up (by the database's clock); the preview if this
        call cancelled it."""
        self._forget(pending_id)  # whoever cancelled it, it can no longer be confirmed
        return await self._repo.expire_pending(pending_id, self._pinned())

    async def seconds_left(self, pending_id: str) -> float | None:
        """How long a still PENDING preview may yet be confirmed (database clock), or None."""
        pending = await self._repo.get_pending(pending_id)
        if pending is None or pending.status is not PendingStatus.PENDING:
            return None
        return max(0.0, (pending.expires_at - await self._now()).total_seconds())

    async def press_refusal(self, pending_id: str, user_id: int) -> str | None:
        """A read-only look at a preview before a press is answered: the catalogue code of
        why this user's press cannot place or cancel it, or None when it may try.

        Advisory only (it lets the presser, not the owner's chat, be told "not yours");
        the conditional claim in `confirm` stays the one authority on who wins.
        """
        pending = await self._repo.get_pending(pending_id)
        if pending is None:
            return "claim_not_found"
        if pending.user_id != user_id:
            return "claim_not_owner"
        if pending.status is PendingStatus.CLAIMED:
            return "claim_already_confirmed"
        if pending.status is PendingStatus.CANCELLED:
            # The expiry job cancels a preview whose time is up: say why.
            expired = pending.expires_at <= await self._now()
            return "claim_expired" if expired else "claim_cancelled"
        return None

    async def confirm(
        self,
        pending_id: str,
        user_id: int,
        on_claim: Callable[[ClaimOutcome], None] | None = None,
        *,
        code_checked: bool = False,
    ) -> ConfirmResult:
        """Place the order of a preview; at most one order per preview, ever.

        ``on_claim`` hears the claim's outcome as soon as the database decided it, so the
        caller can answer the press while the order is being placed. A sell that needs a
        one-time code claims nothing here (CODE_NEEDED) unless ``code_checked`` says the
        right code already came (`confirm_with_code`): the code is checked before the claim.
        """
        if not code_checked:
            asked = await self._ask_for_code(pending_id, user_id, on_claim)
            if asked is not None:
                return asked
        facts = self._previews.get(pending_id) or await self._facts_from_log(pending_id)
        if facts is None or facts.pending.user_id != user_id:
            return await self._refuse_press(pending_id, user_id, on_claim)
        pending = facts.pending
        try:
            inputs = await self._press_inputs(facts)
        except UpbitError as exc:
            # Nothing claimed, nothing sent: the preview is cancelled, the reply says why.
            return await self._refuse_before_claim(
                pending,
                on_claim,
                ConfirmResult(ConfirmStatus.REFUSED, ClaimOutcome.CLAIMED, reason=error_code(exc)),
            )
        refusal = self._price_drop(pending, inputs) or self._balance_short(pending, inputs)
        if refusal is not None:
            return await self._refuse_before_claim(pending, on_claim, refusal)
        identifier = f"usb-{uuid.uuid4().hex}"
        try:
            outcome, claimed, record = await self._repo.claim_and_record(
                pending_id,
                user_id,
                lambda row: self._new_order(row, identifier, inputs.avg_buy_price),
                self._pinned(),
                None if self._guards is None else self._guards.claim_guard,
            )
        except Exception:
            # Nothing went to Upbit (e.g. the database failed): free the preview and the
            # day's limit, and say so; never "already confirmed" for a sell that never left.
            log.exception("confirm failed before sending; nothing sent pending=%s", pending_id)
            return await self._not_sent(pending_id, user_id, identifier)
        if on_claim is not None:
            on_claim(outcome)
        if outcome in (ClaimOutcome.LOCKED, ClaimOutcome.OVER_DAILY_LIMIT):
            self._forget(pending_id)
            return await self._guard_refusal(outcome, pending_id)
        if outcome is not ClaimOutcome.CLAIMED or claimed is None or record is None:
            return ConfirmResult(ConfirmStatus.REFUSED, outcome, reason=f"claim_{outcome.value}")
        self._forget(pending_id)
        if self._self_trade is not None:
            self._self_trade.remember(record.identifier, record.market, inputs.own_orders)
        return await self._place(record)

    async def _not_sent(self, pending_id: str, user_id: int, identifier: str) -> ConfirmResult:
        """The claim's transaction failed: usually rolled back (nothing written). If its
        commit went through after all (a connection lost at COMMIT), the order row exists
        but was never sent: it is marked so, and this reply is its announcement."""
        failed = None
        try:
            if await self._repo.get_order_by_identifier(identifier) is not None:
                failed = await self._repo.update_order(
                    identifier,
                    OrderFill(
                        state=OrderState.FAILED,
                        error="not_sent: the database failed before sending",
                        failure=FailureKind.NOT_SENT,
                    ),
                )
        except Exception:
            log.exception("could not mark the unsent order identifier=%s", identifier)
        await self._drop_claim(pending_id, user_id)
        if failed is not None:
            return ConfirmResult(
                ConfirmStatus.FAILED, ClaimOutcome.CLAIMED, order=failed, reason="err_not_sent"
            )
        return ConfirmResult(
            ConfirmStatus.REFUSED, ClaimOutcome.CLAIMED, reason="err_not_sent_retry"
        )

    async def _place(self, record: OrderRecord) -> ConfirmResult:
        """The one POST of a claimed preview whose order row is stored, and what came of it."""
        log.info("order submitting market=%s identifier=%s", record.market, record.identifier)
        try:
            order = await self._send(record)
        except UpbitAPIError as exc:
            # A spent identifier means an earlier request carried it and may have created
            # the order: look it up like any other unknown outcome.
            if isinstance(exc, DuplicatedIdentifier) or (
                exc.status is not None and exc.status >= 500
            ):
                return await self._resolve_unknown(record, exc)
            code = error_code(exc)
            failed = await self._repo.update_order(
                record.identifier,
                OrderFill(
                    state=OrderState.FAILED,
                    error=f"{exc.name}: {exc.message}"[:500],
                    failure=FailureKind.REJECTED,
                ),
            )
            log.warning("order refused identifier=%s name=%s", record.identifier, exc.name)
            return ConfirmResult(
                ConfirmStatus.FAILED,
                ClaimOutcome.CLAIMED,
                order=failed,
                reason=code,
                params={"market": failed.market},
            )
        except UpbitTransportError as exc:
            return await self._resolve_unknown(record, exc)
        return self._placed(await self._repo.update_order(record.identifier, created(order)))

    async def _facts_from_log(self, pending_id: str) -> PreviewFacts | None:
        """A preview this process did not make (or has forgotten): its row, with the figures
        only Upbit knows left to the press's reads."""
        pending = await self._repo.get_pending(pending_id)
        if pending is None:
            return None
        return PreviewFacts(pending)

    async def _press_inputs(self, facts: PreviewFacts) -> PressInputs:
        """The balance, fee, average buy price, open orders and (market sells) order book at
        the press: from what this process keeps fresh where it can vouch for it, else read
        now, the reads concurrently."""
        pending = facts.pending
        market = pending.market
        balance = None
        if facts.balance is not None:
            currency = market.partition("-")[2]
            balance = self._balances.available(currency, facts.balance, facts.mark)
        known = balance is not None and facts.fee is not None and facts.avg_buy_price is not None
        wants_book = pending.ord_type == "market" and pending.est_net is not None
        stale = wants_book and self._books.fresh(market, BOOK_MAX_AGE) is None
        chance, _, read_own = await asyncio.gather(
            _maybe(None if known else self._exchange.order_chance(market)),
            _maybe(self._books.read_now(market) if stale else None),
            _maybe(self._own_orders_now() if facts.own_orders is None else None),
        )
        book = None
        if wants_book:
            # The reads above may have taken a while: the book must be young enough NOW.
            book = self._books.fresh(market, BOOK_MAX_AGE) or await self._books.read_now(market)
        own = tuple(read_own) if read_own is not None else facts.own_orders or ()
        if chance is not None:
            account = chance.ask_account
            return PressInputs(account.balance, chance.ask_fee, account.avg_buy_price, book, own)
        if balance is None or facts.fee is None or facts.avg_buy_price is None:
            raise AssertionError("unreachable: the order chance was read when these were not")
        return PressInputs(balance, facts.fee, facts.avg_buy_price, book, own)

    async def _own_orders_now(self) -> list[Order]:
        """The account's open orders at Confirm when the preview's are not at hand, for the
        fill notice's self-trade line (`SelfTradeWatch`); never fails a Confirm."""
        if self._self_trade is None or not self._self_trade.affects_makers:
            return []
        try:
            return await self._exchange.open_orders()
        except UpbitError:
            return []

    @staticmethod
    def _balance_short(pending: PendingSell, inputs: PressInputs) -> ConfirmResult | None:
        if inputs.balance >= pending.volume:
            return None
        return ConfirmResult(
            ConfirmStatus.REFUSED,
            ClaimOutcome.CLAIMED,
            reason="balance_changed",
            params={
                "available": inputs.balance,
                "volume": pending.volume,
                "currency": pending.market.partition("-")[2],
            },
        )

    async def _refuse_before_claim(
        self,
        pending: PendingSell,
        on_claim: Callable[[ClaimOutcome], None] | None,
        refusal: ConfirmResult,
    ) -> ConfirmResult:
        """A check at the press said no before anything was claimed. The preview is
        cancelled (its figures no longer hold) when it was still the presser's to confirm;
        otherwise the press is told why it could not have confirmed it anyway. A fallen
        price offers a fresh preview of the same volume, made only once the old one is
        cancelled by this press."""
        self._forget(pending.id)
        if not await self._repo.cancel_pending(pending.id, pending.user_id):
            return await self._refuse_press(pending.id, pending.user_id, on_claim)
        if refusal.reason != "price_dropped":
            return refusal
        try:
            fresh = await self.preview(
                [pending.market, format(pending.volume, "f")],
                user_id=pending.user_id,
                chat_id=pending.chat_id,
                lang=pending.lang,
            )
        except ServiceError:
            return refusal  # e.g. the balance changed too: the reply says what fell
        return replace(refusal, fresh_preview=fresh)

    async def _refuse_press(
        self,
        pending_id: str,
        user_id: int,
        on_claim: Callable[[ClaimOutcome], None] | None,
    ) -> ConfirmResult:
        """A press that cannot confirm: not found, not the presser's, no longer pending."""
        reason = await self.press_refusal(pending_id, user_id) or "claim_expired"
        outcome = ClaimOutcome(reason.removeprefix("claim_"))
        if on_claim is not None:
            on_claim(outcome)
        return ConfirmResult(ConfirmStatus.REFUSED, outcome, reason=reason)

    def _new_order(
        self, pending: PendingSell, identifier: str, avg_buy_price: Decimal
    ) -> NewOrder:
        return NewOrder(
            identifier=identifier,
            pending_id=pending.id,
            user_id=pending.user_id,
            chat_id=pending.chat_id,
            lang=pending.lang,
            market=pending.market,
            side="ask",
            ord_type=pending.ord_type,
            requested_volume=pending.volume,
            paper=self.paper,
            # The claim's time, by the database's clock: the watcher's grace counts from it.
            created_at=pending.claimed_at or utc_now(),
            price=pending.price,
            time_in_force=pending.time_in_force,
            slip_percent=pending.slip_percent,
            # Realised profit is measured against the cost basis at this moment.
            avg_buy_price=avg_buy_price,
        )

    def _forget(self, pending_id: str) -> None:
        self._previews.forget(pending_id)
        self._books.unwatch(pending_id)

    async def _drop_claim(self, pending_id: str, user_id: int) -> None:
        """A preview that sent nothing after all: cancelled whether or not its claim was
        committed (a second press says so) and no longer counted for the day. Best effort:
        the database may be the trouble."""
        self._forget(pending_id)
        steps: tuple[Callable[[], Awaitable[object]], ...] = (
            lambda: self._repo.cancel_pending(pending_id, user_id),
            lambda: self._repo.drop_claim(pending_id),
            lambda: self._release(pending_id),
        )
        for step in steps:
            try:
                await step()
            except Exception:
                log.exception("could not free the claim of pending=%s", pending_id)

    async def confirm_with_code(
        self,
        user_id: int,
        code: str,
        on_claim: Callable[[ClaimOutcome], None] | None = None,
    ) -> CodeAttempt | None:
        """A one-time code from ``user_id``: for their newest preview waiting for one (None
        when none is). A right code confirms it; three wrong ones cancel it."""
        if self._guards is None or not self._guards.totp_on:
            return None
        pending = await self._guards.awaiting_code(user_id)
        if pending is None:
            return None
        check = await self._guards.check_code(code)
        if check.verdict is CodeVerdict.ACCEPTED:
            result = await self.confirm(pending.id, user_id, on_claim, code_checked=True)
            return CodeAttempt(pending, result)
        if check.verdict is CodeVerdict.PAUSED:
            refusal = self._code_refusal("code_paused", until=check.paused_until)
            return CodeAttempt(pending, refusal)
        failures = await self._guards.add_code_failure(pending.id)
        if failures >= MAX_WRONG_CODES_PER_PREVIEW:
            await self._repo.cancel_pending(pending.id, user_id)
            log.warning("preview cancelled after %s wrong codes", failures)
            return CodeAttempt(pending, self._code_refusal("code_too_many"))
        reason = "code_reused" if check.verdict is CodeVerdict.REUSED else "code_wrong"
        tries = MAX_WRONG_CODES_PER_PREVIEW - failures
        return CodeAttempt(pending, self._code_refusal(reason, tries=tries))

    @staticmethod
    def _code_refusal(reason: str, **params: Any) -> ConfirmResult:
        return ConfirmResult(
            ConfirmStatus.REFUSED, ClaimOutcome.CODE_NEEDED, reason=reason, params=params
        )

    async def _ask_for_code(
        self,
        pending_id: str,
        user_id: int,
        on_claim: Callable[[ClaimOutcome], None] | None,
    ) -> ConfirmResult | None:
        """CODE_NEEDED when this preview needs a one-time code (and is the presser's, still
        pending, in time); None when the claim may go ahead (it says why if it may not)."""
        guards = self._guards
        if guards is None or not guards.totp_on:
            return None
        pending = await self._repo.get_pending(pending_id)
        if pending is None or not guards.needs_code(pending.est_krw):
            return None
        if await guards.request_code(pending_id, user_id):
            return ConfirmResult(
                ConfirmStatus.CODE_NEEDED, ClaimOutcome.CODE_NEEDED, pending=pending
            )
        # Not this user's, no longer pending, or too late: say why, never claim.
        reason = await self.press_refusal(pending_id, user_id) or "claim_expired"
        outcome = ClaimOutcome(reason.removeprefix("claim_"))
        if on_claim is not None:
            on_claim(outcome)
        return ConfirmResult(ConfirmStatus.REFUSED, outcome, reason=reason)

    async def _guard_refusal(self, outcome: ClaimOutcome, pending_id: str) -> ConfirmResult:
        """/lock or the daily limit refused the claim (and cancelled the preview)."""
        if outcome is ClaimOutcome.LOCKED or self._guards is None:
            return ConfirmResult(ConfirmStatus.REFUSED, outcome, reason="sell_locked")
        status = await self._guards.status()
        pending = await self._repo.get_pending(pending_id)
        params: dict[str, Any] = {
            "limit": status.daily_limit_krw,
            "left": status.left_today_krw,
            "zone": str(self._guards.settings.zone),
        }
        if pending is not None:
            params.update(
                market=pending.market,
                volume=pending.volume,
                currency=pending.market.partition("-")[2],
                value=pending.est_krw if pending.est_krw is not None else "?",
            )
        log.warning("sell refused: daily limit (left %s KRW)", status.left_today_krw)
        return ConfirmResult(
            ConfirmStatus.REFUSED, outcome, reason="over_daily_limit", params=params
        )

    async def _release(self, pending_id: str) -> None:
        """A claim that sends nothing after all no longer counts toward the daily limit."""
        if self._guards is not None:
            await self._guards.release(pending_id)

    async def deliver_outcome(
        self, result: ConfirmResult, deliver: Callable[[], Awaitable[None]]
    ) -> None:
        """Tell the user a confirmation's outcome. When the order FAILED (refused by Upbit,
        never sent), this reply is its announcement: claimed first, marked after delivery,
        released if delivery failed so the fill watcher announces it instead.

        Any other order, even one already final (an unknown outcome looked up and found
        done, a paper fill, the watcher storing the done event first), is announced by the
        fill watcher with the fill notice: this reply only says it was placed."""
        order = result.order
        if order is None or order.state is not OrderState.FAILED:
            await deliver()
            return
        if await self._announcer.announce(order.id, deliver) is Delivery.NOT_OURS:
            await deliver()  # the watcher announces it; the preview still shows the outcome

    async def _send(self, record: OrderRecord) -> Order:
        """The one POST of a confirmation: a limit sell at the preview's price (an IOC one for
        a protected sell), else a market sell."""
        if record.ord_type == "limit" and record.price is not None:
            return await self._exchange.limit_sell(
                record.market,
                record.requested_volume,
                record.price,
                record.identifier,
                time_in_force=record.time_in_force,
            )
        return await self._exchange.sell_market(
            record.market, record.requested_volume, record.identifier
        )

    def _placed(self, record: OrderRecord) -> ConfirmResult:
        log.info("order placed uuid=%s identifier=%s", record.uuid, record.identifier)
        if self._on_order_placed is not None:
            self._on_order_placed(record)
        return ConfirmResult(ConfirmStatus.PLACED, ClaimOutcome.CLAIMED, order=record)

    async def _resolve_unknown(self, record: OrderRecord, cause: UpbitError) -> ConfirmResult:
        """The POST may have created an order: ask Upbit by identifier, never re-send."""
        log.warning(
            "order outcome unknown identifier=%s cause=%s", record.identifier, type(cause).__name__
        )
        for delay in self._lookup_delays:
            await asyncio.sleep(delay)
            try:
                order = await self._exchange.get_order(identifier=record.identifier)
            except UpbitError:  # not found yet, or Upbit busy: ask again
                continue
            return self._placed(
                await self._repo.update_order(record.identifier, order_fill(order))
            )
        if isinstance(cause, UpbitTransportError) and not cause.request_sent:
            failed = await self._repo.update_order(
                record.identifier,
                OrderFill(
                    state=OrderState.FAILED,
                    error=f"not_sent: {type(cause).__name__}",
                    failure=FailureKind.NOT_SENT,
                ),
            )
            return ConfirmResult(
                ConfirmStatus.FAILED, ClaimOutcome.CLAIMED, order=failed, reason="err_not_sent"
            )
        # Still unknown: stays SUBMITTING; the fill watcher keeps asking and tells the user.
        current = await self._repo.get_order_by_identifier(record.identifier)
        return ConfirmResult(
            ConfirmStatus.UNKNOWN, ClaimOutcome.CLAIMED, order=current or record, reason="unknown"
        )
