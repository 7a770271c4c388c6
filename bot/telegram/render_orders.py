"""Pure functions: open orders, their cancel confirmations and outcomes → HTML text."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal

from bot.domain import OrderRecord, OrderState
from bot.services.limit_sells import LimitQuote
from bot.services.open_orders import (
    PER_PAGE,
    CancelResult,
    CancelStatus,
    OpenOrder,
    OpenOrdersPage,
)
from bot.services.sell import SellPreview
from bot.services.sell_tails import SellKind
from bot.telegram import numbers as n
from bot.telegram.i18n import Markup, t
from bot.telegram.keyboards import rest_data
from bot.upbit.models import Order

DASH = "—"


def _created(order: Order, tz: tzinfo) -> str:
    try:
        return n.timestamp(datetime.fromisoformat(order.created_at), tz)
    except ValueError:
        return order.created_at or DASH


def order_price(order: Order, tick: Decimal | None) -> str:
    """The order's price with the digits its market quotes."""
    if order.price is None:
        return DASH
    if tick is not None:
        return n.tick_price(order.price, tick)
    return n.price(order.price, order.market.partition("-")[0])


def order_row(
    lang: str, order: Order, tick: Decimal | None, tz: tzinfo, number: int | None = None
) -> str:
    quote, _, currency = order.market.partition("-")
    volume = order.volume or Decimal(0)
    progress = order.executed_volume / volume * 100 if volume else Decimal(0)
    return t(
        lang,
        "open_row",
        number=f"#{number} " if number is not None else "",
        market=order.market,
        side=t(lang, f"open_side_{order.side}") if order.side in ("ask", "bid") else order.side,
        kind=t(lang, f"ordtype_{order.ord_type}"),
        price=order_price(order, tick),
        quote=quote,
        executed=n.asset_amount(order.executed_volume),
        volume=n.asset_amount(volume),
        currency=currency,
        progress=n.percent(progress, 1),
        created=_created(order, tz),
    )


def numbered(page: OpenOrdersPage) -> list[tuple[int, OpenOrder]]:
    """Numbers run on across pages: page 2 starts at PER_PAGE + 1."""
    start = (page.page - 1) * PER_PAGE + 1
    return [(start + i, item) for i, item in enumerate(page.orders)]


def open_orders(lang: str, page: OpenOrdersPage, tz: tzinfo) -> str:
    if not page.orders and page.page == 1:
        return t(lang, "open_none")
    lines = [t(lang, "open_title", page=page.page)]
    lines += [order_row(lang, o.order, o.tick_size, tz, number) for number, o in numbered(page)]
    if page.orders:
        lines.append(t(lang, "open_hint"))
    return "\n\n".join(lines)


def cancel_question(lang: str, result: CancelResult, tz: tzinfo) -> str:
    if result.order is None:
        return t(lang, "open_not_open")
    row = Markup(order_row(lang, result.order, result.tick_size, tz))
    return t(lang, "open_confirm", row=row, uuid=result.order.uuid)


def cancel_outcome(lang: str, result: CancelResult, reason: str, tz: tzinfo) -> str:
    """What the confirmation message says once the cancel was tried."""
    if result.status is CancelStatus.FAILED:
        return t(lang, "open_failed", reason=Markup(reason))
    order = result.order
    if result.status is CancelStatus.NOT_OPEN or order is None or order.state == "done":
        return t(lang, "open_not_open")
    row = Markup(order_row(lang, order, result.tick_size, tz))
    if order.state in ("wait", "watch"):
        return t(lang, "open_cancel_accepted", row=row)
    if order.executed_volume > 0:
        return t(lang, "open_cancelled_some", row=row)
    return t(lang, "open_cancelled_none", row=row)


def limit_preview(lang: str, p: SellPreview, q: LimitQuote, now: datetime, tz: tzinfo) -> str:
    """The preview of a limit or protected sell (`bot.services.limit_sells`)."""
    quote = p.quote_currency
    tick = q.tick_size
    seconds = max(0, round((p.expires_at - now).total_seconds()))
    fee = p.est_fee
    common = {
        "market": p.market,
        "volume": n.asset_amount(p.volume),
        "currency": p.currency,
        "share": n.percent(p.share_percent),
        "available": n.asset_amount(p.available),
        "price": n.tick_price(q.price, tick),
        "tick": n.tick_price(tick, tick),
        "best_bid": n.tick_price(p.best_bid, tick),
        "gross": n.quote_amount(p.est_gross, quote),
        "fee_rate": n.percent(p.fee_rate * 100, 4),
        "fee": n.quote_amount(fee, quote),
        "net": n.quote_amount(p.est_net, quote),
        "quote": quote,
        "expires": n.clock(p.expires_at, tz),
        "seconds": seconds,
    }
    if q.kind is SellKind.LIMIT:
        rounded = ""
        if q.rounded and q.requested_price is not None:
            rounded = t(
                lang,
                "limit_rounded",
                requested=n.price(q.requested_price, quote),
                tick=common["tick"],
            )
        now_line = ""
        if q.fillable_volume > 0:
            now_line = t(
                lang,
                "limit_fills_now",
                fillable=n.asset_amount(q.fillable_volume),
                currency=p.currency,
            )
        return t(
            lang, "preview_limit", rounded=Markup(rounded), now_line=Markup(now_line), **common
        )
    rest_line = ""
    if q.unsold_volume > 0:
        rest_line = t(
            lang, "protected_rest", rest=n.asset_amount(q.unsold_volume), currency=p.currency
        )
    return t(
        lang,
        "preview_protected",
        slip=n.percent(q.slip_percent or Decimal(0), 2),
        fillable=n.asset_amount(q.fillable_volume),
        rest_line=Markup(rest_line),
        **common,
    )


def protected_rest(order: OrderRecord) -> tuple[dict[str, str], str | None, str, str] | None:
    """For a final protected sell that left some unsold: the notice line's values, the
    "sell the rest" button data (None if it cannot be carried), the rest and the currency."""
    if order.slip_percent is None or not order.state.is_final or order.state is OrderState.FAILED:
        return None
    rest = order.requested_volume - order.executed_volume
    if rest <= 0:
        return None
    quote, _, currency = order.market.partition("-")
    volume = n.asset_amount(rest)
    line = {
        "rest": volume,
        "currency": currency,
        "price": n.price(order.price, quote) if order.price is not None else DASH,
        "quote": quote,
    }
    return line, rest_data(order.market, rest, order.slip_percent), volume, currency
