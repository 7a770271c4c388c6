"""The pages of a large /balance: which holdings a page holds, and that the longest rows
Upbit can produce still fit a page in one Telegram message with its buttons."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bot.services.markets import CoinName
from bot.services.portfolio import Holding, Portfolio
from bot.telegram import render
from bot.telegram.balance_view import PAGE_SIZE, balance_view
from bot.telegram.keyboards import MAX_BUTTONS, MAX_MARKUP_BYTES

D = Decimal


def coin(i: int, *, long: bool = False) -> Holding:
    """A holding; ``long``: every figure as long as Upbit writes them, a warning, in orders."""
    code = f"X{i:09d}" if long else f"C{i:03d}"
    amount = D("123456789012.12345678") if long else D(10)
    price = D("0.00012345") if long else D(1000 + i)
    avg = D("98765432101.12345678") if long else D(900)
    return Holding(
        code,
        f"KRW-{code}",
        "KRW",
        amount,
        amount if long else D(0),
        avg,
        price,
        amount * 2 * price,
        amount * 2 * price,
        D("-99.99999999"),
        False,
        name=CoinName("비트코인캐시에이비씨골드플러스" * 2, "Bitcoin Cash ABC Gold Plus " * 2)
        if long
        else None,
        warning=long,
        cost=amount * 2 * avg,
        cost_krw=amount * 2 * avg,
    )


def portfolio(holdings: list[Holding]) -> Portfolio:
    return Portfolio(
        tuple(holdings),
        D("123456789012345678.12345678"),
        False,
        coins_cost_krw=D("987654321098765432.1"),
        coins_value_krw=D("123456789012345678.1"),
    )


def test_pages_split_in_order_and_wrap_round() -> None:
    p = portfolio([coin(i) for i in range(25)])
    first, last = p.page(1, 10), p.page(3, 10)
    assert [h.currency for h in first.holdings] == [f"C{i:03d}" for i in range(10)]
    assert (first.number, first.pages, first.first, first.last) == (1, 3, 1, 10)
    assert (first.previous, first.next) == (3, 2)
    assert [h.currency for h in last.holdings] == [f"C{i:03d}" for i in range(20, 25)]
    assert (last.first, last.last, last.previous, last.next, last.moved) == (21, 25, 2, 1, False)
    gone = p.page(7, 10)
    assert (gone.number, gone.moved) == (3, True)


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("paper", [False, True])
def test_a_page_of_the_longest_rows_fits_one_message_with_its_buttons(
    lang: str, paper: bool
) -> None:
    p = portfolio([coin(i, long=True) for i in range(3 * PAGE_SIZE)])
    view = balance_view(lang, p, (1, 10, 25, 100), paper=paper, page=2)
    assert view.page is not None  # paged: the whole would not fit
    assert len(view.page.holdings) == PAGE_SIZE
    tagged = render.with_paper_tag(view.text, lang, paper)
    assert len(tagged) <= render.TELEGRAM_LIMIT - 200, len(tagged)  # room to spare
    markup = view.keyboard.to_dict()
    count = sum(len(row) for row in markup["inline_keyboard"])
    assert count == PAGE_SIZE * 4 + 3 <= MAX_BUTTONS
    assert len(json.dumps(markup, ensure_ascii=False).encode()) <= MAX_MARKUP_BYTES
    data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
    assert all(len(d.encode()) <= 64 for d in data)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_an_account_that_fits_one_message_is_not_paged(lang: str) -> None:
    view = balance_view(lang, portfolio([coin(i) for i in range(5)]), (25, 50, 100), paper=False)
    assert view.page is None
    data = [b.callback_data for row in view.keyboard.inline_keyboard for b in row]
    assert data[-1] == "br" and not any(str(d).startswith("bp:") for d in data)
