"""What the user holds and what it is worth: accounts + one ticker call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from bot.services.coalesce import Coalescer
from bot.services.ports import Exchange
from bot.services.upbit_answers import exchange_unavailable
from bot.upbit.errors import UpbitError
from bot.upbit.rules import MIN_ORDER_TOTAL

MARKETS_CACHE_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Holding:
    currency: str
    market: str | None  # None for the quote currency itself (KRW)
    quote_currency: str
    available: Decimal
    locked: Decimal
    avg_buy_price: Decimal
    price: Decimal | None  # None when the market is not listed
    value: Decimal | None  # (available + locked) × price, in the quote currency
    value_krw: Decimal | None
    pnl_percent: Decimal | None
    dust: bool  # the available part is worth less than the market's minimum order

    @property
    def sellable(self) -> bool:
        return self.market is not None and self.price is not None and not self.dust


@dataclass(frozen=True, slots=True)
class Portfolio:
    holdings: tuple[Holding, ...]
    total_krw: Decimal
    paper: bool


class PortfolioService:
    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._listed: frozenset[str] = frozenset()
        self._listed_at = float("-inf")
        self._reads: Coalescer[Portfolio] = Coalescer()

    async def _listed_markets(self) -> frozenset[str]:
        # Upbit answers 404 for a whole ticker call when one code is unknown (a delisted
        # coin), so ask only for listed markets.
        if time.monotonic() - self._listed_at > MARKETS_CACHE_SECONDS:
            self._listed = frozenset(m.market for m in await self._exchange.markets())
            self._listed_at = time.monotonic()
        return self._listed

    async def portfolio(self) -> Portfolio:
        """The holdings valued now. Requests that arrive while one is being read share it
        (every allowed user looks at the same Upbit account)."""
        return await self._reads.run("portfolio", self._read)

    async def _read(self) -> Portfolio:
        try:
            accounts = await self._exchange.accounts()
            listed = await self._listed_markets()
            wanted = {a.market for a in accounts if a.currency != a.unit_currency}
            # Convert BTC- and USDT-market values to KRW too.
            wanted |= {f"KRW-{a.unit_currency}" for a in accounts if a.unit_currency != "KRW"}
            markets = sorted(m for m in wanted if m in listed)
            tickers = await self._exchange.tickers(markets) if markets else []
        except UpbitError as exc:
            raise exchange_unavailable(exc) from exc
        prices = {t.market: t.trade_price for t in tickers}

        holdings: list[Holding] = []
        total = Decimal(0)
        for account in accounts:
            amount = account.balance + account.locked
            if account.currency == account.unit_currency:
                holdings.append(
                    Holding(
                        account.currency,
                        None,
                        account.unit_currency,
                        account.balance,
                        account.locked,
                        Decimal(0),
                        Decimal(1),
                        amount,
                        amount if account.currency == "KRW" else None,
                        None,
                        False,
                    )
                )
                if account.currency == "KRW":
                    total += amount
                continue
            price = prices.get(account.market)
            value = amount * price if price is not None else None
            to_krw = (
                Decimal(1)
                if account.unit_currency == "KRW"
                else prices.get(f"KRW-{account.unit_currency}")
            )
            value_krw = value * to_krw if value is not None and to_krw is not None else None
            if value_krw is not None:
                total += value_krw
            pnl = None
            if price is not None and account.avg_buy_price > 0:
                pnl = (price - account.avg_buy_price) / account.avg_buy_price * 100
            minimum = MIN_ORDER_TOTAL.get(account.unit_currency, Decimal(0))
            dust = price is None or account.balance * price < minimum
            holdings.append(
                Holding(
                    account.currency,
                    account.market,
                    account.unit_currency,
                    account.balance,
                    account.locked,
                    account.avg_buy_price,
                    price,
                    value,
                    value_krw,
                    pnl,
                    dust,
                )
            )
        holdings.sort(key=lambda h: (h.market is not None, -(h.value_krw or Decimal(0))))
        return Portfolio(tuple(holdings), total, self._exchange.is_paper)
