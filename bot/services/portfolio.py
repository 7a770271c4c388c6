"""What the user holds and what it is worth: accounts + the market list + one ticker call.

Profit as Upbit's app shows it: per holding 평가손익 (value − cost at the average buy price)
and 수익률; totals over the coins in KRW: 매수금액 (cost), 평가금액 (value), 평가손익, 수익률.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.services.coalesce import Coalescer
from bot.services.markets import LISTING_MAX_AGE, CoinName, MarketDirectory
from bot.services.ports import Exchange
from bot.services.upbit_answers import exchange_unavailable
from bot.upbit.errors import UpbitError
from bot.upbit.rules import MIN_ORDER_TOTAL

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Holding:
    currency: str
    market: str | None  # None for the quote currency itself (KRW)
    quote_currency: str
    available: Decimal
    locked: Decimal  # in open orders (주문 중)
    avg_buy_price: Decimal
    price: Decimal | None  # None when the market is not listed
    value: Decimal | None  # (available + locked) × price, in the quote currency
    value_krw: Decimal | None
    pnl_percent: Decimal | None
    dust: bool  # the available part is worth less than the market's minimum order
    name: CoinName | None = None
    warning: bool = False  # under Upbit's investment warning
    cost: Decimal | None = None  # (available + locked) × average buy price, quote currency
    cost_krw: Decimal | None = None

    @property
    def sellable(self) -> bool:
        return self.market is not None and self.price is not None and not self.dust

    @property
    def pnl(self) -> Decimal | None:
        """평가손익 in the quote currency; None without a price or a known buy price."""
        if self.value is None or self.cost is None:
            return None
        return self.value - self.cost

    @property
    def pnl_krw(self) -> Decimal | None:
        if self.value_krw is None or self.cost_krw is None:
            return None
        return self.value_krw - self.cost_krw


@dataclass(frozen=True, slots=True)
class Portfolio:
    holdings: tuple[Holding, ...]
    total_krw: Decimal  # everything: cash and coins
    paper: bool
    cash_krw: Decimal = Decimal(0)  # KRW, available and in orders
    coins_cost_krw: Decimal = Decimal(0)  # 매수금액: coins with a price and a buy price
    coins_value_krw: Decimal = Decimal(0)  # 평가금액 of the same coins

    @property
    def pnl_krw(self) -> Decimal:
        return self.coins_value_krw - self.coins_cost_krw

    @property
    def pnl_percent(self) -> Decimal | None:
        if self.coins_cost_krw <= 0:
            return None
        return self.pnl_krw / self.coins_cost_krw * HUNDRED

    @property
    def sellable(self) -> tuple[Holding, ...]:
        return tuple(h for h in self.holdings if h.sellable)

    def page(self, number: int, size: int) -> PortfolioPage:
        """Page ``number`` (from 1) of the holdings in their order (cash, then the most
        valuable first), ``size`` a page. A number past the end (the holdings changed since
        the page was offered) gives the last page, flagged ``moved``."""
        pages = max(1, -(-len(self.holdings) // size))
        shown = min(max(number, 1), pages)
        start = (shown - 1) * size
        return PortfolioPage(
            self,
            self.holdings[start : start + size],
            shown,
            pages,
            start + 1,
            moved=shown != number,
        )


@dataclass(frozen=True, slots=True)
class PortfolioPage:
    """One page of a portfolio's holdings; the totals stay the whole portfolio's."""

    portfolio: Portfolio
    holdings: tuple[Holding, ...]
    number: int  # from 1
    pages: int
    first: int  # position of the first holding shown, from 1
    moved: bool = False  # the page asked for is gone: this is the nearest one

    @property
    def last(self) -> int:
        return self.first + len(self.holdings) - 1

    @property
    def previous(self) -> int:
        """The page before this one; the first page's is the last (the list wraps round,
        so the least valuable holdings are one press away)."""
        return self.number - 1 if self.number > 1 else self.pages

    @property
    def next(self) -> int:
        return self.number + 1 if self.number < self.pages else 1


class PortfolioService:
    def __init__(self, exchange: Exchange, markets: MarketDirectory | None = None) -> None:
        self._exchange = exchange
        self._markets = markets or MarketDirectory(exchange)
        self._reads: Coalescer[Portfolio] = Coalescer()

    async def portfolio(self) -> Portfolio:
        """The holdings valued now. Requests that arrive while one is being read share it
        (every allowed user looks at the same Upbit account)."""
        return await self._reads.run("portfolio", self._read)

    async def _read(self) -> Portfolio:
        try:
            accounts = await self._exchange.accounts()
            # Upbit answers 404 for a whole ticker call when one code is unknown (a delisted
            # coin), so ask only for listed markets.
            markets = await self._markets.current(LISTING_MAX_AGE)
            wanted = {a.market for a in accounts if a.currency != a.unit_currency}
            # Convert BTC- and USDT-market values to KRW too.
            wanted |= {f"KRW-{a.unit_currency}" for a in accounts if a.unit_currency != "KRW"}
            listed = sorted(m for m in wanted if m in markets.listed)
            tickers = await self._exchange.tickers(listed) if listed else []
        except UpbitError as exc:
            raise exchange_unavailable(exc) from exc
        prices = {t.market: t.trade_price for t in tickers}

        holdings: list[Holding] = []
        total = cash = cost_total = value_total = Decimal(0)
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
                    cash += amount
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
            pnl = cost = cost_krw = None
            if price is not None and account.avg_buy_price > 0:
                pnl = (price - account.avg_buy_price) / account.avg_buy_price * HUNDRED
                cost = amount * account.avg_buy_price
                cost_krw = cost * to_krw if to_krw is not None else None
            if value_krw is not None and cost_krw is not None:
                cost_total += cost_krw
                value_total += value_krw
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
                    name=markets.name(account.currency),
                    warning=markets.warning(account.market),
                    cost=cost,
                    cost_krw=cost_krw,
                )
            )
        # Cash first, then the most valuable (in KRW); the ticker breaks ties so a page of a
        # paged /balance holds the same coins from one read to the next.
        holdings.sort(
            key=lambda h: (h.market is not None, -(h.value_krw or Decimal(0)), h.currency)
        )
        return Portfolio(
            tuple(holdings),
            total,
            self._exchange.is_paper,
            cash_krw=cash,
            coins_cost_krw=cost_total,
            coins_value_krw=value_total,
        )
