"""Wiring: settings → exchange, order log, services → python-telegram-bot `Application`.

Long-lived resources (HTTP client, database engine, fill watcher task) are opened in
``post_init`` and closed in ``post_shutdown``. The fill watcher runs as its own task and
does not depend on Telegram being reachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.charts.runner import SubprocessChartRenderer
from bot.config import Settings
from bot.db.alerts import SqlAlertRepository
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.guards import SqlGuardRepository
from bot.db.pacer import SqlConnectPacer
from bot.db.repository import SqlOrderRepository
from bot.db.user_settings import SqlUserSettings
from bot.services.alerts import AlertService, AlertWatcher
from bot.services.announce import Announcer
from bot.services.clock import utc_now
from bot.services.fills import FillWatcher
from bot.services.guards import CODE_PATTERN, GuardService, GuardSettings
from bot.services.history import HistoryService
from bot.services.markets import MarketDirectory
from bot.services.open_orders import OpenOrdersService
from bot.services.portfolio import PortfolioService
from bot.services.ports import Exchange
from bot.services.press import BalanceBook, BalanceTap, StreamEvents
from bot.services.profit import ProfitService
from bot.services.self_trade import SelfTradeWatch
from bot.services.sell import SellService
from bot.services.settings import SettingsService
from bot.telegram import access, alert_views
from bot.telegram import keyboards as kb
from bot.telegram import open_keyboards as open_kb
from bot.telegram.alert_views import TelegramAlertNotifier
from bot.telegram.context import Services, install
from bot.telegram.delivery import TelegramNotifier, answer_quietly
from bot.telegram.handlers import (
    alerts,
    balance,
    common,
    guards,
    history,
    open_orders,
    preview_buttons,
    profit,
    sell,
    settings,
)
from bot.telegram.handlers.common import user_lang
from bot.telegram.i18n import CATALOGUES, t
from bot.telegram.keyboards import CANCEL_PATTERN, CONFIRM_PATTERN, QUICK_PATTERN, REST_PATTERN
from bot.upbit.client import UpbitClient
from bot.upbit.ticker_ws import TickerStream
from bot.upbit.ws import MyOrderStream

log = logging.getLogger(__name__)

COMMANDS = (
    "balance",
    "sell",
    "cancel",
    "orders",
    "order",
    "status",
    "export",
    "alert",
    "alerts",
    "pnl",
    "settings",
    "open",
    "lock",
    "unlock",
    "help",
)
HEARTBEAT_SECONDS = 15.0


@dataclass
class Runtime:
    """Resources opened at start and closed at shutdown."""

    closers: list[Any] = field(default_factory=list)
    watcher_task: asyncio.Task[None] | None = None
    watcher: FillWatcher | None = None
    alert_task: asyncio.Task[None] | None = None
    alert_watcher: AlertWatcher | None = None
    commands_task: asyncio.Task[None] | None = None


def _exchange(
    settings: Settings, sessions: Any, tls: ssl.SSLContext
) -> tuple[Exchange, StreamEvents | None]:
    if settings.paper_trading:
        # Loaded only in paper mode: a live start does not pay for them.
        from bot.db.paper import SqlPaperBalances
        from bot.paper import PaperExchange

        paper = PaperExchange.create(
            settings.upbit_api_url, SqlPaperBalances(sessions), settings.paper_balances
        )
        return paper, paper.events()
    if settings.upbit_access_key is None or settings.upbit_secret_key is None:
        raise SystemExit("UPBIT_ACCESS_KEY and UPBIT_SECRET_KEY are required for live trading")
    access_key = settings.upbit_access_key.get_secret_value()
    secret_key = settings.upbit_secret_key.get_secret_value()
    client = UpbitClient(
        access_key,
        secret_key,
        base_url=settings.upbit_api_url,
        smp_type=settings.self_trade_prevention,
        ssl_context=tls,
    )
    stream = None
    if settings.ws_enabled:
        stream = MyOrderStream(
            access_key,
            secret_key,
            settings.upbit_ws_url,
            shared_pacer=SqlConnectPacer(sessions).wait_turn,
        )
    return client, stream


async def _set_commands(app: Application) -> None:  # type: ignore[type-arg]
    try:
        for lang in CATALOGUES:
            commands = [BotCommand(c, t(lang, f"cmd_{c}")) for c in COMMANDS]
            await app.bot.set_my_commands(commands, language_code=None if lang == "en" else lang)
    except Exception:
        log.warning("could not set the command menu", exc_info=True)


def guard_settings(settings: Settings) -> GuardSettings:
    return GuardSettings(
        daily_limit_krw=settings.daily_sell_limit_krw,
        totp_secret=settings.totp_secret.get_secret_value() if settings.totp_secret else None,
        totp_above_krw=settings.totp_above_krw or Decimal(0),
        zone=settings.tz,
        code_timeout=timedelta(seconds=settings.confirm_timeout_seconds),
    )


def _touch(path: str) -> None:
    Path(path).touch()


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    # Opt in to PTB's timedelta time periods: otherwise every `RetryAfter` PTB builds on a
    # 429 emits a PTBDeprecationWarning from its own constructor (an error under
    # `-W error`). Our code reads `retry_after` either way (`delivery.with_retries`).
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    runtime = Runtime()
    # One TLS context (httpx's own default: certifi's CA bundle, or SSL_CERT_FILE) for the
    # Bot API's two connection pools and Upbit's REST client: each context loads the whole
    # CA bundle, about 20 ms of start-up and 0.8 MB apiece.
    tls = httpx.create_ssl_context()

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        engine = create_engine(settings.database_url)
        sessions = create_sessionmaker(engine)
        repo = SqlOrderRepository(sessions)
        exchange, stream = _exchange(settings, sessions, tls)
        balances = BalanceBook()  # kept current by the stream's myAsset events, if any
        events = None if stream is None else BalanceTap(stream, balances)
        runtime.closers += [exchange, engine]
        announcer = Announcer(repo)  # one lease for the Confirm reply and the fill notices
        markets = MarketDirectory(exchange)  # names and warnings, shared by every service
        # What self-trade prevention did to the user's own buy orders, for the fill notices.
        self_trade = SelfTradeWatch(exchange, settings.self_trade_prevention)
        watcher = FillWatcher(
            exchange,
            repo,
            TelegramNotifier(app.bot, markets, self_trade),
            events=events,
            poll_interval=settings.poll_interval_seconds,
            announcer=announcer,
        )
        guard_service = GuardService(
            SqlGuardRepository(sessions), guard_settings(settings), clock=utc_now
        )
        sell_service = SellService(
            exchange,
            repo,
            confirm_timeout=timedelta(seconds=settings.confirm_timeout_seconds),
            on_order_placed=lambda _order: watcher.wake(),
            announcer=announcer,
            markets=markets,
            guards=guard_service,
            self_trade_prevention=settings.self_trade_prevention,
            self_trade=self_trade,
            balances=balances,
        )
        runtime.closers.insert(0, sell_service)  # its book reader stops before the client
        settings_service = SettingsService(SqlUserSettings(sessions))
        alert_repo = SqlAlertRepository(sessions)
        alert_service = AlertService(exchange, alert_repo, markets)
        alert_watcher = AlertWatcher(
            exchange,
            alert_repo,
            TelegramAlertNotifier(
                app.bot, settings_service, markets, paper=settings.paper_trading
            ),
            alert_service,
            interval=settings.alert_interval_seconds,
            # Upbit's public ticker WebSocket when enabled; REST polling otherwise.
            stream=(
                TickerStream(
                    settings.upbit_ws_url, shared_pacer=SqlConnectPacer(sessions).wait_turn
                )
                if settings.ws_enabled
                else None
            ),
        )
        access_key = (
            settings.upbit_access_key.get_secret_value()
            if settings.upbit_access_key and not settings.paper_trading
            else None
        )
        install(
            app,
            Services(
                sell=sell_service,
                portfolio=PortfolioService(exchange, markets),
                history=HistoryService(
                    exchange, repo, watcher, access_key=access_key, tz=settings.tz
                ),
                watcher=watcher,
                settings=settings_service,
                guards=guard_service,
                alerts=alert_service,
                alert_watcher=alert_watcher,
                profit=ProfitService(
                    repo,
                    settings.tz,
                    paper=settings.paper_trading,
                    renderer=SubprocessChartRenderer(),
                ),
                open_orders=OpenOrdersService(exchange, repo, on_change=watcher.wake),
                allowed_user_ids=settings.allowed_user_ids,
                paper=settings.paper_trading,
                clock=utc_now,
                tz=settings.tz,
                markets=markets,
            ),
        )
        runtime.watcher = watcher
        runtime.watcher_task = asyncio.create_task(watcher.run(), name="fill-watcher")
        runtime.alert_watcher = alert_watcher
        runtime.alert_task = asyncio.create_task(alert_watcher.run(), name="alert-watcher")
        if settings.heartbeat_file and app.job_queue is not None:
            # Touch once now: the job queue's first run would come a whole interval late.
            await _heartbeat(settings.heartbeat_file)
            app.job_queue.run_repeating(
                lambda _ctx: _heartbeat(settings.heartbeat_file),
                HEARTBEAT_SECONDS,
                first=HEARTBEAT_SECONDS,
                name="heartbeat",
            )
        # The command menu is set beside polling, not before it: two Bot API round trips
        # that nothing at start-up waits for.
        runtime.commands_task = asyncio.create_task(_set_commands(app), name="command-menu")
        log.info("bot started (%s mode)", "paper" if settings.paper_trading else "live")

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        stranger_lane = app.bot_data.get(access.LANE_KEY)
        if stranger_lane is not None:
            await stranger_lane.aclose()
        if runtime.commands_task is not None:
            runtime.commands_task.cancel()
        if runtime.watcher is not None:
            runtime.watcher.stop()
        if runtime.alert_watcher is not None:
            runtime.alert_watcher.stop()
        if runtime.watcher_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(runtime.watcher_task, 5)
        if runtime.alert_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(runtime.alert_task, 5)
        for resource in runtime.closers:
            close = getattr(resource, "aclose", None) or getattr(resource, "dispose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        log.info("bot stopped")

    api = settings.telegram_api_url.rstrip("/")
    app = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        # PTB's own defaults (256 connections for calls, 1 for getUpdates), sharing `tls`.
        .request(HTTPXRequest(connection_pool_size=256, httpx_kwargs={"verify": tls}))
        .get_updates_request(HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": tls}))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    register_handlers(app)
    return app


async def _heartbeat(path: str) -> None:
    await asyncio.to_thread(_touch, path)


def register_handlers(app: Application) -> None:  # type: ignore[type-arg]
    # Order matters: the access gate (group -1) runs before every other handler.
    app.add_handler(TypeHandler(Update, access.gate), group=-1)
    only_new = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler(["start", "help"], common.help_command, filters=only_new))
    app.add_handler(CommandHandler("balance", balance.balance_command, filters=only_new))
    app.add_handler(CommandHandler("sell", balance.sell_entry, filters=only_new))
    app.add_handler(CommandHandler("cancel", sell.cancel_command, filters=only_new))
    app.add_handler(CommandHandler("orders", history.orders_command, filters=only_new))
    app.add_handler(CommandHandler("order", history.order_command, filters=only_new))
    app.add_handler(CommandHandler("export", history.export_command, filters=only_new))
    app.add_handler(CommandHandler("status", history.status_command, filters=only_new))
    app.add_handler(CommandHandler("settings", settings.settings_command, filters=only_new))
    app.add_handler(CommandHandler("alert", alerts.alert_command, filters=only_new))
    app.add_handler(CommandHandler("alerts", alerts.alerts_command, filters=only_new))
    app.add_handler(CommandHandler("pnl", profit.pnl_command, filters=only_new))
    app.add_handler(CallbackQueryHandler(preview_buttons.confirm_button, pattern=CONFIRM_PATTERN))
    app.add_handler(CallbackQueryHandler(preview_buttons.cancel_button, pattern=CANCEL_PATTERN))
    app.add_handler(CallbackQueryHandler(sell.quick_sell_button, pattern=QUICK_PATTERN))
    app.add_handler(CallbackQueryHandler(sell.sell_rest_button, pattern=REST_PATTERN))
    app.add_handler(CallbackQueryHandler(balance.refresh_button, pattern=kb.REFRESH_PATTERN))
    app.add_handler(CallbackQueryHandler(balance.pick_button, pattern=kb.PICK_PATTERN))
    app.add_handler(CallbackQueryHandler(balance.page_button, pattern=kb.PAGE_PATTERN))
    app.add_handler(
        CallbackQueryHandler(balance.balance_page_button, pattern=kb.BALANCE_PAGE_PATTERN)
    )
    app.add_handler(
        CallbackQueryHandler(balance.other_amount_button, pattern=kb.OTHER_AMOUNT_PATTERN)
    )
    app.add_handler(CallbackQueryHandler(history.order_button, pattern=kb.ORDER_PATTERN))
    app.add_handler(
        CallbackQueryHandler(settings.settings_button, pattern=settings.SETTINGS_PATTERN)
    )
    app.add_handler(CommandHandler("lock", guards.lock_command, filters=only_new))
    app.add_handler(CommandHandler("unlock", guards.unlock_command, filters=only_new))
    # A message that is only a 6-digit code: for a sell or an /unlock waiting for one.
    app.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & only_new & filters.Regex(CODE_PATTERN),
            guards.code_message,
        )
    )
    app.add_handler(CommandHandler("open", open_orders.open_command, filters=only_new))
    app.add_handler(CallbackQueryHandler(open_orders.page_button, pattern=open_kb.PAGE_PATTERN))
    app.add_handler(CallbackQueryHandler(open_orders.ask_button, pattern=open_kb.ASK_PATTERN))
    app.add_handler(CallbackQueryHandler(open_orders.yes_button, pattern=open_kb.YES_PATTERN))
    app.add_handler(CallbackQueryHandler(open_orders.keep_button, pattern=open_kb.KEEP_PATTERN))
    app.add_handler(CallbackQueryHandler(alerts.delete_button, pattern=alert_views.DELETE_PATTERN))
    app.add_handler(CallbackQueryHandler(_forged_button))
    app.add_handler(MessageHandler(filters.COMMAND & only_new, common.unknown_command))
    # A reply to "how much?" (another amount) opens the preview.
    app.add_handler(
        MessageHandler(
            filters.REPLY & filters.TEXT & ~filters.COMMAND & only_new, balance.amount_reply
        )
    )
    app.add_error_handler(common.error_handler)


async def _forged_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press whose callback_data we never sent: say so, do nothing else."""
    if update.callback_query is not None:
        user = update.effective_user
        log.warning("unknown callback_data refused user_id=%s", user.id if user else None)
        lang = user_lang(update, context)
        await answer_quietly(update.callback_query, t(lang, "claim_not_found"), show_alert=True)
