"""The gate in front of every handler: allowed users, private chats, nothing else.

Registered as a `TypeHandler(Update, ...)` in group -1, so it runs before any command or
button handler and before any Upbit call or database write. For strangers and non-private
chats it never waits on Telegram: the one call it may want goes to the `StrangerLane`
(`bot.telegram.strangers`): a stranger gets one short reply an hour in their private chat,
nothing is ever said in a group or channel, and the bot leaves every group and channel it
finds itself in (on any update from there, ``my_chat_member`` included).
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.telegram.context import SETTINGS_KEY, services
from bot.telegram.delivery import answer_quietly
from bot.telegram.i18n import lang_of, t
from bot.telegram.keyboards import CONFIRM_PATTERN
from bot.telegram.render import with_paper_tag
from bot.telegram.strangers import Call, StrangerLane

log = logging.getLogger(__name__)

LANE_KEY = "stranger_lane"


def lane(context: ContextTypes.DEFAULT_TYPE) -> StrangerLane:
    found = context.bot_data.get(LANE_KEY)
    if not isinstance(found, StrangerLane):
        found = context.bot_data[LANE_KEY] = StrangerLane()
    return found


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    chat = update.effective_chat
    svc = services(context)
    allowed = svc.allowed_user_ids
    if chat is not None and chat.type != ChatType.PRIVATE:
        _leave(update, context, chat.id)
        log.warning(
            "non-private chat refused user_id=%s chat_type=%s",
            user.id if user else None,
            chat.type,
        )
        if user is not None and user.id in allowed:
            # Nothing is said in the group; the owner hears why, privately.
            lang = lang_of(user.language_code)
            if update.callback_query is not None:
                await answer_quietly(
                    update.callback_query, t(lang, "private_only"), show_alert=True
                )
            else:
                lane(context).reply(user.id, _private_note(context, user.id, lang, svc.paper))
        raise ApplicationHandlerStop
    if update.my_chat_member is not None:
        raise ApplicationHandlerStop  # a user blocked or restarted the bot: nothing to say
    if user is None:
        log.warning("update without a user refused (update_id=%s)", update.update_id)
        raise ApplicationHandlerStop
    lang = lang_of(user.language_code)
    if user.id not in allowed:
        log.warning("unauthorized user refused user_id=%s", user.id)
        refusal = _refusal(update, t(lang, "not_allowed"), lang, svc.paper)
        if refusal is not None:
            lane(context).reply(user.id, refusal)
        raise ApplicationHandlerStop
    if context.user_data is not None and not reads_own_settings(update):
        # Read fresh for every update: another process may have changed it.
        context.user_data[SETTINGS_KEY] = await svc.settings.get(user.id)


def reads_own_settings(update: Update) -> bool:
    """A Confirm press reads the user's settings itself, beside placing the order: every
    millisecond before the order counts, and its first words come after it."""
    query = update.callback_query
    return query is not None and re.match(CONFIRM_PATTERN, query.data or "") is not None


def _refusal(update: Update, text: str, lang: str, paper: bool) -> Call | None:
    """The short refusal for this update (None: nothing to answer, e.g. an edit)."""
    query = update.callback_query
    if query is not None:

        async def answer() -> object:
            return await query.answer(text, show_alert=True)

        return answer
    message = update.message
    if message is not None:

        async def reply() -> object:
            return await message.reply_text(
                with_paper_tag(text, lang, paper), parse_mode=ParseMode.HTML
            )

        return reply
    return None


def _private_note(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, lang: str, paper: bool
) -> Call:
    async def note() -> object:
        return await context.bot.send_message(
            user_id,
            with_paper_tag(t(lang, "private_only"), lang, paper),
            parse_mode=ParseMode.HTML,
        )

    return note


def _leave(update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    member = update.my_chat_member
    if member is not None and member.new_chat_member.status in ("left", "kicked"):
        return  # already out

    async def leave() -> object:
        log.info("leaving non-private chat chat_id=%s", chat_id)
        return await context.bot.leave_chat(chat_id)

    # Added (again) to the chat: leave even if it was left within the hour.
    lane(context).leave(chat_id, leave, again=member is not None)
