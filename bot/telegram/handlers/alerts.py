"""/alert, /alerts and their delete buttons. Thin: the rules live in `bot.services.alerts`."""

from __future__ import annotations

from decimal import Decimal

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.alerts import NewAlert
from bot.services.errors import ServiceError
from bot.telegram import alert_views, render
from bot.telegram.context import services
from bot.telegram.delivery import answer_quietly, edit_html, send_html
from bot.telegram.handlers.common import reply, user_lang
from bot.telegram.i18n import t


async def alert_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    lang = user_lang(update, context)
    try:
        made = await svc.alerts.create(
            list(context.args or []),
            user_id=user.id,
            chat_id=chat.id,
            language_code=user.language_code,
        )
    except ServiceError as exc:
        alert, price = exc.params.get("alert"), exc.params.get("price")
        if isinstance(alert, NewAlert) and isinstance(price, Decimal):
            await reply(update, context, alert_views.already_met(lang, alert, price))
            return
        await reply(update, context, render.refusal(lang, exc))
        return
    await reply(update, context, alert_views.created(lang, made.alert, made.price))


async def alerts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    lang = user_lang(update, context)
    text, markup = alert_views.listing(lang, await svc.alerts.list(user.id))
    await send_html(context.bot, chat.id, text, lang=lang, paper=svc.paper, reply_markup=markup)


async def delete_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    svc = services(context)
    lang = user_lang(update, context)
    alert_id = alert_views.parse_delete(query.data)
    deleted = None if alert_id is None else await svc.alerts.delete(user.id, alert_id)
    if deleted is None:
        await answer_quietly(query, t(lang, "alert_gone"), show_alert=True)
        return
    await answer_quietly(
        query,
        t(
            lang,
            "alert_deleted",
            market=deleted.market,
            condition=alert_views.condition(lang, deleted),
        ),
    )
    if query.message is not None:
        text, markup = alert_views.listing(lang, await svc.alerts.list(user.id))
        await edit_html(
            context.bot,
            query.message.chat.id,
            query.message.message_id,
            text,
            lang=lang,
            paper=svc.paper,
            reply_markup=markup,
        )
