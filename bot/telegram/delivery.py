"""Getting messages to the user: HTML, paper tag, split at 4096, retried on network trouble.

`RetryAfter` (flood control) is handled by PTB's `AIORateLimiter` (configured with
retries in `bot.app`); here we retry network errors and time-outs. A time-out may hide a
delivered message, so a retried notice can at worst arrive twice — never be lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, CallbackQuery, ForceReply, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.domain import OrderRecord
from bot.services.announce import NoticeUndeliverable
from bot.services.markets import MarketDirectory
from bot.services.self_trade import SelfTradeWatch
from bot.telegram import keyboards, render, render_orders
from bot.telegram.i18n import t

log = logging.getLogger(__name__)

T = TypeVar("T")

SEND_ATTEMPTS = 4
FIRST_BACKOFF = 0.5


async def with_retries(call: Callable[[], Awaitable[T]], attempts: int = SEND_ATTEMPTS) -> T:
    delay = FIRST_BACKOFF
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == attempts:
                raise
            wait = exc.retry_after
            seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            await asyncio.sleep(seconds + 0.1)
        except (BadRequest, Forbidden):
            raise
        except NetworkError:
            if attempt == attempts:
                raise
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


async def send_html(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    lang: str,
    paper: bool,
    reply_markup: InlineKeyboardMarkup | ForceReply | None = None,
) -> Message:
    """Send ``text`` (split if long); the keyboard goes on the last part."""
    chunks = render.split_message(render.with_paper_tag(text, lang, paper))
    sent: Message | None = None
    for index, chunk in enumerate(chunks):
        markup = reply_markup if index == len(chunks) - 1 else None

        async def call(
            chunk: str = chunk, markup: InlineKeyboardMarkup | ForceReply | None = markup
        ) -> Message:
            return await bot.send_message(
                chat_id,
                chunk,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_web_page_preview=True,
            )

        sent = await with_retries(call)
    if sent is None:  # pragma: no cover - split_message always yields a chunk
        raise RuntimeError("nothing to send")
    return sent


async def send_png(
    bot: Bot, chat_id: int, png: bytes, *, caption: str, lang: str, paper: bool
) -> Message:
    """Send a PNG image (``sendPhoto``, multipart) with an HTML caption."""

    async def call() -> Message:
        return await bot.send_photo(
            chat_id,
            InputFile(png, filename="chart.png"),
            caption=render.with_paper_tag(caption, lang, paper),
            parse_mode=ParseMode.HTML,
        )

    return await with_retries(call)


async def edit_html(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    *,
    lang: str,
    paper: bool,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Edit a message in place; no keyboard unless given (so buttons disappear)."""
    body = render.split_message(render.with_paper_tag(text, lang, paper))[0]

    async def call() -> object:
        return await bot.edit_message_text(
            body,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=reply_markup,
            disable_web_page_preview=True,
        )

    try:
        await with_retries(call)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def edit_markup(
    bot: Bot, chat_id: int, message_id: int, reply_markup: InlineKeyboardMarkup
) -> None:
    """Swap a message's buttons (a picker's page); an unchanged keyboard is not an error."""

    async def call() -> object:
        return await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=message_id, reply_markup=reply_markup
        )

    try:
        await with_retries(call)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def answer_quietly(
    query: CallbackQuery, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer a button press; a press Telegram no longer accepts answers for ("query is too
    old", a redelivered update) must not stop what the press asked for."""
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramError as exc:
        log.info("callback answer not delivered: %s", type(exc).__name__)


class TelegramNotifier:
    """Announces final orders to the chat they came from (the fill watcher's `Notifier`)."""

    def __init__(
        self,
        bot: Bot,
        markets: MarketDirectory | None = None,
        self_trade: SelfTradeWatch | None = None,
    ) -> None:
        self._bot = bot
        self._markets = markets
        self._self_trade = self_trade

    async def announce(self, order: OrderRecord) -> None:
        name = None
        if self._markets is not None:
            name = (await self._markets.names()).name(order.market.partition("-")[2])
        text = render.fill_notice(order.lang, order, name)
        if self._self_trade is not None:
            makers = await self._self_trade.report(order.identifier)
            if makers is not None:
                text = f"{text}\n{render.self_trade_makers(order.lang, order.market, makers)}"
        markup = None
        rest = render_orders.protected_rest(order)
        if rest is not None:
            # A protected sell left some unsold: say so and offer a preview for the rest.
            line, data, volume, currency = rest
            text = f"{text}\n{t(order.lang, 'protected_rest_notice', **line)}"
            if data is not None:
                markup = keyboards.rest_keyboard(order.lang, data, volume, currency)
        try:
            # The paper tag is already inside the notice's first line (the phone's banner).
            await send_html(
                self._bot,
                order.chat_id,
                text,
                lang=order.lang,
                paper=False,
                reply_markup=markup,
            )
        except Forbidden as exc:
            raise NoticeUndeliverable(type(exc).__name__) from exc
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise NoticeUndeliverable("chat not found") from exc
            raise


async def delete_quietly(bot: Bot, chat_id: int, message_id: int) -> bool:
    """Delete a message (a one-time code the user sent); False if Telegram refused."""
    try:
        await with_retries(lambda: bot.delete_message(chat_id, message_id))
    except TelegramError as exc:
        log.warning("could not delete a message: %s", type(exc).__name__)
        return False
    return True
