"""/sell, /cancel, quick-sell buttons and preview expiry. Thin: the rules live in
`bot.services.sell`; the Confirm and Cancel buttons are in `preview_buttons`."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.errors import ServiceError
from bot.services.sell import SellPreview
from bot.telegram import render
from bot.telegram.context import services
from bot.telegram.delivery import answer_quietly, send_html
from bot.telegram.handlers.common import edit_or_send, reply, user_lang
from bot.telegram.i18n import t
from bot.telegram.keyboards import (
    parse_quick,
    parse_rest,
    preview_keyboard,
    thin_book_keyboard,
)


async def open_preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]
) -> None:
    """Parse ``args`` as ``/sell`` does and show the preview (or why not)."""
    svc = services(context)
    lang = user_lang(update, context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    try:
        preview = await svc.sell.preview(args, user_id=user.id, chat_id=chat.id, lang=lang)
    except ServiceError as exc:
        markup = thin_book_keyboard(lang, exc)
        if markup is None:
            await reply(update, context, render.refusal(lang, exc))
        else:  # a market sell the book cannot take: offer a protected sell of it
            await send_html(
                context.bot,
                chat.id,
                render.refusal(lang, exc),
                lang=lang,
                paper=svc.paper,
                reply_markup=markup,
            )
        return
    await show_preview(context, chat.id, lang, preview)


async def show_preview(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, lang: str, preview: SellPreview
) -> None:
    """Send a stored preview with its Confirm / Cancel buttons; expire it on time."""
    svc = services(context)
    message = await send_html(
        context.bot,
        chat_id,
        render.preview(lang, preview, svc.now(), svc.tz),
        lang=lang,
        paper=svc.paper,
        reply_markup=preview_keyboard(lang, preview.pending_id),
    )
    if not await svc.sell.set_message(preview.pending_id, message.message_id):
        await edit_or_send(context, chat_id, message.message_id, t(lang, "cancelled"), lang)
        return
    if context.job_queue is not None:
        context.job_queue.run_once(
            _expire,
            when=preview.expires_at,
            data=preview.pending_id,
            name=f"expire:{preview.pending_id}",
        )


async def quick_sell_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await answer_quietly(query)
    quick = parse_quick(query.data)
    if quick is None:
        return
    await open_preview(update, context, [quick.market, f"{quick.percent}%"])


async def sell_rest_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The rest of a protected sell: a new protected-sell preview for it (same slip)."""
    query = update.callback_query
    if query is None:
        return
    await answer_quietly(query)
    rest = parse_rest(query.data)
    if rest is None:
        return
    await open_preview(update, context, [rest.market, rest.volume, "slip", f"{rest.slip}%"])


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    lang = user_lang(update, context)
    cancelled = await svc.sell.cancel_all(user.id)
    for pending in cancelled:
        if pending.message_id is not None:
            await edit_or_send(
                context, pending.chat_id, pending.message_id, t(lang, "cancelled"), lang
            )
    text = t(lang, "cancelled_n", count=len(cancelled)) if cancelled else t(lang, "cancelled_none")
    await reply(update, context, text)


async def _expire(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A preview's time is up: if nobody confirmed it, say so and drop the buttons."""
    job = context.job
    if job is None or not isinstance(job.data, str):
        return
    svc = services(context)
    pending = await svc.sell.expire(job.data)
    if pending is None:
        # This machine's clock may run ahead of the database's, which decides: look again
        # when the database says the time is up.
        left = await svc.sell.seconds_left(job.data)
        if left is not None and context.job_queue is not None:
            context.job_queue.run_once(_expire, when=left + 0.05, data=job.data, name=job.name)
        return
    if pending.message_id is None:
        return
    await edit_or_send(
        context,
        pending.chat_id,
        pending.message_id,
        render.expired(pending.lang, pending.market, pending.volume),
        pending.lang,
    )
