"""Alerts as the user sees them: the condition, the list, the firing notice, the buttons."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from bot.services.alerts import MAX_ALERTS_PER_USER, Direction, NewAlert, PriceAlert
from bot.services.announce import NoticeUndeliverable
from bot.services.markets import MarketDirectory
from bot.services.settings import SettingsService
from bot.telegram import numbers as n
from bot.telegram import render
from bot.telegram.delivery import send_html
from bot.telegram.i18n import t
from bot.telegram.keyboards import quick_sell_row

DELETE_PATTERN = r"^ad:"


def _price(lang: str, value: Decimal, quote: str, *, average: bool = False) -> str:
    return render.price_text(lang, value, quote, average=average)


def condition(lang: str, alert: PriceAlert | NewAlert) -> str:
    quote = alert.market.partition("-")[0]
    key = "alert_above" if alert.direction is Direction.ABOVE else "alert_below"
    target = t(lang, key, price=_price(lang, alert.target_price, quote))
    if alert.percent is None or alert.basis_price is None:
        return target
    return t(
        lang,
        "alert_percent",
        change=n.signed_percent(alert.percent),
        basis=_price(lang, alert.basis_price, quote, average=True),
        target=target,
    )


def created(lang: str, alert: PriceAlert, price: Decimal) -> str:
    return t(
        lang,
        "alert_set",
        market=alert.market,
        condition=condition(lang, alert),
        price=_price(lang, price, alert.quote_currency),
    )


def already_met(lang: str, alert: NewAlert, price: Decimal) -> str:
    return t(
        lang,
        "alert_already_met",
        market=alert.market,
        condition=condition(lang, alert),
        price=_price(lang, price, alert.market.partition("-")[0]),
    )


def listing(lang: str, alerts: Sequence[PriceAlert]) -> tuple[str, InlineKeyboardMarkup | None]:
    if not alerts:
        return t(lang, "alerts_none"), None
    lines = [t(lang, "alerts_title", count=len(alerts), max=MAX_ALERTS_PER_USER)]
    lines += [
        t(lang, "alert_row", number=a.id, market=a.market, condition=condition(lang, a))
        for a in alerts
    ]
    # One delete button per alert, two a row: at most 50 alerts → 50 buttons (< 100).
    buttons = [
        InlineKeyboardButton(
            t(lang, "btn_alert_delete", number=a.id, market=a.market), callback_data=f"ad:{a.id}"
        )
        for a in alerts
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def parse_delete(data: str | None) -> int | None:
    if data is None or not data.startswith("ad:"):
        return None
    number = data[3:]
    return int(number) if number.isascii() and number.isdigit() and len(number) <= 12 else None


class TelegramAlertNotifier:
    """Sends a fired alert with the holding's quick-sell buttons (the `AlertNotifier`)."""

    def __init__(
        self, bot: Bot, settings: SettingsService, markets: MarketDirectory, *, paper: bool
    ) -> None:
        self._bot = bot
        self._settings = settings
        self._markets = markets
        self._paper = paper

    async def fire(self, alert: PriceAlert, price: Decimal, held: bool) -> None:
        chosen = await self._settings.get(alert.user_id)
        lang = chosen.lang(alert.language_code)
        names = await self._markets.names()
        values = {
            "coin": render.coin_name(lang, names.name(alert.currency), alert.currency),
            "currency": alert.currency,
            "market": alert.market,
            "condition": condition(lang, alert),
            "price": _price(lang, price, alert.quote_currency),
        }
        row = quick_sell_row(alert.market, alert.currency, chosen.quick_sell_percents)
        markup = InlineKeyboardMarkup([row]) if held and row else None
        text = t(lang, "alert_fired" if markup else "alert_fired_not_held", **values)
        try:
            await send_html(
                self._bot, alert.chat_id, text, lang=lang, paper=self._paper, reply_markup=markup
            )
        except Forbidden as exc:
            raise NoticeUndeliverable(type(exc).__name__) from exc
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise NoticeUndeliverable("chat not found") from exc
            raise
