"""/settings: the reply language and the quick-sell percentages. Thin: the rules live in
`bot.services.settings`."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.services.errors import ServiceError
from bot.services.settings import Language, UserSettings
from bot.telegram import render
from bot.telegram.context import SETTINGS_KEY, services
from bot.telegram.delivery import answer_quietly, edit_html, send_html
from bot.telegram.handlers.common import reply, user_lang
from bot.telegram.i18n import t

SETTINGS_PATTERN = r"^st:"
_LANGUAGE_BUTTON = re.compile(r"st:lang:(auto|ko|en)")


def _keyboard(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t(lang, "settings_lang_auto"), callback_data="st:lang:auto"),
                InlineKeyboardButton("한국어", callback_data="st:lang:ko"),
                InlineKeyboardButton("English", callback_data="st:lang:en"),
            ]
        ]
    )


def _text(lang: str, settings: UserSettings) -> str:
    language = t(lang, f"settings_lang_{settings.language.value}")
    if settings.language is Language.AUTO:
        language = t(lang, "settings_lang_auto_is", name=t(lang, "lang_name"))
    return t(
        lang,
        "settings",
        language=language,
        percents=" / ".join(f"{p}%" for p in settings.quick_sell_percents),
    )


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/settings``, ``/settings lang ko``, ``/settings quick 10 25 50 100``."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    args = list(context.args or [])
    try:
        if not args:
            current = await svc.settings.get(user.id)
        elif args[0].lower() in ("lang", "language", "언어") and len(args) == 2:
            current = await svc.settings.set_language(user.id, args[1])
        elif args[0].lower() in ("quick", "퀵", "빠른매도") and len(args) >= 2:
            current = await svc.settings.set_quick_sell(user.id, args[1:])
        else:
            await reply(update, context, t(user_lang(update, context), "settings_usage"))
            return
    except ServiceError as exc:
        await reply(update, context, render.refusal(user_lang(update, context), exc))
        return
    if context.user_data is not None:
        context.user_data[SETTINGS_KEY] = current
    lang = user_lang(update, context)
    await send_html(
        context.bot,
        chat.id,
        _text(lang, current),
        lang=lang,
        paper=svc.paper,
        reply_markup=_keyboard(lang),
    )


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    svc = services(context)
    match = _LANGUAGE_BUTTON.fullmatch(query.data or "")
    if match is None:
        await answer_quietly(
            query, t(user_lang(update, context), "claim_not_found"), show_alert=True
        )
        return
    current = await svc.settings.set_language(user.id, match.group(1))
    if context.user_data is not None:
        context.user_data[SETTINGS_KEY] = current
    lang = user_lang(update, context)
    await answer_quietly(query, t(lang, "settings_saved"))
    if query.message is not None:
        await edit_html(
            context.bot,
            query.message.chat.id,
            query.message.message_id,
            _text(lang, current),
            lang=lang,
            paper=svc.paper,
            reply_markup=_keyboard(lang),
        )
