"""Rendering in both languages against golden files (tests/golden/render_{ko,en}.txt).

Every message a user reads on the way through a sell, rendered from fixed figures. A change
of wording shows up here as a diff to read (and to have a native reader check). To accept a
deliberate change: ``UPDATE_GOLDEN=1 python -m pytest tests/test_render_golden.py``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain import OrderRecord, OrderState
from bot.services.errors import SellRefused
from bot.services.markets import CoinName
from bot.services.portfolio import Holding, Portfolio
from bot.services.sell import SellPreview
from bot.telegram import render
from bot.telegram.i18n import t

D = Decimal
GOLDEN = Path(__file__).parent / "golden"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 12, 2, 6, 30, 0, tzinfo=UTC)
BTC = CoinName("비트코인", "Bitcoin")

PORTFOLIO = Portfolio(
    (
        Holding(
            "KRW",
            None,
            "KRW",
            D("1234567.5"),
            D(50000),
            D(0),
            D(1),
            D("1284567.5"),
            D("1284567.5"),
            None,
            False,
        ),
        Holding(
            "BTC",
            "KRW-BTC",
            "KRW",
            D("0.12345678"),
            D("0.01"),
            D("90123456.78"),
            D(100000000),
            D("13345678"),
            D("13345678"),
            D("10.959"),
            False,
            name=BTC,
            cost=D("12027598.81"),
            cost_krw=D("12027598.81"),
        ),
        Holding(
            "BTT",
            "KRW-BTT",
            "KRW",
            D(25000000),
            D(0),
            D("0.00091234"),
            D("0.000873"),
            D(21825),
            D(21825),
            D("-4.31"),
            False,
            name=CoinName("비트토렌트", "BitTorrent"),
            warning=True,
            cost=D("22808.5"),
            cost_krw=D("22808.5"),
        ),
        Holding(
            "DOGE",
            "KRW-DOGE",
            "KRW",
            D(10),
            D(0),
            D(250),
            D(200),
            D(2000),
            D(2000),
            D(-20),
            True,
            name=CoinName("도지코인", "Dogecoin"),
            cost=D(2500),
            cost_krw=D(2500),
        ),
        Holding("XYZ", "KRW-XYZ", "KRW", D(3), D(0), D(0), None, None, None, None, True),
    ),
    D("14654070.5"),
    False,
    cash_krw=D("1284567.5"),
    coins_cost_krw=D("12052907.31"),
    coins_value_krw=D(13369503),
)
PREVIEW = SellPreview(
    "abcdefgh12345678",
    "KRW-BTC",
    "BTC",
    "KRW",
    D("0.06172839"),
    D("0.12345678"),
    D("50.000004"),
    D(100000000),
    D("99980012.345"),
    D("6171604.38"),
    D("0.0005"),
    D("3085.80"),
    D("6168518.58"),
    D("0.01998"),
    NOW + timedelta(seconds=60),
    False,
    avg_buy_price=D("90123456.78"),
    name=BTC,
)
ORDER = OrderRecord(
    1, "usb-1", "9d6c1e2a-5f3b-4c1e-8a77-0d2f1b3c4e5f", "abcdefgh12345678", 1001, 1001, "ko",
    "KRW-BTC", "ask", "market", D("0.06172839"), OrderState.DONE, D("0.06172839"),
    D("99980012.34"), D("6171604.38"), D("3085.80"), False, None, None, NOW, NOW, None,
    avg_buy_price=D("90123456.78"),
)  # fmt: skip


def rendered(lang: str) -> str:
    partial = replace(
        ORDER,
        state=OrderState.CANCEL,
        executed_volume=D("0.03"),
        gross_funds=D(2999400),
        paid_fee=D("1499.7"),
    )
    sections = {
        "balance": render.balance(lang, PORTFOLIO),
        "balance, picker page 2 of 6": render.balance(lang, PORTFOLIO, pick_page=(2, 6)),
        "balance, page 2 of 3 (two holdings a page)": render.balance_page(
            lang, PORTFOLIO.page(2, 2)
        ),
        "balance, last page (dust only)": render.balance_page(lang, PORTFOLIO.page(3, 2)),
        "preview": render.preview(lang, PREVIEW, NOW, SEOUL),
        "preview, warning, no buy price": render.preview(
            lang, replace(PREVIEW, warning=True, avg_buy_price=D(0), name=None), NOW, SEOUL
        ),
        "fill, done": render.fill_notice(lang, ORDER, BTC),
        "fill, done, paper": render.fill_notice(lang, replace(ORDER, paper=True), BTC),
        "fill, partial": render.fill_notice(lang, partial, BTC),
        "fill, done, limit order": render.fill_notice(
            lang, replace(ORDER, ord_type="limit", price=D(101000000)), BTC
        ),
        "fill, none": render.fill_notice(
            lang, replace(ORDER, state=OrderState.CANCEL, executed_volume=D(0)), None
        ),
        "fill, refused": render.fill_notice(
            lang,
            replace(ORDER, state=OrderState.FAILED, last_error="insufficient_funds_ask: x"),
            BTC,
        ),
        "orders": render.orders(lang, [ORDER, partial], SEOUL),
        "order button": render.order_label(lang, ORDER, SEOUL),
        "order": render.order_detail(lang, ORDER, True, SEOUL),
        "sell picker": render.sell_pick(lang, 1, 2),
        "sell amounts": render.sell_amounts(lang, PORTFOLIO.holdings[1]),
        "ask amount": t(lang, "sell_ask_amount", name="비트코인", market="KRW-BTC"),
    }
    for code, params in (
        ("bad_amount", {"amount": "５만원"}),
        ("amount_needs_won", {"amount": "5만"}),
        ("percent_range", {"amount": "150%"}),
        ("bad_asset", {"asset": "없는코인"}),
        ("over_balance", {"volume": D("0.2"), "available": D("0.1"), "currency": "BTC"}),
        ("below_min_total", {"value": D(3000), "min_total": D(5000), "quote": "KRW"}),
    ):
        sections[f"refusal {code}"] = render.refusal(lang, SellRefused(code, **params))
    return "".join(f"=== {title}\n{text}\n\n" for title, text in sections.items())


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_rendering_matches_the_golden_file(lang: str) -> None:
    path = GOLDEN / f"render_{lang}.txt"
    text = rendered(lang)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
