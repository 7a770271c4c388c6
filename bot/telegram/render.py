"""Pure functions: service results → HTML message text in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from bot.domain import FailureKind, OrderRecord, OrderState
from bot.services.errors import ServiceError
from bot.services.history import StatusReport
from bot.services.portfolio import Portfolio
from bot.services.sell import ConfirmResult, ConfirmStatus, SellPreview
from bot.telegram import numbers as n
from bot.telegram import render_orders
from bot.telegram.i18n import Markup, t

DASH = "—"
TELEGRAM_LIMIT = 4096


def with_paper_tag(text: str, lang: str, paper: bool) -> str:
    return f"{t(lang, 'paper_tag')}\n{text}" if paper else text


def _split_market(market: str) -> tuple[str, str]:
    quote, _, currency = market.partition("-")
    return quote, currency


def _format_value(key: str, value: Any, quote: str | None) -> str:
    if isinstance(value, Decimal):
        if key in {"volume", "available"}:
            return n.asset_amount(value)
        return n.quote_amount(value, quote or "KRW")
    return str(value)


# Refusals of a market sell the book cannot take: they point to protected and limit sells.
THIN_BOOK_CODES = frozenset({"book_too_thin"})


def refusal(lang: str, error: ServiceError) -> str:
    text = message(lang, error.code, error.params)
    if error.code in THIN_BOOK_CODES:
        market = str(error.params.get("market", ""))
        currency = market.partition("-")[2] or market
        text = f"{text}\n{t(lang, 'thin_book_hint', currency=currency)}"
    return text


def message(lang: str, code: str, params: Mapping[str, Any] | None) -> str:
    params = dict(params or {})
    quote = params.get("quote")
    values = {
        k: _format_value(k, v, quote if isinstance(quote, str) else None)
        for k, v in params.items()
    }
    return t(lang, code, **values)


def preview(lang: str, p: SellPreview, now: datetime, tz: tzinfo) -> str:
    if p.limit is not None:
        return render_orders.limit_preview(lang, p, p.limit, now, tz)
    q = p.quote_currency
    # Rounded, not truncated: a 60 s preview rendered a few ms later still says 60 s.
    seconds = max(0, round((p.expires_at - now).total_seconds()))
    return t(
        lang,
        "preview",
        market=p.market,
        volume=n.asset_amount(p.volume),
        currency=p.currency,
        share=n.percent(p.share_percent),
        available=n.asset_amount(p.available),
        best_bid=n.price(p.best_bid, q),
        avg_price=n.price(p.est_avg_price, q),
        gross=n.quote_amount(p.est_gross, q),
        fee_rate=n.percent(p.fee_rate * 100, 4),
        fee=n.quote_amount(p.est_fee, q),
        net=n.quote_amount(p.est_net, q),
        impact=n.percent(p.price_impact_percent, 3),
        quote=q,
        expires=n.clock(p.expires_at, tz),
        seconds=seconds,
    )


def confirm_outcome(lang: str, result: ConfirmResult) -> str:
    order = result.order
    if order is None:
        return message(lang, result.reason, result.params)
    _, currency = _split_market(order.market)
    common = {
        "market": order.market,
        "volume": n.asset_amount(order.requested_volume),
        "currency": currency,
    }
    if result.status is ConfirmStatus.PLACED:
        return t(lang, "placed", uuid=order.uuid or DASH, **common)
    if result.status is ConfirmStatus.UNKNOWN:
        return t(lang, "unknown", identifier=order.identifier, **common)
    reason = message(lang, result.reason, result.params)
    return t(lang, "failed", reason=Markup(reason), **common)


def expired(lang: str, market: str, volume: Decimal) -> str:
    _, currency = _split_market(market)
    return t(lang, "expired", market=market, volume=n.asset_amount(volume), currency=currency)


def fill_notice(lang: str, order: OrderRecord) -> str:
    quote, currency = _split_market(order.market)
    values = {
        "market": order.market,
        "currency": currency,
        "quote": quote,
        "uuid": order.uuid or DASH,
        "identifier": order.identifier,
        "requested": n.asset_amount(order.requested_volume),
        "executed": n.asset_amount(order.executed_volume),
        "avg_price": n.price(order.avg_price, quote) if order.avg_price is not None else DASH,
        "gross": n.quote_amount(order.gross_funds or Decimal(0), quote),
        "fee": n.quote_amount(order.paid_fee or Decimal(0), quote),
        "net": n.quote_amount(order.net_funds or Decimal(0), quote),
    }
    if order.state is OrderState.FAILED:
        if order.failure is FailureKind.NOT_CREATED:
            return t(lang, "fill_failed", **values)
        return t(lang, "fill_refused", error=order.last_error or "", **values)
    if order.executed_volume <= 0:
        return t(lang, "fill_none", **values)
    if order.state is OrderState.CANCEL or order.executed_volume < order.requested_volume:
        return t(lang, "fill_partial", **values)
    return t(lang, "fill_done", **values)


def balance(lang: str, portfolio: Portfolio) -> str:
    if not portfolio.holdings:
        return t(lang, "balance_empty")
    lines = [t(lang, "balance_title")]
    for h in portfolio.holdings:
        available, locked = n.asset_amount(h.available), n.asset_amount(h.locked)
        if h.market is None:
            if h.currency == "KRW":
                available = n.quote_amount(h.available, "KRW")
                locked = n.quote_amount(h.locked, "KRW")
            lines.append(
                t(lang, "balance_cash", currency=h.currency, available=available, locked=locked)
            )
            continue
        if h.price is None:
            lines.append(
                t(
                    lang,
                    "balance_row_unpriced",
                    currency=h.currency,
                    available=available,
                    locked=locked,
                )
            )
            continue
        q = h.quote_currency
        lines.append(
            t(
                lang,
                "balance_row",
                currency=h.currency,
                market=h.market,
                available=available,
                locked=locked,
                avg=n.price(h.avg_buy_price, q),
                price=n.price(h.price, q),
                value=n.quote_amount(h.value or Decimal(0), q),
                quote=q,
                pnl=n.signed_percent(h.pnl_percent) if h.pnl_percent is not None else DASH,
            )
        )
        if h.dust:
            lines.append(t(lang, "balance_dust"))
    lines.append("")
    lines.append(t(lang, "balance_total", total=n.quote_amount(portfolio.total_krw, "KRW")))
    if any(h.sellable for h in portfolio.holdings):
        lines.append(t(lang, "balance_buttons_hint"))
    return "\n".join(lines)


def state_name(lang: str, state: OrderState) -> str:
    return t(lang, f"state_{state.value}")


def orders(lang: str, records: list[OrderRecord], tz: tzinfo) -> str:
    if not records:
        return t(lang, "orders_none")
    lines = [t(lang, "orders_title", count=len(records))]
    for r in records:
        _, currency = _split_market(r.market)
        lines.append(
            t(
                lang,
                "orders_row",
                created=n.timestamp(r.created_at, tz),
                market=r.market,
                volume=n.asset_amount(r.requested_volume),
                currency=currency,
                state=state_name(lang, r.state) + (" (PAPER)" if r.paper else ""),
                uuid=r.uuid or r.identifier,
            )
        )
    return "\n\n".join([lines[0], *lines[1:]])


def order_detail(lang: str, r: OrderRecord, refreshed: bool, tz: tzinfo) -> str:
    quote, currency = _split_market(r.market)
    text = t(
        lang,
        "order_detail",
        market=r.market,
        state=state_name(lang, r.state),
        requested=n.asset_amount(r.requested_volume),
        executed=n.asset_amount(r.executed_volume),
        currency=currency,
        quote=quote,
        avg_price=n.price(r.avg_price, quote) if r.avg_price is not None else DASH,
        gross=n.quote_amount(r.gross_funds or Decimal(0), quote),
        fee=n.quote_amount(r.paid_fee or Decimal(0), quote),
        net=n.quote_amount(r.net_funds or Decimal(0), quote),
        created=n.timestamp(r.created_at, tz),
        uuid=r.uuid or DASH,
    )
    return text if refreshed else f"{text}\n{t(lang, 'order_stale')}"


def status(lang: str, s: StatusReport, tz: tzinfo) -> str:
    if s.key_expires_at is None or s.key_days_left is None:
        key = t(lang, "key_none")
    else:
        key = t(
            lang,
            "key_expires_soon" if s.key_expiry_warning else "key_expires",
            date=n.date(s.key_expires_at, tz),
            days=s.key_days_left,
        )
    if not s.ws_enabled:
        tracking = t(lang, "tracking_polling_only")
    else:
        tracking = t(lang, "tracking_ws" if s.ws_connected else "tracking_polling")
    upbit = (
        t(lang, "upbit_ok")
        if s.upbit_reachable
        else t(lang, "upbit_down", error=s.upbit_error or "?")
    )
    text = t(
        lang,
        "status",
        version=s.version,
        mode=t(lang, "mode_paper" if s.paper else "mode_live"),
        upbit=Markup(upbit),
        key=Markup(key),
        watching=s.watching,
        tracking=Markup(tracking),
    )
    blocks = [t(lang, "upbit_blocked", group=g, seconds=left) for g, left in s.blocks]
    return "\n".join([text, *blocks])


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split at line boundaries into chunks Telegram accepts; a lone long line is cut."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks
