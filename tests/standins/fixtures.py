"""Pytest fixtures for the stand-ins. Import them into a conftest.py, e.g.
``from tests.standins.fixtures import upbit_standin  # noqa: F401``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.upbit import UpbitStandIn

__all__ = ["upbit_standin"]


@pytest.fixture
def upbit_standin() -> Iterator[UpbitStandIn]:
    """A started Upbit stand-in seeded by ``UpbitStandIn.seed_basic()``.

    KRW-BTC, KRW-ETH, KRW-XRP with 30-level books; accounts KRW 1,000,000, BTC 0.1,
    ETH 1.5, XRP 2,000; keys "test-access-key" / "test-secret-key"; fills immediate.
    Stopped (threads joined, sockets closed) after the test.
    """
    stand = UpbitStandIn()
    stand.seed_basic()
    stand.start()
    try:
        yield stand
    finally:
        stand.stop()
