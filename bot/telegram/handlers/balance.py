"""/balance and the buttons that need no typing: Refresh, the pages of a large /balance, the
coin picker (its pages and coins), a coin's amounts and "another amount". Thin: the figures
come from `bot.services.portfolio`, what a message shows from `bot.telegram.balance_view`; a
chosen amount opens the usual preview (`handlers.sell`)."""

from __future__ import annotations

import logging

from telegram import ForceReply, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.services.amounts import parse_asset
from bot.services.errors import ServiceError
from bot.services.portfolio import Holding, Portfolio
from bot.telegram import render
from bot.telegram.balance_view import BalanceView, balance_view
from bot.telegram.context import services
from bot.telegram.delivery import answer_quietly, edit_html, edit_markup, send_html
from bot.telegram.handlers.common import reply, user_lang, user_settings
from bot.telegram.handlers.sell import open_preview
from bot.telegram.i18n import t
from bot.telegram.keyboards import (
    FROM_BALANCE,
    MARKET_IN_TEXT,
    amounts_keyboard,
    balance_keyboard,
    pages,
    parse_balance_page,
    parse_other_amount,
    parse_page,
    parse_pick,
    sell_picker,
)

log = logging.getLogger(__name__)


def quick_sell_percents(context: ContextTypes.DEFAULT_TYPE) -> tuple[int, ...]:
    """The percentages of every quick-sell and amount button (the user's, from /settings)."""
    return user_settings(context).quick_sell_percents


async def _portfolio(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Portfolio | None:
    """The holdings now, or None after telling the user why not."""
    try:
        return await services(context).portfolio.portfolio()
    except ServiceError as exc:
        await reply(update, context, render.refusal(user_lang(update, context), exc))
        return None


async def balance_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    lang = user_lang(update, context)
    chat = update.effective_chat
    if chat is None:
        return
    portfolio = await _portfolio(update, context)
    if portfolio is None:
        return
    view = balance_view(lang, portfolio, quick_sell_percents(context), paper=svc.paper)
    await send_html(
        context.bot, chat.id, view.text, lang=lang, paper=svc.paper, reply_markup=view.keyboard
    )


async def _show_in_place(
    update: Update, context: ContextTypes.DEFAULT_TYPE, view: BalanceView
) -> None:
    """Put ``view`` in the pressed message; a message Telegram no longer lets us edit (gone,
    too old) gets a new one instead."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    svc = services(context)
    lang = user_lang(update, context)
    if query.message is not None:
        try:
            await edit_html(
                context.bot,
                chat.id,
                query.message.message_id,
                view.text,
                lang=lang,
                paper=svc.paper,
                reply_markup=view.keyboard,
            )
            return
        except BadRequest as exc:
            log.info("balance message not editable, sending anew: %s", exc.message)
    await send_html(
        context.bot, chat.id, view.text, lang=lang, paper=svc.paper, reply_markup=view.keyboard
    )


async def refresh_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🔄 under /balance: the holdings read again, in place (the first page of a large
    account)."""
    query = update.callback_query
    if query is None:
        return
    lang = user_lang(update, context)
    portfolio = await _portfolio(update, context)
    if portfolio is None:
        await answer_quietly(query)
        return
    await answer_quietly(query, t(lang, "refreshed"))
    view = balance_view(
        lang, portfolio, quick_sell_percents(context), paper=services(context).paper
    )
    await _show_in_place(update, context, view)


async def balance_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀ / 🔄 n/N / ▶ under a large /balance: that page, read afresh, in the same message.
    A page that is gone shows the nearest one; an account that shrank shows whole."""
    query = update.callback_query
    if query is None:
        return
    lang = user_lang(update, context)
    asked = parse_balance_page(query.data)
    if asked is None:
        await answer_quietly(query, t(lang, "balance_page_unknown"), show_alert=True)
        return
    portfolio = await _portfolio(update, context)
    if portfolio is None:
        await answer_quietly(query)
        return
    view = balance_view(
        lang,
        portfolio,
        quick_sell_percents(context),
        paper=services(context).paper,
        page=asked.number,
    )
    if view.page is None:
        note: str | None = t(lang, "balance_page_whole")
    elif view.page.moved:
        note = t(lang, "balance_page_moved", page=view.page.number, pages=view.page.pages)
    else:
        note = t(lang, "refreshed") if asked.again else None
    await answer_quietly(query, note)
    await _show_in_place(update, context, view)


async def sell_picker_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sell alone: the sellable coins as buttons."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = user_lang(update, context)
    portfolio = await _portfolio(update, context)
    if portfolio is None:
        return
    if not portfolio.sellable:
        await reply(update, context, t(lang, "sell_pick_none"))
        return
    await send_html(
        context.bot,
        chat.id,
        render.sell_pick(lang, 1, pages(portfolio)),
        lang=lang,
        paper=services(context).paper,
        reply_markup=sell_picker(lang, portfolio),
    )


async def sell_entry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sell: alone, the coin picker; with only a coin (``/sell 비트코인``), its amounts;
    otherwise the preview."""
    args = list(context.args or [])
    if not args:
        await sell_picker_command(update, context)
        return
    if len(args) == 1 and (holding := await _one_coin(context, args[0])) is not None:
        await sell_amounts(update, context, holding)
        return
    await open_preview(update, context, args)


async def _one_coin(context: ContextTypes.DEFAULT_TYPE, text: str) -> Holding | None:
    """The sellable holding ``text`` names (ticker, market or name), or None."""
    try:
        currency, market = parse_asset(text, await services(context).markets.names())
        portfolio = await services(context).portfolio.portfolio()
    except ServiceError:
        return None  # the preview path says what is wrong
    return next(
        (
            h
            for h in portfolio.sellable
            if h.currency == currency and (market is None or h.market == market)
        ),
        None,
    )


async def sell_amounts(
    update: Update, context: ContextTypes.DEFAULT_TYPE, holding: Holding
) -> None:
    """A coin's amount buttons (percentages, another amount) as a new message."""
    chat = update.effective_chat
    if chat is None or holding.market is None:
        return
    lang = user_lang(update, context)
    await send_html(
        context.bot,
        chat.id,
        render.sell_amounts(lang, holding),
        lang=lang,
        paper=services(context).paper,
        reply_markup=amounts_keyboard(
            lang, holding.market, holding.currency, quick_sell_percents(context)
        ),
    )


def _held(portfolio: Portfolio, market: str) -> Holding | None:
    return next((h for h in portfolio.sellable if h.market == market), None)


async def pick_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A coin in a picker: its amounts (in place under /sell, as a new message under
    /balance so the holdings stay on screen)."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    pick = parse_pick(query.data)
    lang = user_lang(update, context)
    if pick is None:
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    portfolio = await _portfolio(update, context)
    if portfolio is None:
        await answer_quietly(query)
        return
    holding = _held(portfolio, pick.market)
    if holding is None or holding.market is None:
        currency = pick.market.partition("-")[2]
        await answer_quietly(query, t(lang, "not_held", currency=currency), show_alert=True)
        return
    await answer_quietly(query)
    if pick.origin == FROM_BALANCE or query.message is None:
        await sell_amounts(update, context, holding)
        return
    await edit_html(
        context.bot,
        chat.id,
        query.message.message_id,
        render.sell_amounts(lang, holding),
        lang=lang,
        paper=services(context).paper,
        reply_markup=amounts_keyboard(
            lang, holding.market, holding.currency, quick_sell_percents(context)
        ),
    )


async def page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀ / ▶ in a picker: another page of coins, same message."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    page = parse_page(query.data)
    lang = user_lang(update, context)
    if page is None or query.message is None:
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    portfolio = await _portfolio(update, context)
    await answer_quietly(query)
    if portfolio is None:
        return
    if page.origin == FROM_BALANCE:
        percents = quick_sell_percents(context)
        view = balance_view(lang, portfolio, percents, paper=services(context).paper)
        if view.page is not None:
            # The account no longer fits one message (or the message is from before pages):
            # its first page replaces the picker.
            await _show_in_place(update, context, view)
            return
        keyboard = balance_keyboard(lang, portfolio, percents, page.page)
        await edit_markup(context.bot, chat.id, query.message.message_id, keyboard)
        return
    number = min(page.page, pages(portfolio))
    await edit_html(
        context.bot,
        chat.id,
        query.message.message_id,
        render.sell_pick(lang, number, pages(portfolio)),
        lang=lang,
        paper=services(context).paper,
        reply_markup=sell_picker(lang, portfolio, number),
    )


async def other_amount_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "Another amount": ask for it; the reply to that question opens the preview."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    market = parse_other_amount(query.data)
    lang = user_lang(update, context)
    if market is None:
        await answer_quietly(query, t(lang, "claim_not_found"), show_alert=True)
        return
    await answer_quietly(query)
    markets = await services(context).markets.names()
    currency = market.partition("-")[2]
    await send_html(
        context.bot,
        chat.id,
        t(
            lang,
            "sell_ask_amount",
            name=render.coin_name(lang, markets.name(currency), currency),
            market=market,
        ),
        lang=lang,
        paper=services(context).paper,
        reply_markup=ForceReply(
            selective=True, input_field_placeholder=t(lang, "sell_ask_placeholder")
        ),
    )


async def amount_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to "how much?": the market comes from the question, the amount from the
    reply, through the same strict parser as ``/sell``."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    asked = message.reply_to_message
    if asked is None or asked.from_user is None or asked.from_user.id != context.bot.id:
        return
    found = MARKET_IN_TEXT.search(asked.text or "")
    if found is None:
        return
    await open_preview(update, context, [found.group(1), *message.text.split()])
