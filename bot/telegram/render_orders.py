"""Pure functions: open orders, their cancel confirmations and outcomes → HTML text."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

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
from bot.telegram import render
from bot.telegram.i18n import Markup, t
from bot.telegram.keyboards import rest_data
from bot.upbit.models import Order

DASH = "—"


def _created(order: Order, tz: tzinfo) -> str:
    try:
        return n.timestamp(datetime.fromisoformat(order.created_at), tz)
    except ValueError:
        return order.created_at or DASH


def order_price(lang: str, order: Order, tick: Decimal | None) -> str:
    """The order's price with the digits its market quotes, and its unit."""
    if order.price is None:
        return DASH
    return render.tick_price_text(lang, order.price, order.market.partition("-")[0], tick)


def order_row(
    lang: str, order: Order, tick: Decimal | None, tz: tzinfo, number: int | None = None
) -> str:
    _, _, currency = order.market.partition("-")
    volume = order.volume or Decimal(0)
    progress = order.executed_volume / volume * 100 if volume else Decimal(0)
    return t(
        lang,
        "open_row",
        number=f"#{number} " if number is not None else "",
        market=order.market,
        side=t(lang, f"open_side_{order.side}") if order.side in ("ask", "bid") else order.side,
        kind=t(lang, f"ordtype_{order.ord_type}"),
        price=order_price(lang, order, tick),
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
    name = render.coin_name(lang, p.name, p.currency)
    common: dict[str, Any] = {
        "market": p.market,
        "name": f" ({name})" if name != p.currency else "",
        "warning": Markup(t(lang, "warning_line")) if p.warning else "",
        "volume": n.asset_amount(p.volume),
        "currency": p.currency,
        "share": n.percent(p.share_percent),
        "available": n.asset_amount(p.available),
        "price": render.tick_price_text(lang, q.price, quote, tick),
        "tick": n.tick_price(tick, tick),
        "best_bid": render.tick_price_text(lang, p.best_bid, quote, tick),
        "gross": render.money(lang, p.est_gross, quote),
        "fee_rate": n.percent(p.fee_rate * 100, 4),
        "fee": render.money(lang, p.est_fee, quote),
        "net": render.money(lang, p.est_net, quote),
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
            lang,
            "preview_limit",
            rounded=Markup(rounded),
            now_line=Markup(now_line),
            pnl=Markup(_expected_pnl(lang, p, p.volume)),
            **common,
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


def _expected_pnl(lang: str, p: SellPreview, sold: Decimal) -> str:
    """The expected profit line for ``sold`` of the volume at the preview's estimate."""
    if p.avg_buy_price <= 0 or sold <= 0:
        return ""
    cost = sold * p.avg_buy_price
    expected = p.est_net - cost
    return t(
        lang,
        "preview_pnl",
        pnl=render.signed_money(lang, expected, p.quote_currency),
        rate=n.signed_percent(expected / cost * 100),
        avg=render.price_text(lang, p.avg_buy_price, p.quote_currency),
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
    floor = DASH
    if order.price is not None:
        floor = render.tick_price_text(order.lang, order.price, quote, None)
    line = {"rest": volume, "currency": currency, "price": floor}
    return line, rest_data(order.market, rest, order.slip_percent), volume, currency
