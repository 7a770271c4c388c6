"""/lock, /unlock and the one-time code a user sends as a message. Thin: the rules live in
`bot.services.guards` (and, for a sell waiting for its code, `bot.services.sell`)."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.services.guards import UnlockStatus, parse_code
from bot.telegram import numbers as n
from bot.telegram.context import Services, services
from bot.telegram.delivery import delete_quietly
from bot.telegram.handlers.common import reply, user_lang
from bot.telegram.handlers.preview_buttons import code_for_sell
from bot.telegram.i18n import t


async def lock_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None:
        return
    locked_now = await services(context).guards.lock(user.id)
    await reply(
        update, context, t(user_lang(update, context), "lock_on" if locked_now else "lock_already")
    )


async def unlock_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/unlock`` or ``/unlock 123456``; a message carrying a code is deleted."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    svc = services(context)
    args = context.args or []
    code = " ".join(args) if args else None
    if code is not None and svc.guards.totp_on:
        await delete_quietly(context.bot, message.chat_id, message.message_id)
    await _unlock(update, context, svc, user.id, code)


async def _unlock(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    svc: Services,
    user_id: int,
    code: str | None,
) -> None:
    lang = user_lang(update, context)
    status = await svc.guards.unlock(user_id, code)
    if status is UnlockStatus.PAUSED:
        state = await svc.guards.paused_until()
        until = n.clock(state, svc.tz) if state is not None else "?"
        await reply(update, context, t(lang, "unlock_paused", until=until))
        return
    key = {
        UnlockStatus.UNLOCKED: "unlock_done",
        UnlockStatus.NOT_LOCKED: "unlock_not_locked",
        UnlockStatus.CODE_NEEDED: "unlock_code_needed",
        UnlockStatus.WRONG: "unlock_wrong",
        UnlockStatus.REUSED: "unlock_reused",
    }[status]
    await reply(update, context, t(lang, key))


async def code_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message that is only a 6-digit code: for a sell or an /unlock waiting for one."""
    user, message = update.effective_user, update.effective_message
    svc = services(context)
    if user is None or message is None or message.text is None or not svc.guards.totp_on:
        return
    code = parse_code(message.text)
    if code is None:  # pragma: no cover - the handler's filter lets only codes through
        return
    # First, whatever happens next: the code must not stay in the chat.
    await delete_quietly(context.bot, message.chat_id, message.message_id)
    if await svc.guards.unlock_awaiting(user.id):
        await _unlock(update, context, svc, user.id, code)
        return
    if not await code_for_sell(update, context, code):
        await reply(update, context, t(user_lang(update, context), "code_nothing_waiting"))


def is_code(message: Message) -> bool:
    return message.text is not None and parse_code(message.text) is not None
