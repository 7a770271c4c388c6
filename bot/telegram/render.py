"""Pure functions: service results → HTML message text in the user's language."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from bot.domain import FailureKind, OrderRecord, OrderState, PendingSell
from bot.services.errors import ServiceError
from bot.services.guards import GuardStatus
from bot.services.history import StatusReport
from bot.services.markets import CoinName
from bot.services.portfolio import Holding, Portfolio, PortfolioPage
from bot.services.self_trade import OwnBids, PreventedBids
from bot.services.sell import ConfirmResult, ConfirmStatus, SellPreview
from bot.telegram import keyboards
from bot.telegram import numbers as n
from bot.telegram.i18n import Markup, t

DASH = "—"
TELEGRAM_LIMIT = 4096


def with_paper_tag(text: str, lang: str, paper: bool) -> str:
    return f"{t(lang, 'paper_tag')}\n{text}" if paper else text


def _split_market(market: str) -> tuple[str, str]:
    quote, _, currency = market.partition("-")
    return quote, currency


# Refusal parameters that are money: written with their unit (``5,000원`` / ``5,000 KRW``).
_MONEY_KEYS = frozenset({"value", "min_total", "max_total", "depth_value"})


def _format_value(lang: str, key: str, value: Any, quote: str | None) -> str:
    if isinstance(value, Decimal):
        if key in {"volume", "available", "depth"}:
            return n.asset_amount(value)
        if key in _MONEY_KEYS:
            return money(lang, value, quote or "KRW")
        return n.quote_amount(value, quote or "KRW")
    return str(value)


def money(lang: str, value: Decimal, quote: str) -> str:
    """An amount of a quote currency as Upbit's app writes it: ``6,169,753원`` in Korean,
    ``6,169,753 KRW`` in English, ``0.00012345 BTC`` in both."""
    amount = n.quote_amount(value, quote)
    return f"{amount}원" if lang == "ko" and quote == "KRW" else f"{amount} {quote}"


def signed_money(lang: str, value: Decimal, quote: str) -> str:
    amount = n.signed_quote_amount(value, quote)
    return f"{amount}원" if lang == "ko" and quote == "KRW" else f"{amount} {quote}"


def price_text(lang: str, value: Decimal, quote: str, *, average: bool = False) -> str:
    """A price with its unit: a quoted one with every digit Upbit gave, an ``average`` (of a
    fill, of the buys) with the digits of the market's price unit."""
    amount = n.average_price(value, quote) if average else n.price(value, quote)
    return f"{amount}원" if lang == "ko" and quote == "KRW" else f"{amount} {quote}"


def tick_price_text(lang: str, value: Decimal, quote: str, tick: Decimal | None) -> str:
    """A price with exactly the digits of the market's price step (when known) and its unit."""
    amount = n.tick_price(value, tick) if tick is not None else n.price(value, quote)
    return f"{amount}원" if lang == "ko" and quote == "KRW" else f"{amount} {quote}"


def coin_name(lang: str, name: CoinName | None, currency: str) -> str:
    """The coin's Korean name for Korean readers, its English name otherwise; the ticker
    when Upbit's market list is not at hand."""
    return name.for_lang(lang) if name is not None else currency


def paper_mark(lang: str, paper: bool) -> str:
    """The paper tag that sits inside a first line (``[모의] ``)."""
    return f"{t(lang, 'paper_mark')} " if paper else ""


def refusal(lang: str, error: ServiceError) -> str:
    text = message(lang, error.code, error.params)
    if error.code in keyboards.THIN_BOOK_CODES:
        market = str(error.params.get("market", ""))
        currency = market.partition("-")[2] or market
        text = f"{text}\n{t(lang, 'thin_book_hint', currency=currency)}"
    return text


def message(lang: str, code: str, params: Mapping[str, Any] | None) -> str:
    params = dict(params or {})
    quote = params.get("quote")
    values = {
        k: _format_value(lang, k, v, quote if isinstance(quote, str) else None)
        for k, v in params.items()
    }
    return t(lang, code, **values)


def preview(lang: str, p: SellPreview, now: datetime, tz: tzinfo) -> str:
    if p.limit is not None:
        from bot.telegram import render_orders  # it renders with this module's helpers

        return render_orders.limit_preview(lang, p, p.limit, now, tz)
    q = p.quote_currency
    # Rounded, not truncated: a 60 s preview rendered a few ms later still says 60 s.
    seconds = max(0, round((p.expires_at - now).total_seconds()))
    pnl = ""
    expected = p.expected_pnl
    if expected is not None:
        cost = p.volume * p.avg_buy_price
        pnl = t(
            lang,
            "preview_pnl",
            pnl=signed_money(lang, expected, q),
            rate=n.signed_percent(expected / cost * 100),
            avg=price_text(lang, p.avg_buy_price, q),
        )
    name = coin_name(lang, p.name, p.currency)
    text = t(
        lang,
        "preview",
        market=p.market,
        name=f" ({name})" if name != p.currency else "",
        warning=Markup(t(lang, "warning_line")) if p.warning else "",
        volume=n.asset_amount(p.volume),
        currency=p.currency,
        share=n.percent(p.share_percent),
        available=n.asset_amount(p.available),
        best_bid=price_text(lang, p.best_bid, q),
        avg_price=price_text(lang, p.est_avg_price, q, average=True),
        gross=money(lang, p.est_gross, q),
        fee_rate=n.percent(p.fee_rate * 100, 4),
        fee=money(lang, p.est_fee, q),
        net=money(lang, p.est_net, q),
        pnl=Markup(pnl),
        impact=n.percent(p.price_impact_percent, 3),
        expires=n.clock(p.expires_at, tz),
        seconds=seconds,
    )
    if p.own_bids is not None:
        text += "\n" + own_bids_warning(lang, p.market, p.own_bids)
    return text


def self_trade_makers(lang: str, market: str, makers: PreventedBids) -> str:
    """The fill notice's line on the user's own buy orders self-trade prevention cut."""
    _, currency = _split_market(market)
    return t(
        lang,
        "fill_smp_makers",
        mode=makers.mode,
        count=makers.count,
        market=market,
        volume=n.asset_amount(makers.volume),
        currency=currency,
    )


def own_bids_warning(lang: str, market: str, bids: OwnBids) -> str:
    """What self-trade prevention will do to the user's own buy orders this sell meets."""
    quote, currency = _split_market(market)
    return t(
        lang,
        bids.warning_code,
        count=bids.count,
        market=market,
        price=price_text(lang, bids.best_price, quote),
        volume=n.asset_amount(bids.volume),
        currency=currency,
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


def fill_notice(lang: str, order: OrderRecord, name: CoinName | None = None) -> str:
    """The message announcing a final order. Its first line alone (what a phone's banner
    shows) says what was sold and what came in, with the paper tag inside it."""
    quote, currency = _split_market(order.market)
    label = coin_name(lang, name, currency)
    net = order.net_funds or Decimal(0)
    values: dict[str, Any] = {
        "mark": paper_mark(lang, order.paper),
        "name": f"{label} · " if label != currency else "",
        "market": order.market,
        "currency": currency,
        "uuid": order.uuid or DASH,
        "identifier": order.identifier,
        "requested": n.asset_amount(order.requested_volume),
        "executed": n.asset_amount(order.executed_volume),
        "avg_price": (
            price_text(lang, order.avg_price, quote, average=True)
            if order.avg_price is not None
            else DASH
        ),
        "gross": money(lang, order.gross_funds or Decimal(0), quote),
        "fee": money(lang, order.paid_fee or Decimal(0), quote),
        "net": money(lang, net, quote),
        "pnl": Markup(_realised(lang, order, quote)),
        "kind": t(lang, "ordtype_limit" if order.ord_type == "limit" else "ordtype_market"),
    }
    if order.state is OrderState.FAILED:
        if order.failure is FailureKind.NOT_CREATED:
            return t(lang, "fill_failed", **values)
        return t(lang, "fill_refused", error=order.last_error or "", **values)
    if order.executed_volume <= 0:
        text = t(lang, "fill_none", **values)
    elif order.state is OrderState.CANCEL or order.executed_volume < order.requested_volume:
        text = t(lang, "fill_partial", **values)
    else:
        text = t(lang, "fill_done", **values)
    prevented = order.self_trade_prevented
    if prevented is not None:
        mode, volume = prevented
        text += "\n" + t(
            lang,
            "fill_smp_prevented",
            mode=mode,
            prevented=n.asset_amount(volume),
            currency=currency,
        )
    return text


def _realised(lang: str, order: OrderRecord, quote: str) -> str:
    pnl = order.realised_pnl
    if pnl is None or order.avg_buy_price is None:
        return ""
    cost = order.executed_volume * order.avg_buy_price
    return t(
        lang,
        "fill_pnl",
        pnl=signed_money(lang, pnl, quote),
        rate=n.signed_percent(pnl / cost * 100),
        avg=price_text(lang, order.avg_buy_price, quote),
    )


def balance(lang: str, portfolio: Portfolio, *, pick_page: tuple[int, int] | None = None) -> str:
    """/balance: cash, one block per coin (name, amounts, buy and current price, value and
    평가손익 in won and percent, marks), then the totals. ``pick_page`` (page, pages) when
    the coins are offered as a paged picker instead of quick-sell rows."""
    return "\n\n".join(_balance_blocks(lang, portfolio, pick_page))


def balance_within(
    lang: str, portfolio: Portfolio, limit: int, *, pick_page: tuple[int, int] | None = None
) -> str | None:
    """``balance(...)`` when it is at most ``limit`` characters long, else None, found
    without rendering the rows past the limit (a 300-coin account stops after ~25)."""
    blocks: list[str] = []
    length = -2
    for block in _balance_blocks(lang, portfolio, pick_page):
        length += len(block) + 2
        if length > limit:
            return None
        blocks.append(block)
    return "\n\n".join(blocks)


def _balance_blocks(
    lang: str, portfolio: Portfolio, pick_page: tuple[int, int] | None
) -> Iterator[str]:
    if not portfolio.holdings:
        yield t(lang, "balance_empty")
        return
    yield t(lang, "balance_title")
    for h in portfolio.holdings:
        yield _holding(lang, h)
    yield _totals(lang, portfolio)
    if portfolio.sellable:
        if pick_page is not None:
            page, pages = pick_page
            yield t(lang, "balance_pick_hint", page=page, pages=pages)
        else:
            yield t(lang, "balance_buttons_hint")


def balance_page(lang: str, page: PortfolioPage) -> str:
    """One page of a /balance too long for one message: which rows these are, the rows,
    then the totals of the whole account (every page carries them)."""
    portfolio = page.portfolio
    blocks = [
        t(
            lang,
            "balance_page_title",
            page=page.number,
            pages=page.pages,
            rows=(
                str(page.first)
                if page.first == page.last
                else t(lang, "balance_page_rows", first=page.first, last=page.last)
            ),
            count=len(portfolio.holdings),
        )
    ]
    blocks.extend(_holding(lang, h) for h in page.holdings)
    blocks.append(_totals(lang, portfolio))
    hint = t(lang, "balance_page_hint")
    if any(h.sellable for h in page.holdings):
        hint = f"{hint}\n{t(lang, 'balance_buttons_hint')}"
    blocks.append(hint)
    return "\n\n".join(blocks)


def _totals(lang: str, portfolio: Portfolio) -> str:
    if portfolio.coins_cost_krw <= 0:
        return t(lang, "balance_total", total=money(lang, portfolio.total_krw, "KRW"))
    rate = portfolio.pnl_percent
    return t(
        lang,
        "balance_totals",
        cost=money(lang, portfolio.coins_cost_krw, "KRW"),
        value=money(lang, portfolio.coins_value_krw, "KRW"),
        pnl=signed_money(lang, portfolio.pnl_krw, "KRW"),
        rate=n.signed_percent(rate) if rate is not None else DASH,
        total=money(lang, portfolio.total_krw, "KRW"),
    )


def _holding(lang: str, h: Holding) -> str:
    locked = ""
    if h.market is None:
        q = h.quote_currency
        if h.locked > 0:
            locked = t(lang, "balance_locked", locked=money(lang, h.locked, q))
        if h.currency == "KRW":
            return t(
                lang,
                "balance_cash",
                total=money(lang, h.available + h.locked, q),
                available=money(lang, h.available, q),
                locked=Markup(locked),
            )
        return t(
            lang,
            "balance_other_cash",
            currency=h.currency,
            available=n.asset_amount(h.available),
            locked=Markup(locked),
        )
    if h.locked > 0:
        locked = t(lang, "balance_locked", locked=n.asset_amount(h.locked))
    amount = n.asset_amount(h.available + h.locked)
    if h.price is None:
        return t(
            lang,
            "balance_row_unpriced",
            currency=h.currency,
            amount=amount,
            locked=Markup(locked),
        )
    q = h.quote_currency
    marks = (t(lang, "mark_warning") if h.warning else "") + (
        t(lang, "mark_dust") if h.dust else ""
    )
    pnl = h.pnl
    return t(
        lang,
        "balance_row",
        title=Markup(_title(lang, h)),
        currency=h.currency,
        marks=Markup(marks),
        amount=amount,
        locked=Markup(locked),
        avg=price_text(lang, h.avg_buy_price, q) if h.avg_buy_price > 0 else DASH,
        price=price_text(lang, h.price, q),
        value=money(lang, h.value or Decimal(0), q),
        pnl=signed_money(lang, pnl, q) if pnl is not None else DASH,
        rate=n.signed_percent(h.pnl_percent) if h.pnl_percent is not None else DASH,
    )


def _title(lang: str, h: Holding) -> str:
    """``<b>비트코인</b> BTC``, or ``<b>BTC</b>`` when the name is not known."""
    name = html.escape(coin_name(lang, h.name, h.currency), quote=False)
    currency = html.escape(h.currency, quote=False)
    return f"<b>{name}</b> {currency}" if name != currency else f"<b>{currency}</b>"


def sell_pick(lang: str, page: int, pages: int) -> str:
    return t(lang, "sell_pick", page=page, pages=pages)


def sell_amounts(lang: str, h: Holding) -> str:
    return t(
        lang,
        "sell_amounts",
        name=coin_name(lang, h.name, h.currency),
        market=h.market or h.currency,
        available=n.asset_amount(h.available),
        currency=h.currency,
    )


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
                state=state_name(lang, r.state)
                + (" (PAPER)" if r.paper else "")
                + (f" · {t(lang, 'notice_undeliverable')}" if r.undeliverable else ""),
                uuid=r.uuid or r.identifier,
            )
        )
    return "\n\n".join([lines[0], *lines[1:]])


def order_label(lang: str, r: OrderRecord, tz: tzinfo) -> str:
    """A /orders row as a button: ``12-02 15:30 BTC 0.01 · 체결 완료``."""
    _, currency = _split_market(r.market)
    when = n.local(r.created_at, tz).strftime("%m-%d %H:%M")
    volume = n.asset_amount(r.requested_volume)
    return f"{when} {currency} {volume} · {state_name(lang, r.state)}"


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
        avg_price=(
            price_text(lang, r.avg_price, quote, average=True) if r.avg_price is not None else DASH
        ),
        gross=money(lang, r.gross_funds or Decimal(0), quote),
        fee=money(lang, r.paid_fee or Decimal(0), quote),
        net=money(lang, r.net_funds or Decimal(0), quote),
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
    """Split at line boundaries into chunks Telegram accepts; a lone long line is cut.

    A block (lines between blank lines, e.g. one holding of /balance) moves whole to the
    next chunk rather than being cut, unless it is itself a large part of a message."""
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
            head, blank, block = current.rpartition("\n\n")
            if blank and head.strip() and len(block) + len(line) + 1 <= limit // 4:
                chunks.append(head)
                current = f"{block}\n{line}"
                continue
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


# -- guards ------------------------------------------------------------------------------


def guards_status(lang: str, g: GuardStatus) -> str:
    """One line of /status: which guards are on (never the secret)."""
    if g.daily_limit_krw is None:
        limit = t(lang, "guard_limit_off")
    else:
        limit = t(
            lang,
            "guard_limit",
            limit=money(lang, g.daily_limit_krw, "KRW"),
            left=money(
                lang, g.left_today_krw if g.left_today_krw is not None else Decimal(0), "KRW"
            ),
        )
    if not g.totp_on:
        totp = t(lang, "guard_totp_off")
    elif g.totp_above_krw > 0:
        totp = t(lang, "guard_totp_above", above=money(lang, g.totp_above_krw, "KRW"))
    else:
        totp = t(lang, "guard_totp_all")
    return t(
        lang,
        "status_guards",
        lock=Markup(t(lang, "guard_locked" if g.locked else "guard_unlocked")),
        limit=Markup(limit),
        totp=Markup(totp),
    )


def _sell_terms(pending: PendingSell) -> dict[str, Any]:
    return {
        "market": pending.market,
        "volume": n.asset_amount(pending.volume),
        "currency": pending.market.partition("-")[2] or pending.market,
        "value": n.quote_amount(pending.est_krw, "KRW") if pending.est_krw is not None else "?",
    }


def code_needed(lang: str, pending: PendingSell, tz: tzinfo) -> str:
    return t(lang, "code_needed", expires=n.clock(pending.expires_at, tz), **_sell_terms(pending))
