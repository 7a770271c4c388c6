"""Upbit's market list, cached: which markets are listed, each coin's Korean and English
name, and which are under an investment warning.

``GET /v1/market/all?is_details=true`` (https://docs.upbit.com/reference/마켓-코드-조회)
answers ``korean_name``, ``english_name`` and ``market_event.warning`` (older answers:
``market_warning: "CAUTION"``). Names change rarely, so they are refreshed daily; the
listing and the warnings are read again after ten minutes when someone asks. When Upbit
cannot be reached, the last good list is used (or none: coins then show as tickers).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot.services.coalesce import Coalescer
from bot.services.ports import Exchange
from bot.upbit.errors import UpbitError
from bot.upbit.models import MarketInfo

log = logging.getLogger(__name__)

LISTING_MAX_AGE = 600.0  # seconds: listings and investment warnings
NAMES_MAX_AGE = 86_400.0  # seconds: coin names, refreshed daily

_SPACES = re.compile(r"\s+")


def name_key(text: str) -> str:
    """How a typed coin name is compared: any case, spaces ignored (``bitcoin cash``)."""
    return _SPACES.sub("", text).casefold()


@dataclass(frozen=True, slots=True)
class CoinName:
    korean: str
    english: str

    def for_lang(self, lang: str) -> str:
        return self.korean if lang == "ko" else self.english


@dataclass(frozen=True, slots=True)
class MarketList:
    """One reading of ``GET /v1/market/all``."""

    markets: Mapping[str, MarketInfo] = field(default_factory=dict)

    @property
    def listed(self) -> frozenset[str]:
        return frozenset(self.markets)

    @property
    def currencies(self) -> frozenset[str]:
        return frozenset(code.partition("-")[2] for code in self.markets)

    def warning(self, market: str) -> bool:
        info = self.markets.get(market)
        return info is not None and info.warning

    def name(self, currency: str) -> CoinName | None:
        """The coin's names, from its KRW market when it has one."""
        info = self.markets.get(f"KRW-{currency}") or next(
            (m for code, m in self.markets.items() if code.partition("-")[2] == currency), None
        )
        if info is None or not (info.korean_name or info.english_name):
            return None
        return CoinName(info.korean_name or currency, info.english_name or currency)

    def currency_named(self, text: str) -> str | None:
        """The currency whose Korean or English name is ``text``; None when no coin (or
        more than one) has that name."""
        found = self._by_name().get(name_key(text))
        return found or None

    def _by_name(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for code, info in self.markets.items():
            currency = code.partition("-")[2]
            for name in (info.korean_name, info.english_name):
                key = name_key(name)
                if not key:
                    continue
                # Two coins sharing a name: neither is picked by that name (tickers still work).
                index[key] = currency if index.get(key, currency) == currency else ""
        return index


EMPTY = MarketList()


class MarketDirectory:
    """The cached market list; every caller shares one reading at a time."""

    def __init__(self, exchange: Exchange, clock: Callable[[], float] = time.monotonic) -> None:
        self._exchange = exchange
        self._clock = clock
        self._list = EMPTY
        self._read_at = float("-inf")
        self._reads: Coalescer[MarketList] = Coalescer()

    async def current(self, max_age: float = NAMES_MAX_AGE) -> MarketList:
        """The list, read again when older than ``max_age`` seconds. Raises `UpbitError`
        only when there is no earlier reading to fall back on."""
        if self._clock() - self._read_at <= max_age:
            return self._list
        try:
            return await self._reads.run("markets", self._read)
        except UpbitError as exc:
            if self._list is EMPTY:
                raise
            log.warning("market list not refreshed: %s", exc.name or type(exc).__name__)
            return self._list

    async def names(self, max_age: float = NAMES_MAX_AGE) -> MarketList:
        """For names and warnings: never raises (an unreachable Upbit leaves coins as
        tickers, unmarked)."""
        try:
            return await self.current(max_age)
        except UpbitError:
            return self._list

    async def _read(self) -> MarketList:
        markets = await self._exchange.markets()
        self._list = MarketList(_index(markets))
        self._read_at = self._clock()
        return self._list


def _index(markets: Iterable[MarketInfo]) -> dict[str, MarketInfo]:
    return {m.market: m for m in markets}
