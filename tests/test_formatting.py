"""Unit tests: number formatting, message catalogues, HTML escaping, message splitting."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.domain import OrderRecord, OrderState
from bot.services.errors import SellRefused
from bot.telegram import numbers as n
from bot.telegram import render
from bot.telegram.i18n import EN, KO, lang_of, t

D = Decimal


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (D("1234567.891"), "KRW", "1,234,568"),
        (D("5000"), "KRW", "5,000"),
        (D("12.345"), "KRW", "12.35"),
        (D("0.12345"), "KRW", "0.1235"),
        (D("0"), "KRW", "0"),
        (D("0.00012345"), "BTC", "0.00012345"),
        (D("1E+3"), "KRW", "1,000"),
    ],
)
def test_quote_amounts(value, currency, expected):
    assert n.quote_amount(value, currency) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.00000001"), "0.00000001"),
        (D("1E-8"), "0.00000001"),
        (D("1234.5"), "1,234.5"),
        (D("0.123456789"), "0.12345678"),
        (D("3"), "3"),
    ],
)
def test_asset_amounts_never_use_exponents(value, expected):
    assert n.asset_amount(value) == expected


def test_signed_percent():
    assert n.signed_percent(D("12.345")) == "+12.35"
    assert n.signed_percent(D("-3")) == "-3"


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogues_have_the_same_keys_and_placeholders():
    assert EN.keys() == KO.keys()
    for key in EN:
        assert placeholders(EN[key]) == placeholders(KO[key]), key


def test_language_choice():
    assert lang_of("ko") == "ko"
    assert lang_of("ko-KR") == "ko"
    assert lang_of("en") == "en"
    assert lang_of(None) == "en"
    assert lang_of("kk") == "en"


def test_values_are_escaped():
    text = t("en", "bad_asset", asset="<b>&x")
    assert "&lt;b&gt;&amp;x" in text
    assert "<b>&x" not in text


def test_refusal_renders_decimals_for_people():
    error = SellRefused("over_balance", volume=D("1E-8"), available=D("0"), currency="BTC")
    text = render.refusal("en", error)
    assert "0.00000001 BTC" in text
    assert "E-8" not in text


def _order(**changes) -> OrderRecord:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    base: dict[str, Any] = {
        "id": 1,
        "identifier": "usb-1",
        "uuid": "u-1",
        "pending_id": None,
        "user_id": 1,
        "chat_id": 1,
        "lang": "en",
        "market": "KRW-BTC",
        "side": "ask",
        "ord_type": "market",
        "requested_volume": D("0.5"),
        "state": OrderState.DONE,
        "executed_volume": D("0.5"),
        "avg_price": D("100000000"),
        "gross_funds": D("50000000"),
        "paid_fee": D("25000"),
        "paper": False,
        "last_error": None,
        "raw_response": None,
        "created_at": now,
        "updated_at": now + timedelta(seconds=1),
        "announced_at": None,
    }
    base.update(changes)
    return OrderRecord(**base)


def test_fill_notice_done_and_partial():
    done = render.fill_notice("en", _order())
    assert "Sold" in done
    assert "49,975,000 KRW" in done
    assert "u-1" in done
    partial = render.fill_notice("en", _order(state=OrderState.CANCEL, executed_volume=D("0.2")))
    assert "Partially sold" in partial
    assert "0.2 of 0.5" in partial
    none = render.fill_notice("ko", _order(state=OrderState.CANCEL, executed_volume=D(0)))
    assert "체결된 수량 없음" in none


def test_split_message_keeps_blocks_whole():
    block = "<b>Coin</b> X\n  Holding 1 X\n  Avg buy 1 KRW · now 2 KRW\n  Value 2 KRW"
    text = "\n\n".join([block] * 200)
    chunks = render.split_message(text, limit=1000)
    assert all(len(c) <= 1000 for c in chunks)
    for chunk in chunks:
        assert chunk.split("\n\n") == [block] * len(chunk.split("\n\n")), chunk
    assert sum(len(c.split("\n\n")) for c in chunks) == 200


def test_split_message_respects_the_limit_and_lines():
    lines = [f"line {i} " + "x" * 50 for i in range(200)]
    chunks = render.split_message("\n".join(lines), limit=1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert "\n".join(chunks) == "\n".join(lines)
    assert render.split_message("y" * 2500, limit=1000) == ["y" * 1000, "y" * 1000, "y" * 500]
