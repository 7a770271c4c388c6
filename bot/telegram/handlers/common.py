"""/start, /help, unknown commands and the error handler."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.services.settings import DEFAULT_SETTINGS, UserSettings
from bot.telegram.context import SETTINGS_KEY, services
from bot.telegram.delivery import edit_html, send_html
from bot.telegram.i18n import t

log = logging.getLogger(__name__)


def user_settings(context: ContextTypes.DEFAULT_TYPE) -> UserSettings:
    """The settings the access gate loaded from the database for this update's user."""
    found = context.user_data.get(SETTINGS_KEY) if context.user_data is not None else None
    return found if isinstance(found, UserSettings) else DEFAULT_SETTINGS


def user_lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user = update.effective_user
    return user_settings(context).lang(user.language_code if user else None)


async def load_lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """`user_lang` for an update whose settings the gate left unread (`reads_own_settings`):
    read them now; if the database cannot say, Telegram's language of the user."""
    user = update.effective_user
    if user is not None and context.user_data is not None:
        try:
            context.user_data[SETTINGS_KEY] = await services(context).settings.get(user.id)
        except Exception:
            log.exception("could not read the settings of user_id=%s", user.id)
    return user_lang(update, context)


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await send_html(
        context.bot, chat.id, text, lang=user_lang(update, context), paper=services(context).paper
    )


async def edit_or_send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    message_id: int,
    text: str,
    lang: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit a message (its buttons become ``reply_markup``: none by default); send the text
    anew when it cannot be edited."""
    paper = services(context).paper
    try:
        await edit_html(
            context.bot,
            chat_id,
            message_id,
            text,
            lang=lang,
            paper=paper,
            reply_markup=reply_markup,
        )
    except Exception:
        # An order's outcome must still reach the user even if the preview can't be edited.
        log.warning("message edit failed; sending instead", exc_info=True)
        await send_html(
            context.bot, chat_id, text, lang=lang, paper=paper, reply_markup=reply_markup
        )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: what the bot does, each command with an example."""
    await reply(update, context, t(user_lang(update, context), "help"))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await reply(update, context, t(user_lang(update, context), "unknown_command"))


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log first; tell the user only that something went wrong (no details that could leak)."""
    log.error("handler failed", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
        await reply(update, context, t(user_lang(update, context), "error_generic"))
    except Exception:
        log.warning("could not tell the user about an error", exc_info=True)
