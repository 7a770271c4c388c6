"""What the handlers reach through ``context.bot_data``: the services, typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from telegram.ext import Application, ContextTypes

from bot.services.alerts import AlertService, AlertWatcher
from bot.services.clock import Clock
from bot.services.fills import FillWatcher
from bot.services.guards import GuardService
from bot.services.history import HistoryService
from bot.services.markets import MarketDirectory
from bot.services.open_orders import OpenOrdersService
from bot.services.portfolio import PortfolioService
from bot.services.profit import ProfitService
from bot.services.sell import SellService
from bot.services.settings import SettingsService

SERVICES_KEY = "services"
# ``context.user_data`` key of the user's `UserSettings`, loaded by the access gate.
SETTINGS_KEY = "settings"


@dataclass(slots=True)
class Services:
    sell: SellService
    portfolio: PortfolioService
    history: HistoryService
    watcher: FillWatcher
    settings: SettingsService
    guards: GuardService
    open_orders: OpenOrdersService
    alerts: AlertService
    alert_watcher: AlertWatcher
    profit: ProfitService
    allowed_user_ids: frozenset[int]
    paper: bool
    clock: Clock
    tz: tzinfo  # TIMEZONE: every time shown to a person
    markets: MarketDirectory  # coin names and warnings, cached

    def now(self) -> datetime:
        return self.clock()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.bot_data.get(SERVICES_KEY)
    if not isinstance(found, Services):  # pragma: no cover - wiring error
        raise RuntimeError("services are not set up")
    return found


def install(app: Application, svc: Services) -> None:  # type: ignore[type-arg]
    app.bot_data[SERVICES_KEY] = svc
