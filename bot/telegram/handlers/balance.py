"""/balance: holdings, value, P/L and quick-sell buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.errors import ServiceError
from bot.telegram import render
from bot.telegram.context import services
from bot.telegram.delivery import send_html
from bot.telegram.handlers.common import reply, user_lang, user_settings
from bot.telegram.keyboards import balance_keyboard


async def balance_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    lang = user_lang(update, context)
    chat = update.effective_chat
    if chat is None:
        return
    try:
        portfolio = await svc.portfolio.portfolio()
    except ServiceError as exc:
        await reply(update, context, render.refusal(lang, exc))
        return
    await send_html(
        context.bot,
        chat.id,
        render.balance(lang, portfolio),
        lang=lang,
        paper=svc.paper,
        reply_markup=balance_keyboard(portfolio, user_settings(context).quick_sell_percents),
    )
