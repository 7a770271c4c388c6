"""The gate in front of every handler: allowed users, private chats, nothing else.

Registered as a `TypeHandler(Update, ...)` in group -1, so it runs before any command or
button handler and before any Upbit call or database write; strangers cost one log line.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.telegram.context import SETTINGS_KEY, services
from bot.telegram.i18n import lang_of, t
from bot.telegram.render import with_paper_tag

log = logging.getLogger(__name__)


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    chat = update.effective_chat
    svc = services(context)
    allowed = svc.allowed_user_ids
    if user is None:
        log.warning("update without a user refused (update_id=%s)", update.update_id)
        raise ApplicationHandlerStop
    lang = lang_of(user.language_code)
    if user.id not in allowed:
        log.warning("unauthorized user refused user_id=%s", user.id)
        await _refuse(update, t(lang, "not_allowed"), lang, svc.paper)
        raise ApplicationHandlerStop
    if chat is not None and chat.type != ChatType.PRIVATE:
        log.warning("non-private chat refused user_id=%s chat_type=%s", user.id, chat.type)
        await _refuse(update, t(lang, "private_only"), lang, svc.paper)
        raise ApplicationHandlerStop
    if context.user_data is not None:
        # Read fresh for every update: another process may have changed it.
        context.user_data[SETTINGS_KEY] = await svc.settings.get(user.id)


async def _refuse(update: Update, text: str, lang: str, paper: bool) -> None:
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.reply_text(
                with_paper_tag(text, lang, paper), parse_mode=ParseMode.HTML
            )
    except Exception:  # a refusal that cannot be delivered is not worth more
        log.debug("refusal not delivered", exc_info=True)
