"""/pnl: realised profit and loss by day and month, as text and as a bar chart. Thin: the
figures come from `bot.services.profit`."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.services.profit import ChartFailed, PeriodPnl, ProfitReport
from bot.telegram import render
from bot.telegram.context import services
from bot.telegram.delivery import send_png
from bot.telegram.handlers.common import reply, user_lang
from bot.telegram.i18n import t

log = logging.getLogger(__name__)


def _rows(lang: str, periods: tuple[PeriodPnl, ...]) -> list[str]:
    return [
        t(
            lang,
            "pnl_row",
            period=p.period,
            amount=render.signed_money(lang, p.amount, p.quote),
            count=p.sells,
        )
        for p in reversed(periods)  # newest first
    ]


def report_text(lang: str, report: ProfitReport) -> str:
    lines = [t(lang, "pnl_title", zone=report.zone)]
    if report.empty:
        lines.append(t(lang, "pnl_none"))
    else:
        lines += ["", t(lang, "pnl_by_day"), *_rows(lang, report.days)]
        lines += ["", t(lang, "pnl_by_month"), *_rows(lang, report.months)]
        total = ", ".join(render.signed_money(lang, v, q) for q, v in report.totals)
        lines += ["", t(lang, "pnl_total", amount=total)]
    if report.unknown_basis:
        lines.append(t(lang, "pnl_unknown_basis", count=report.unknown_basis))
    return "\n".join(lines)


async def pnl_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    chat = update.effective_chat
    if chat is None:
        return
    lang = user_lang(update, context)
    if context.args:
        await reply(update, context, t(lang, "pnl_usage"))
        return
    report = await svc.profit.report()
    await reply(update, context, report_text(lang, report))
    if report.empty:
        return
    with contextlib.suppress(TelegramError):  # only a hint that a photo is coming
        await context.bot.send_chat_action(chat.id, ChatAction.UPLOAD_PHOTO)
    try:
        png = await svc.profit.chart(report, rising_red=lang == "ko")
    except ChartFailed:
        log.warning("pnl chart not drawn", exc_info=True)
        await reply(update, context, t(lang, "pnl_chart_failed"))
        return
    if png is not None:
        caption = t(lang, "pnl_chart_caption")
        await send_png(context.bot, chat.id, png, caption=caption, lang=lang, paper=svc.paper)
