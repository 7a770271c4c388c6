"""Small builders of domain objects shared by the service- and repository-level tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.domain import NewOrder


def new_order(identifier: str, **changes: Any) -> NewOrder:
    """A market sell of 0.01 KRW-BTC for user/chat 1001, created now; override any field."""
    order = NewOrder(
        identifier=identifier,
        pending_id=None,
        user_id=1001,
        chat_id=1001,
        lang="en",
        market="KRW-BTC",
        side="ask",
        ord_type="market",
        requested_volume=Decimal("0.01"),
        paper=False,
        created_at=datetime.now(UTC),
    )
    return replace(order, **changes)
