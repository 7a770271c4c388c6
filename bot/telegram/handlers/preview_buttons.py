"""The Confirm and Cancel buttons of a sell preview. Thin: `bot.services.sell` decides."""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Update
from telegram.ext import ContextTypes

from bot.domain import ClaimOutcome
from bot.telegram import render
from bot.telegram.context import services
from bot.telegram.delivery import answer_quietly
from bot.telegram.handlers.common import edit_or_send, user_lang
from bot.telegram.i18n import t
from bot.telegram.keyboards import parse_pending

log = logging.getLogger(__name__)


def _pending_id(query: CallbackQuery, user_id: int) -> str | None:
    pending_id = parse_pending(query.data)
    if pending_id is None:
        log.warning("forged callback_data refused user_id=%s", user_id)
    return pending_id


async def confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm: place the preview's order (the service lets exactly one press win)."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    lang = user_lang(update, context)
    pending_id = _pending_id(query, user.id)
    if pending_id is None:
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    svc = services(context)
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
        result = await svc.sell.confirm(pending_id, user.id, on_claim)
    finally:
        await asyncio.gather(*answering, return_exceptions=True)
    message = query.message
    if result.claim is not ClaimOutcome.CLAIMED or message is None:
        return
    text = render.confirm_outcome(lang, result)
    chat_id, message_id = message.chat.id, message.message_id

    async def deliver() -> None:
        await edit_or_send(context, chat_id, message_id, text, lang)

    # A refusal is the order's final word: announced here, once, or by the watcher if this
    # reply cannot be delivered.
    await svc.sell.deliver_outcome(result, deliver)


async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancel: drop the preview; places nothing."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    lang = user_lang(update, context)
    pending_id = _pending_id(query, user.id)
    if pending_id is None:
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    svc = services(context)
    if not await svc.sell.cancel(pending_id, user.id):
        reason = await svc.sell.press_refusal(pending_id, user.id) or "claim_not_found"
        await answer_quietly(query, t(lang, reason), show_alert=True)
        return
    await answer_quietly(query)
    if query.message is not None:
        await edit_or_send(
            context, query.message.chat.id, query.message.message_id, t(lang, "cancelled"), lang
        )
