"""/orders, /order, /export and /status."""

from __future__ import annotations

import re

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot.telegram import render
from bot.telegram.context import services
from bot.telegram.delivery import answer_quietly, send_html, with_retries
from bot.telegram.handlers.common import reply, user_lang
from bot.telegram.i18n import t
from bot.telegram.keyboards import orders_keyboard, parse_order

DEFAULT_ORDERS = 10
_COUNT = re.compile(r"[0-9]{1,2}", re.ASCII)
_UUID = re.compile(r"[0-9a-fA-F-]{8,64}", re.ASCII)


async def orders_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = user_lang(update, context)
    user = update.effective_user
    if user is None:
        return
    args = context.args or []
    if (
        len(args) > 1
        or (args and not _COUNT.fullmatch(args[0]))
        or (args and not 1 <= int(args[0]) <= 50)
    ):
        await reply(update, context, t(lang, "orders_usage"))
        return
    limit = int(args[0]) if args else DEFAULT_ORDERS
    svc = services(context)
    records = await svc.history.recent(user.id, limit)
    chat = update.effective_chat
    if chat is None:
        return
    # Each row is also a button that opens it (/order), so nothing needs copying.
    buttons = [(render.order_label(lang, r, svc.tz), r.uuid) for r in records if r.uuid]
    await send_html(
        context.bot,
        chat.id,
        render.orders(lang, records, svc.tz),
        lang=lang,
        paper=svc.paper,
        reply_markup=orders_keyboard(buttons),
    )


async def order_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A row of /orders pressed: the same as ``/order UUID``."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    lang = user_lang(update, context)
    uuid = parse_order(query.data)
    if uuid is None:
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    await answer_quietly(query)
    await _show_order(update, context, uuid, user.id, lang)


async def order_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = user_lang(update, context)
    user = update.effective_user
    args = context.args or []
    if user is None:
        return
    if len(args) != 1 or not _UUID.fullmatch(args[0]):
        await reply(update, context, t(lang, "order_usage"))
        return
    await _show_order(update, context, args[0].lower(), user.id, lang)


async def _show_order(
    update: Update, context: ContextTypes.DEFAULT_TYPE, uuid: str, user_id: int, lang: str
) -> None:
    record, refreshed = await services(context).history.order(uuid, user_id)
    if record is None:
        await reply(update, context, t(lang, "order_not_found"))
        return
    await reply(
        update, context, render.order_detail(lang, record, refreshed, services(context).tz)
    )


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    lang = user_lang(update, context)
    chat = update.effective_chat
    if chat is None:
        return
    data = await svc.history.export_csv()
    count = max(0, data.count(b"\n") - 1)
    caption = render.with_paper_tag(t(lang, "export_caption", count=count), lang, svc.paper)
    stamp = svc.now().astimezone(svc.tz).strftime("%Y%m%d-%H%M%S")

    async def call() -> object:
        return await context.bot.send_document(
            chat.id,
            InputFile(data, filename=f"orders-{stamp}.csv"),
            caption=caption,
            parse_mode="HTML",
        )

    await with_retries(call)


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    lang = user_lang(update, context)
    report = await svc.history.status()
    guards = render.guards_status(lang, await svc.guards.status())
    await reply(update, context, f"{render.status(lang, report, svc.tz)}\n{guards}")
