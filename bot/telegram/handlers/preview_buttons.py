"""The Confirm and Cancel buttons of a sell preview. Thin: `bot.services.sell` decides."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from telegram import CallbackQuery, Update
from telegram.ext import ContextTypes

from bot.domain import ClaimOutcome
from bot.services.sell import ConfirmResult, ConfirmStatus
from bot.telegram import numbers as n
from bot.telegram import render
from bot.telegram.context import services
from bot.telegram.delivery import answer_quietly
from bot.telegram.handlers.common import edit_or_send, load_lang, reply, user_lang
from bot.telegram.handlers.sell import show_preview
from bot.telegram.i18n import t
from bot.telegram.keyboards import code_keyboard, parse_pending

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
    svc = services(context)
    pending_id = _pending_id(query, user.id)
    if pending_id is None:
        await answer_quietly(
            query, t(await load_lang(update, context), "claim_not_found"), show_alert=True
        )
        return
    # The user's settings are read once the press is decided, beside the order, not before
    # it (the gate leaves them to this handler): nothing is said before the order leaves.
    language: list[asyncio.Future[str]] = []
    answering: list[asyncio.Task[None]] = []

    def lang_read() -> asyncio.Future[str]:
        if not language:
            language.append(asyncio.ensure_future(load_lang(update, context)))
        return language[0]

    async def answer(outcome: ClaimOutcome) -> None:
        lang = await lang_read()
        if outcome is ClaimOutcome.CLAIMED:
            await answer_quietly(query, t(lang, "placing"))
        else:
            # Unknown id, someone else's preview, already confirmed, cancelled or expired:
            # tell the presser only; the preview already shows its outcome (or isn't theirs).
            await answer_quietly(query, t(lang, f"claim_{outcome.value}"), show_alert=True)

    def on_claim(outcome: ClaimOutcome) -> None:
        # The answer to the press travels while the order is being placed, not before it.
        answering.append(asyncio.create_task(answer(outcome)))

    try:
        result = await svc.sell.confirm(pending_id, user.id, on_claim)
    finally:
        await asyncio.gather(*answering, return_exceptions=True)
    lang = await lang_read()
    message = query.message
    if result.status is ConfirmStatus.CODE_NEEDED and result.pending is not None:
        # Nothing claimed: the sell goes ahead only with the owner's one-time code.
        await answer_quietly(query, t(lang, "code_alert"))
        if message is not None:
            await edit_or_send(
                context,
                message.chat.id,
                message.message_id,
                render.code_needed(lang, result.pending, svc.tz),
                lang,
                reply_markup=code_keyboard(lang, result.pending.id),
            )
        return
    if not answering:  # refused before any claim: the preview itself says why
        await answer_quietly(query)
    if message is not None:
        await _show_outcome(context, message.chat.id, message.message_id, result, lang)


# A guard's refusal cancelled the preview: it says so (other refusals only tell the presser).
_SHOWN_ON_PREVIEW = (ClaimOutcome.CLAIMED, ClaimOutcome.LOCKED, ClaimOutcome.OVER_DAILY_LIMIT)


async def _show_outcome(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    message_id: int,
    result: ConfirmResult,
    lang: str,
) -> None:
    """Edit the preview to show what its confirmation came to."""
    if result.claim not in _SHOWN_ON_PREVIEW:
        return
    text = render.confirm_outcome(lang, result)

    async def deliver() -> None:
        await edit_or_send(context, chat_id, message_id, text, lang)

    # A refusal is the order's final word: announced here, once, or by the watcher if this
    # reply cannot be delivered.
    await services(context).sell.deliver_outcome(result, deliver)
    if result.fresh_preview is not None:  # the price fell: the new estimate, to confirm anew
        await show_preview(context, chat_id, lang, result.fresh_preview)


async def code_for_sell(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str) -> bool:
    """A one-time code for the user's sell waiting for one; False when none was waiting."""
    user = update.effective_user
    if user is None:
        return False
    svc = services(context)
    lang = user_lang(update, context)
    attempt = await svc.sell.confirm_with_code(user.id, code)
    if attempt is None:
        return False
    result, pending = attempt.result, attempt.pending
    if result.reason in ("code_wrong", "code_reused", "code_paused"):
        params = dict(result.params or {})
        until = params.pop("until", None)
        if isinstance(until, datetime):
            params["until"] = n.clock(until, svc.tz)
        await reply(update, context, t(lang, result.reason, **params))
        return True
    if pending.message_id is None:  # pragma: no cover - the code was asked for on it
        await reply(update, context, render.confirm_outcome(lang, result))
        return True
    if result.reason == "code_too_many":
        text = t(lang, "code_too_many")
        await edit_or_send(context, pending.chat_id, pending.message_id, text, lang)
        return True
    if result.claim not in _SHOWN_ON_PREVIEW:
        await reply(update, context, t(lang, result.reason))  # e.g. cancelled meanwhile
        return True
    await _show_outcome(context, pending.chat_id, pending.message_id, result, lang)
    return True


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
