"""/sell, /cancel, quick-sell buttons and the Confirm / Cancel buttons. Thin: the rules
live in `bot.services.sell`."""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Update
from telegram.ext import ContextTypes

from bot.domain import ClaimOutcome
from bot.services.errors import ServiceError
from bot.services.sell import ConfirmStatus
from bot.telegram import render
from bot.telegram.context import Services, services
from bot.telegram.delivery import answer_quietly, edit_html, send_html
from bot.telegram.handlers.common import reply, user_lang
from bot.telegram.i18n import t
from bot.telegram.keyboards import (
    CONFIRM_PATTERN,
    parse_pending,
    parse_quick,
    parse_rest,
    preview_keyboard,
)

log = logging.getLogger(__name__)

# Claim refusals that leave the preview message as it is (the press was not the owner's to
# make, or another press already won).


async def _open_preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]
) -> None:
    svc = services(context)
    lang = user_lang(update, context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    try:
        preview = await svc.sell.preview(args, user_id=user.id, chat_id=chat.id, lang=lang)
    except ServiceError as exc:
        await reply(update, context, render.refusal(lang, exc))
        return
    message = await send_html(
        context.bot,
        chat.id,
        render.preview(lang, preview, svc.now(), svc.tz),
        lang=lang,
        paper=svc.paper,
        reply_markup=preview_keyboard(lang, preview.pending_id),
    )
    if not await svc.sell.set_message(preview.pending_id, message.message_id):
        await _edit_quietly(context, svc, chat.id, message.message_id, t(lang, "cancelled"), lang)
        return
    if context.job_queue is not None:
        context.job_queue.run_once(
            _expire,
            when=preview.expires_at,
            data=preview.pending_id,
            name=f"expire:{preview.pending_id}",
        )


async def sell_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _open_preview(update, context, list(context.args or []))


async def quick_sell_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await answer_quietly(query)
    quick = parse_quick(query.data)
    if quick is None:
        return
    await _open_preview(update, context, [quick.market, f"{quick.percent}%"])


async def sell_rest_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The rest of a protected sell: a new protected-sell preview for it (same slip)."""
    query = update.callback_query
    if query is None:
        return
    await answer_quietly(query)
    rest = parse_rest(query.data)
    if rest is None:
        return
    await _open_preview(update, context, [rest.market, rest.volume, "slip", f"{rest.slip}%"])


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    user = update.effective_user
    if user is None:
        return
    lang = user_lang(update, context)
    cancelled = await svc.sell.cancel_all(user.id)
    for pending in cancelled:
        if pending.message_id is not None:
            await _edit_quietly(
                context, svc, pending.chat_id, pending.message_id, t(lang, "cancelled"), lang
            )
    text = t(lang, "cancelled_n", count=len(cancelled)) if cancelled else t(lang, "cancelled_none")
    await reply(update, context, text)


async def preview_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm or Cancel on a preview."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    svc = services(context)
    lang = user_lang(update, context)
    pending_id = parse_pending(query.data)
    if pending_id is None:
        log.warning("forged callback_data refused user_id=%s", user.id)
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    if query.data is not None and query.data.startswith(CONFIRM_PATTERN.lstrip("^")):
        await _confirm(query, context, svc, pending_id, user.id, lang)
    else:
        await _cancel(query, context, svc, pending_id, user.id, lang)


async def _confirm(
    query: CallbackQuery,
    context: ContextTypes.DEFAULT_TYPE,
    svc: Services,
    pending_id: str,
    user_id: int,
    lang: str,
) -> None:
    answering: list[asyncio.Task[None]] = []

    def on_claim(outcome: ClaimOutcome) -> None:
        # The answer to the press travels while the order is being placed, not before it.
        if outcome is ClaimOutcome.CLAIMED:
            answer = answer_quietly(query, t(lang, "placing"))
        else:
            # Unknown id, someone else's preview, already confirmed, cancelled or expired:
            # tell the presser only; the preview already shows its outcome (or isn't theirs).
            answer = answer_quietly(query, t(lang, f"claim_{outcome.value}"), show_alert=True)
        answering.append(asyncio.create_task(answer))

    try:
        result = await svc.sell.confirm(pending_id, user_id, on_claim)
    finally:
        await asyncio.gather(*answering, return_exceptions=True)
    if result.status is ConfirmStatus.REFUSED and result.reason.startswith("claim_"):
        return
    text = render.confirm_outcome(lang, result)
    message = query.message
    if message is None:
        return

    async def deliver() -> None:
        await _edit_quietly(context, svc, message.chat.id, message.message_id, text, lang)

    # A refusal is the order's final word: announced here, once, or by the watcher if this
    # reply cannot be delivered.
    await svc.sell.deliver_outcome(result, deliver)


async def _cancel(
    query: CallbackQuery,
    context: ContextTypes.DEFAULT_TYPE,
    svc: Services,
    pending_id: str,
    user_id: int,
    lang: str,
) -> None:
    if not await svc.sell.cancel(pending_id, user_id):
        reason = await svc.sell.press_refusal(pending_id, user_id) or "claim_not_found"
        await answer_quietly(query, t(lang, reason), show_alert=True)
        return
    await answer_quietly(query)
    if query.message is not None:
        await _edit_quietly(
            context,
            svc,
            query.message.chat.id,
            query.message.message_id,
            t(lang, "cancelled"),
            lang,
        )


async def _edit_quietly(
    context: ContextTypes.DEFAULT_TYPE,
    svc: Services,
    chat_id: int,
    message_id: int,
    text: str,
    lang: str,
) -> None:
    try:
        await edit_html(context.bot, chat_id, message_id, text, lang=lang, paper=svc.paper)
    except Exception:
        # The order outcome must still reach the user even if the preview can't be edited.
        log.warning("preview edit failed; sending instead", exc_info=True)
        await send_html(context.bot, chat_id, text, lang=lang, paper=svc.paper)


async def _expire(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A preview's time is up: if nobody confirmed it, say so and drop the buttons."""
    job = context.job
    if job is None or not isinstance(job.data, str):
        return
    svc = services(context)
    pending = await svc.sell.expire(job.data, svc.now())
    if pending is None or pending.message_id is None:
        return
    await _edit_quietly(
        context,
        svc,
        pending.chat_id,
        pending.message_id,
        render.expired(pending.lang, pending.market, pending.volume),
        pending.lang,
    )
