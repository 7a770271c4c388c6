"""/open and its buttons: list open orders, ask before cancelling one, report the outcome.
Thin: the rules live in `bot.services.open_orders`."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.open_orders import CancelStatus
from bot.services.upbit_answers import error_code
from bot.telegram import render, render_orders
from bot.telegram.context import services
from bot.telegram.delivery import answer_quietly, edit_html, send_html
from bot.telegram.handlers.common import reply, user_lang
from bot.telegram.i18n import Markup, t
from bot.telegram.open_keyboards import (
    confirm_cancel_keyboard,
    open_keyboard,
    parse_ask,
    parse_keep,
    parse_page,
    parse_yes,
)
from bot.upbit.errors import UpbitError

log = logging.getLogger(__name__)

_PAGE = re.compile(r"[1-9][0-9]{0,3}", re.ASCII)


async def open_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    lang = user_lang(update, context)
    chat = update.effective_chat
    if chat is None:
        return
    args = context.args or []
    if len(args) > 1 or (args and not _PAGE.fullmatch(args[0])):
        await reply(update, context, t(lang, "open_usage"))
        return
    try:
        page = await svc.open_orders.page(int(args[0]) if args else 1)
    except UpbitError as exc:
        reason = render.message(lang, error_code(exc), None)
        await reply(update, context, t(lang, "open_unavailable", reason=Markup(reason)))
        return
    await send_html(
        context.bot,
        chat.id,
        render_orders.open_orders(lang, page, svc.tz),
        lang=lang,
        paper=svc.paper,
        reply_markup=open_keyboard(lang, page),
    )


async def page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    lang = user_lang(update, context)
    number = parse_page(query.data)
    await answer_quietly(query)
    if number is None or query.message is None:
        return
    try:
        page = await svc.open_orders.page(number)
    except UpbitError as exc:
        reason = render.message(lang, error_code(exc), None)
        await reply(update, context, t(lang, "open_unavailable", reason=Markup(reason)))
        return
    await edit_html(
        context.bot,
        query.message.chat.id,
        query.message.message_id,
        render_orders.open_orders(lang, page, svc.tz),
        lang=lang,
        paper=svc.paper,
        reply_markup=open_keyboard(lang, page),
    )


async def ask_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A cancel button of the list: ask first, in a message of its own."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None:
        return
    svc = services(context)
    lang = user_lang(update, context)
    uuid = parse_ask(query.data)
    if uuid is None:
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    found = await svc.open_orders.look(uuid)
    if found.status is CancelStatus.FAILED:
        reason = render.message(lang, found.reason, None)
        await answer_quietly(query)
        await reply(update, context, t(lang, "open_failed", reason=Markup(reason)))
        return
    if found.status is CancelStatus.NOT_OPEN:
        await answer_quietly(query, t(lang, "open_not_open"), show_alert=True)
        return
    await answer_quietly(query)
    await send_html(
        context.bot,
        chat.id,
        render_orders.cancel_question(lang, found, svc.tz),
        lang=lang,
        paper=svc.paper,
        reply_markup=confirm_cancel_keyboard(lang, uuid),
    )


async def yes_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirmed: cancel with DELETE /v1/order and edit the question with the outcome."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    if query is None or user is None or chat is None:
        return
    svc = services(context)
    lang = user_lang(update, context)
    uuid = parse_yes(query.data)
    if uuid is None:
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    await answer_quietly(query, t(lang, "placing_cancel"))
    result = await svc.open_orders.cancel(uuid, user_id=user.id, chat_id=chat.id, lang=lang)
    reason = render.message(lang, result.reason, None) if result.reason else ""
    text = render_orders.cancel_outcome(lang, result, reason, svc.tz)
    message = query.message
    if message is None:
        await reply(update, context, text)
        return
    try:
        await edit_html(
            context.bot, message.chat.id, message.message_id, text, lang=lang, paper=svc.paper
        )
    except Exception:
        log.warning("cancel outcome edit failed; sending instead", exc_info=True)
        await reply(update, context, text)


async def keep_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    lang = user_lang(update, context)
    await answer_quietly(query)
    if parse_keep(query.data) is None or query.message is None:
        return
    await edit_html(
        context.bot,
        query.message.chat.id,
        query.message.message_id,
        t(lang, "open_kept"),
        lang=lang,
        paper=svc.paper,
    )
