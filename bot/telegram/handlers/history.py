"""/orders, /order, /export and /status."""

from __future__ import annotations

import re

from telegram import InputFile, Update
from telegram.ext import ContextTypes

from bot.telegram import render
from bot.telegram.context import services
from bot.telegram.delivery import with_retries
from bot.telegram.handlers.common import reply, user_lang
from bot.telegram.i18n import t

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
    records = await services(context).history.recent(user.id, limit)
    await reply(update, context, render.orders(lang, records, services(context).tz))


async def order_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    lang = user_lang(update, context)
    user = update.effective_user
    args = context.args or []
    if user is None:
        return
    if len(args) != 1 or not _UUID.fullmatch(args[0]):
        await reply(update, context, t(lang, "order_usage"))
        return
    record, refreshed = await services(context).history.order(args[0].lower(), user.id)
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
    report = await svc.history.status()
    await reply(update, context, render.status(user_lang(update, context), report, svc.tz))
