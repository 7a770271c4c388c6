"""Every sentence the bot says, one catalogue per language.

Templates are HTML (Telegram's HTML parse mode); `t()` escapes every value it fills in.
Korean for a ``language_code`` starting with ``ko``, English otherwise.
"""

from __future__ import annotations

import html
from typing import Any

from bot.services.settings import Language, resolve_lang

EN: dict[str, str] = {
    "paper_tag": "🧪 <b>PAPER</b> (simulated, no real orders)",
    "not_allowed": "This bot is private.",
    "private_only": "For your safety this bot only works in a private chat.",
    "upbit_blocked": (
        "⛔ Upbit blocked the bot's {group} requests (too many requests): "
        "{seconds} s left. None are sent until then."
    ),
    "error_generic": "Something went wrong. Check /orders before trying again.",
    "help": (
        "<b>Upbit sell bot</b> — sell your Upbit holdings from this chat, safely.\n"
        "Every sell shows a preview first; nothing is sold until you tap <b>Confirm</b>.\n"
        "\n"
        "/balance — holdings, value and profit/loss, with quick-sell buttons\n"
        "/sell — pick a coin and an amount with buttons, no typing\n"
        "/sell BTC 50% — sell half of your BTC (also <code>Bitcoin all</code>, <code>ETH "
        "half</code>, <code>0.0123</code>, <code>50000 krw</code>, <code>KRW-ETH 10%</code>)\n"
        "/sell BTC 50% @ 101,000,000 — a limit sell that waits for your price\n"
        "/sell BTC all slip 1% — a protected sell: nothing below the best bid −1%\n"
        "/open — open orders on Upbit, each with a cancel button\n"
        "/cancel — drop a pending preview\n"
        "/orders 5 — your last orders\n"
        "/order UUID — one order, refreshed from Upbit\n"
        "/status — bot and Upbit status, API key expiry\n"
        "/export — the whole order log as CSV\n"
        "/alert BTC &gt;= 110,000,000 — a price alert (also <code>/alert BTC +20%</code>); "
        "/alerts lists them\n"
        "/pnl — realised profit/loss by day and month, with a chart\n"
        "/settings — language and quick-sell buttons\n"
        "/lock — refuse every sell until /unlock (which needs your one-time code when set)\n"
        "/help — this message"
    ),
    "cmd_balance": "Holdings and value",
    "cmd_sell": "Sell: /sell, or /sell BTC 50%",
    "cmd_cancel": "Drop a pending preview",
    "cmd_orders": "Recent orders",
    "cmd_order": "One order: /order UUID",
    "cmd_status": "Bot and Upbit status",
    "cmd_export": "Order log as CSV",
    "cmd_help": "How to use this bot",
    # /sell refusals
    "usage": (
        "Usage: <code>/sell COIN AMOUNT</code>, or just /sell to pick with buttons.\n"
        "Examples: <code>/sell BTC 50%</code>, <code>/sell Bitcoin all</code>, <code>/sell ETH "
        "half</code>, <code>/sell XRP 100</code>, <code>/sell BTC 50000 krw</code>"
    ),
    "too_long": "That is too long to be a sell request. Try <code>/sell BTC 50%</code>.",
    "bad_asset": (
        "I don't know the coin <code>{asset}</code>. Write its ticker (BTC), market code "
        "(KRW-BTC) or name (Bitcoin)."
    ),
    "bad_amount": (
        "I can't read the amount <code>{amount}</code>. Write a percentage (<code>50%</code>), "
        "<code>all</code>, <code>half</code>, a quantity (<code>0.0123</code>) or the KRW "
        "amount to receive (<code>50000 krw</code>, <code>50,000krw</code>)."
    ),
    "percent_range": (
        "The percentage must be above 0% and at most 100% (got {amount}). For example "
        "<code>50%</code>, or <code>all</code>."
    ),
    "amount_not_positive": (
        "The amount must be more than zero (got {amount}). For example <code>0.01</code>, "
        "<code>50%</code> or <code>50000 krw</code>."
    ),
    "not_held": "You hold no {currency} that can be sold. /balance shows what you hold.",
    "market_unknown": "The market {market} does not exist on Upbit.",
    "market_inactive": "{market} is not trading right now.",
    "no_market_sell": "{market} does not accept market sell orders.",
    "quote_mismatch": (
        "This market is quoted in {expected}, not {quote}: write the amount in {expected}, or a "
        "percentage."
    ),
    "volume_zero": "That amount of {currency} rounds down to zero at 8 decimals.",
    "over_balance": (
        "You asked to sell {volume} {currency} but only {available} {currency} is available. "
        "<code>all</code> sells everything available."
    ),
    "book_too_thin": (
        "Upbit refuses a market sell larger than the bids of the order book's 30 best "
        "levels. {market} can take at most <b>{depth} {currency}</b> now (about "
        "{depth_value}); you asked for {volume} {currency}. Sell less, or in parts."
    ),
    "below_min_total": (
        "Upbit's minimum order on this market is {min_total}; this sell is worth about {value}."
    ),
    "above_max_total": (
        "Upbit's maximum order on this market is {max_total}; this sell is worth about {value}. "
        "Sell in parts."
    ),
    # exchange errors
    "err_insufficient_funds": "Upbit says the balance is not enough for this order.",
    "err_under_min_total": "Upbit says the order is below the market's minimum total.",
    "err_over_max_total": "Upbit says the order is above the market's maximum total.",
    "err_invalid_volume": "Upbit did not accept the volume of this order.",
    "err_ip_not_allowed": (
        "Upbit refused: this server's IP address is not on the API key's allowlist."
    ),
    "err_key_expired": "Upbit refused: the API key has expired. Issue a new key on upbit.com.",
    "err_out_of_scope": "Upbit refused: the API key lacks a needed permission.",
    "err_auth": "Upbit refused the API key. Check UPBIT_ACCESS_KEY and UPBIT_SECRET_KEY.",
    "err_rate_limited": "Upbit is rate-limiting requests. Please wait a moment and try again.",
    "err_market_offline": "The market is offline on Upbit (maintenance). Try again later.",
    "err_under_min_total_market_ask": (
        "Upbit refused: below the market's minimum order. Upbit values a market sell at "
        "volume × the best bid."
    ),
    "err_thirdparty_agreement": (
        "Upbit refused: orders on BTC and USDT markets need a one-time consent. Open a BTC or "
        "USDT market in Upbit's app or website, accept the consent it asks for, then try "
        "again."
    ),
    "err_market_not_found": "Upbit says the market {market} does not exist.",
    "err_duplicated_identifier": (
        "Upbit says this order's id was already used. I'm checking whether the order exists; "
        "no second order will be sent."
    ),
    "err_order_not_found": "Upbit has no such order.",
    "smp_warn_cancel_maker": (
        "⚠️ This sell would meet {count} open buy order(s) of yours on {market} (up to "
        "{price}, {volume} {currency} left). Self-trade prevention "
        "(<code>cancel_maker</code>) will cancel them."
    ),
    "smp_warn_cancel_taker": (
        "⚠️ This sell would meet {count} open buy order(s) of yours on {market} (up to "
        "{price}, {volume} {currency} left). Self-trade prevention "
        "(<code>cancel_taker</code>) will stop this sell there: less may be sold; your buy "
        "orders stay."
    ),
    "smp_warn_reduce": (
        "⚠️ This sell would meet {count} open buy order(s) of yours on {market} (up to "
        "{price}, {volume} {currency} left). Self-trade prevention "
        "(<code>reduce</code>) will shrink this sell and those buy orders by the overlap: "
        "less may be sold."
    ),
    "smp_warn_none": (
        "⚠️ This sell would meet {count} open buy order(s) of yours on {market} (up to "
        "{price}, {volume} {currency} left). Self-trade prevention is off "
        "(<code>none</code>): you may trade with yourself and pay fees on both sides."
    ),
    "fill_smp_prevented": (
        "Self-trade prevention ({mode}) cut {prevented} {currency} from this sell: it met "
        "your own buy orders."
    ),
    "fill_smp_makers": (
        "Self-trade prevention ({mode}) cancelled or reduced {count} of your own buy order(s) "
        "on {market} that this sell met: {volume} {currency} of them will not be bought."
    ),
    "err_order_rejected": "Upbit rejected the order.",
    "err_exchange": "Upbit could not be reached. Nothing was sold. Try again shortly.",
    "err_not_sent": "The order could not be sent to Upbit. Nothing was sold.",
    "err_not_sent_retry": (
        "Something went wrong on our side before the order was sent: nothing was sent to "
        "Upbit and nothing was sold. Start again with /sell."
    ),
    # confirmation
    "claim_not_found": "This preview is unknown. Start again with /sell.",
    "claim_not_owner": "This preview belongs to someone else.",
    "claim_expired": "This preview has expired. Nothing was sold. Start again with /sell.",
    "claim_already_confirmed": "Already confirmed — one order only.",
    "claim_cancelled": "This preview was cancelled. Nothing was sold.",
    "balance_changed": (
        "Your available {currency} changed: the preview had {volume}, now {available} is "
        "available. Nothing was sold. Start again with /sell."
    ),
    "preview": (
        "<b>Sell preview — {market}</b>{name}\n"
        "{warning}Volume: <b>{volume} {currency}</b> ({share}% of {available} available)\n"
        "Best bid: {best_bid}\n"
        "Est. average price: {avg_price}\n"
        "Est. proceeds: {gross}\n"
        "Fee ({fee_rate}%): {fee}\n"
        "Est. net proceeds: <b>{net}</b>\n"
        "{pnl}Price impact: {impact}%\n"
        "Market order: the final price may differ.\n"
        "Confirm before {expires} ({seconds} s)."
    ),
    "btn_confirm": "✅ Confirm sell",
    "btn_cancel": "✖ Cancel",
    "placing": "Placing the order…",
    "placed": (
        "<b>Order placed</b> — {market}, sell {volume} {currency}\n"
        "UUID: <code>{uuid}</code>\nYou'll get a message when it fills."
    ),
    "failed": "<b>Order not placed</b> — {market}, {volume} {currency}\n{reason}",
    "unknown": (
        "<b>Order sent, outcome not yet known</b> — {market}, {volume} {currency}\n"
        "Upbit did not answer in time. I'm checking by its id <code>{identifier}</code> and "
        "will message you; no second order will be sent."
    ),
    "cancelled": "Cancelled. Nothing was sold.",
    "cancelled_none": "There is no pending preview to cancel.",
    "cancelled_n": "Cancelled {count} pending preview(s). Nothing was sold.",
    "expired": "<b>Preview expired</b> — {market}, {volume} {currency}. Nothing was sold.",
    # fill notices
    "fill_done": (
        "✅ {mark}<b>Sold</b> {executed} {currency} · received {net}\n"
        "{name}{market}, {kind} sell filled\n"
        "Executed: {executed} {currency}\n"
        "Average price: {avg_price}\n"
        "Gross proceeds: {gross}\n"
        "Fee: {fee}\n"
        "Net received: <b>{net}</b>\n"
        "{pnl}UUID: <code>{uuid}</code>"
    ),
    "fill_partial": (
        "⚠️ {mark}<b>Partially sold</b> {executed} {currency} · received {net}\n"
        "{name}{market}, {kind} sell partly filled\n"
        "Executed: {executed} of {requested} {currency} (the rest was not sold)\n"
        "Average price: {avg_price}\n"
        "Gross proceeds: {gross}\n"
        "Fee: {fee}\n"
        "Net received: <b>{net}</b>\n"
        "{pnl}UUID: <code>{uuid}</code>"
    ),
    "fill_none": (
        "❌ {mark}<b>Order closed without a fill</b> · {requested} {currency}\n"
        "Nothing was sold. {name}{market}\n"
        "UUID: <code>{uuid}</code>"
    ),
    "fill_failed": (
        "❓ {mark}<b>Order not found at Upbit</b> · {requested} {currency}\n"
        "{name}{market}: Upbit has said several times over minutes that it has no order with "
        "id <code>{identifier}</code>, so it was most likely never created. Please check your "
        "Upbit account; I'll keep looking for a day and message you if it turns up."
    ),
    "notice_undeliverable": "notice not delivered (bot blocked?)",
    "price_dropped": (
        "The price fell since the preview: you would now receive about {new} instead of "
        "{old} ({drop}% less; at most {limit}% is allowed). Nothing was sent to Upbit. "
        "A fresh preview follows."
    ),
    "fill_refused": (
        "❌ {mark}<b>Order not placed</b> · {requested} {currency} · nothing sold\n"
        "{name}{market}. Nothing was sold.\n"
        "Upbit said: {error}"
    ),
    # limit and protected sells (/sell … @ PRICE, /sell … slip N%)
    "bad_price": (
        "I can't read the price <code>{price}</code>. Write it like "
        "<code>@ 101,000,000</code> or <code>@0.0123</code>."
    ),
    "price_not_positive": "The price must be more than zero (got {price}).",
    "price_too_long": (
        "The price <code>{price}</code> has too many digits (at most 15 before and 8 after "
        "the decimal point)."
    ),
    "bad_slip": "Write the slip as a percentage, e.g. <code>slip 1%</code> (got <code>{slip}</code>).",
    "slip_range": "The slip must be from {low}% to {high}% (got {slip}).",
    "tail_conflict": (
        "Use either a price (<code>@ 101,000,000</code>) or a slip (<code>slip 1%</code>), "
        "not both."
    ),
    "no_limit_sell": "{market} does not accept limit sell orders.",
    "thin_book_hint": (
        "A protected sell sells what the book takes above a floor: "
        "<code>/sell {currency} all slip 1%</code>. A limit sell waits for your price: "
        "<code>/sell {currency} all @ PRICE</code>."
    ),
    "preview_limit": (
        "<b>Limit sell preview — {market}</b>{name}\n"
        "{warning}Volume: <b>{volume} {currency}</b> ({share}% of {available} available)\n"
        "Limit price: <b>{price}</b>{rounded}\n"
        "Best bid now: {best_bid}\n"
        "{now_line}"
        "If all of it sells: {gross}, fee ({fee_rate}%) {fee}, net <b>{net}</b>\n"
        "{pnl}"
        "The order stays on Upbit's book until it fills or you cancel it in /open; "
        "I'll message you once when it is done.\n"
        "Confirm before {expires} ({seconds} s)."
    ),
    "limit_rounded": " (rounded up from {requested} to the market's price step of {tick})",
    "limit_fills_now": "Sells at once to the current bids: {fillable} {currency}\n",
    "preview_protected": (
        "<b>Protected sell preview — {market}</b>{name}\n"
        "{warning}Volume: <b>{volume} {currency}</b> ({share}% of {available} available)\n"
        "Best bid: {best_bid}\n"
        "Floor: <b>{price}</b> (best bid −{slip}%, rounded up to the price step "
        "{tick}): nothing sells below it.\n"
        "The book takes now: {fillable} {currency} for about {gross}, "
        "fee ({fee_rate}%) {fee}, net <b>{net}</b>\n"
        "{rest_line}"
        "What cannot sell at once at the floor or better is not sold (IOC); I'll tell you "
        "and offer to sell the rest.\n"
        "Confirm before {expires} ({seconds} s)."
    ),
    "protected_rest": "⚠️ The book is thinner than the floor allows: about {rest} {currency} would stay unsold.\n",
    "protected_rest_notice": (
        "Left unsold: {rest} {currency} (the book above the floor of {price} was "
        "thinner than that)."
    ),
    "btn_sell_rest": "Sell the rest ({rest} {currency})",
    "btn_protected_offer": "🛡 Protected sell instead (slip {slip}%)",
    # /open
    "open_title": "<b>Open orders on Upbit</b> (page {page})",
    "open_none": "No open orders on Upbit.",
    "open_row": (
        "{number}{market} · {side} {kind} · {price}\n"
        "  {executed} of {volume} {currency} filled ({progress}%) · since {created}"
    ),
    "open_side_ask": "sell",
    "open_side_bid": "buy",
    "ordtype_limit": "limit",
    "ordtype_market": "market",
    "ordtype_price": "market",
    "ordtype_best": "best price",
    "open_hint": "A button asks before it cancels anything.",
    "btn_open_cancel": "✖ #{number} {market}",
    "btn_prev": "◀ Prev",
    "btn_next": "Next ▶",
    "open_confirm": "<b>Cancel this order?</b>\n{row}\nUUID: <code>{uuid}</code>",
    "btn_cancel_confirm": "✅ Yes, cancel it",
    "btn_cancel_keep": "Keep it",
    "open_cancelled_none": "<b>Order cancelled</b> — nothing of it had been executed.\n{row}",
    "open_cancelled_some": (
        "<b>Order cancelled</b>\n{row}\nWhat had sold stays sold; a message with the figures "
        "follows."
    ),
    "open_cancel_accepted": (
        "<b>Cancel accepted</b>\n{row}\nIf any of it had sold, a message with the figures follows."
    ),
    "open_not_open": "This order is no longer open (filled or cancelled already).",
    "open_kept": "Kept. The order stays open.",
    "open_usage": "Usage: <code>/open</code>, or <code>/open 2</code> for the second page.",
    "placing_cancel": "Cancelling…",
    "open_failed": "<b>Not cancelled.</b> {reason}",
    "open_unavailable": "Upbit could not be asked for the open orders right now. {reason}",
    "cmd_open": "Open orders, with cancel buttons",
    # /balance
    "balance_title": "<b>Your Upbit holdings</b>",
    "balance_cash": "<b>KRW</b> {total} · available {available}{locked}",
    "balance_row": (
        "{title}{marks}\n"
        "  Holding {amount} {currency}{locked}\n"
        "  Avg buy {avg} · now {price}\n"
        "  Value {value} · P/L {pnl} ({rate}%)"
    ),
    "balance_row_unpriced": "<b>{currency}</b>: {amount} {currency}{locked} · no listed market",
    "balance_total": "Total: <b>{total}</b>",
    "balance_empty": "You hold nothing on Upbit.",
    "balance_buttons_hint": "Quick sell opens a preview; nothing is sold without Confirm.",
    # /orders, /order, /export
    "orders_title": "<b>Your last {count} orders</b> (tap one below for details)",
    "orders_none": "No orders yet.",
    "orders_row": "{created} · {market} · {volume} {currency} · <b>{state}</b>\n<code>{uuid}</code>",
    "order_usage": "Usage: <code>/order UUID</code> (copy it from /orders).",
    "order_not_found": "No order of yours with that UUID.",
    "order_detail": (
        "<b>Order {market}</b> — {state}\n"
        "Requested: {requested} {currency}\n"
        "Executed: {executed} {currency}\n"
        "Average price: {avg_price}\n"
        "Gross: {gross} · Fee: {fee} · Net: {net}\n"
        "Created: {created}\n"
        "UUID: <code>{uuid}</code>"
    ),
    "order_stale": "(Upbit could not be reached; showing the last known state.)",
    "orders_usage": "Usage: <code>/orders [N]</code> with N from 1 to 50.",
    "export_caption": "Order log: {count} orders.",
    # /status
    "status": (
        "<b>Status</b>\n"
        "Version: {version}\n"
        "Mode: {mode}\n"
        "Upbit: {upbit}\n"
        "API key: {key}\n"
        "Orders being watched: {watching}\n"
        "Fill tracking: {tracking}"
    ),
    "mode_paper": "PAPER (simulated)",
    "mode_live": "live",
    "upbit_ok": "reachable",
    "upbit_down": "unreachable ({error})",
    "key_none": "n/a",
    "key_expires": "expires {date} ({days} days left)",
    "key_expires_soon": "⚠️ expires {date} — only {days} days left; issue a new key soon",
    "tracking_ws": "WebSocket connected",
    "tracking_polling": "polling (WebSocket down)",
    "tracking_polling_only": "polling (WebSocket off)",
    "state_submitting": "submitting",
    "state_wait": "open",
    "state_watch": "open",
    "state_done": "filled",
    "state_cancel": "closed",
    "state_failed": "failed",
    "unknown_command": "Unknown command. /help lists what I can do.",
    # /settings
    "settings": (
        "<b>Settings</b>\n"
        "Language: {language}\n"
        "Quick-sell buttons: {percents}\n\n"
        "Pick the language with the buttons below. Change the quick-sell buttons with "
        "<code>/settings quick 10 25 50 100</code> (1 to 4 whole percentages)."
    ),
    "settings_usage": (
        "Usage: <code>/settings</code>, <code>/settings lang auto|ko|en</code>, "
        "<code>/settings quick 10 25 50 100</code>"
    ),
    "settings_lang_auto": "Auto",
    "settings_lang_auto_is": "Auto ({name}, from Telegram)",
    "settings_lang_ko": "한국어",
    "settings_lang_en": "English",
    "lang_name": "English",
    "settings_saved": "Saved.",
    "settings_bad_language": "<code>{value}</code> is not a language choice: use auto, ko or en.",
    "settings_bad_percents": (
        "Quick-sell percentages are 1 to 4 whole numbers from 1 to 100, e.g. "
        "<code>/settings quick 10 25 50 100</code> (got <code>{value}</code>)."
    ),
    # /alert, /alerts
    "alert_usage": (
        "Usage: <code>/alert BTC &gt;= 110,000,000</code>, <code>/alert BTC &lt;= 90,000,000</code>, "
        "<code>/alert BTC +20%</code> or <code>/alert BTC -10%</code> (against your average "
        "buy price)."
    ),
    "alert_bad_price": (
        "I can't read the price <code>{price}</code>. Write a number such as 110,000,000 or "
        "0.0123."
    ),
    "alert_price_not_positive": "The price must be more than zero (got {price}).",
    "alert_price_digits": (
        "The price <code>{price}</code> has too many digits (at most {whole} before and "
        "{places} after the decimal point)."
    ),
    "alert_bad_percent": (
        "The change must be between -99% and +1000% and not zero (got <code>{value}</code>)."
    ),
    "alert_no_holding": (
        "A +/-% alert is measured against your average buy price, and you hold no {currency} "
        "with a known average buy price."
    ),
    "alert_already_met": (
        "{market} is already at {price}, so {condition} is met now. The alert was not set."
    ),
    "alert_too_many": "You already have {max} alerts, the most allowed. Delete some in /alerts.",
    "alert_set": "🔔 Alert set: {market} {condition}. Now {price}.",
    "alert_above": "≥ {price}",
    "alert_below": "≤ {price}",
    "alert_percent": "{change}% vs average buy price {basis}: {target}",
    "alerts_title": "<b>Your alerts</b> ({count}/{max})",
    "alerts_none": (
        "You have no alerts. Set one with <code>/alert BTC &gt;= 110,000,000</code> or "
        "<code>/alert BTC +20%</code>."
    ),
    "alert_row": "#{number} {market} {condition}",
    "btn_alert_delete": "🗑 #{number} {market}",
    "alert_deleted": "Alert deleted: {market} {condition}.",
    "alert_gone": "This alert is gone (it fired or was deleted).",
    "alert_fired": (
        "🔔 {coin} {condition}: now {price}\n"
        "{market}. The buttons open a sell preview; nothing is sold without Confirm."
    ),
    "alert_fired_not_held": (
        "🔔 {coin} {condition}: now {price}\n{market}. You hold no {currency} to sell."
    ),
    # /pnl
    "pnl_title": "<b>Realised profit/loss</b> (times in {zone})",
    "pnl_by_day": "<b>By day</b>",
    "pnl_by_month": "<b>By month</b>",
    "pnl_row": "{period}: {amount} (sells: {count})",
    "pnl_total": "Total: {amount}",
    "pnl_none": "No filled sells with a known average buy price yet, so no realised profit or loss.",
    "pnl_unknown_basis": "Sells left out (average buy price unknown): {count}",
    "pnl_chart_caption": "Realised profit/loss by day",
    "pnl_usage": "Usage: <code>/pnl</code> (no arguments): realised profit/loss by day and month.",
    "pnl_chart_failed": "The chart could not be drawn this time; the figures above are complete.",
    "cmd_settings": "Language and quick-sell buttons",
    "cmd_alert": "Price alert: /alert BTC >= 110000000",
    "cmd_alerts": "Your price alerts",
    "cmd_pnl": "Realised profit/loss by day and month",
    "paper_mark": "[PAPER]",
    "amount_needs_won": (
        "Add the unit: <code>{amount}원</code>, or a KRW amount such as <code>50000 krw</code>."
    ),
    "preview_pnl": "Expected realised P/L: <b>{pnl} ({rate}%)</b> vs avg buy {avg}\n",
    "warning_line": "⚠️ Under Upbit's investment warning.\n",
    "fill_pnl": "Realised P/L: <b>{pnl} ({rate}%)</b> vs avg buy {avg}\n",
    "balance_locked": " · {locked} in orders",
    "balance_other_cash": "<b>{currency}</b> {available} available{locked}",
    "mark_dust": " · dust (below the minimum order)",
    "mark_warning": " · ⚠️ investment warning",
    "balance_totals": (
        "Total cost: {cost}\n"
        "Total value: {value}\n"
        "P/L: <b>{pnl} ({rate}%)</b>\n"
        "Total assets: <b>{total}</b>"
    ),
    "balance_pick_hint": (
        "Tap a coin to sell some of it (page {page} of {pages}); nothing is sold without Confirm."
    ),
    "btn_refresh": "🔄 Refresh",
    "balance_page_title": (
        "<b>Your Upbit holdings</b> · page {page} of {pages} "
        "(holdings {rows} of {count}, most valuable first)"
    ),
    "balance_page_rows": "{first}-{last}",
    "balance_page_hint": "◀ ▶ turn the pages; the middle button reads this page again.",
    "balance_page_moved": "Your holdings changed: this is page {page} of {pages}.",
    "balance_page_whole": "Your holdings fit in one message again.",
    "balance_page_unknown": "This button no longer works. Send /balance again.",
    "btn_page_prev": "◀",
    "btn_page_next": "▶",
    "btn_page_at": "🔄 {page}/{pages}",
    "btn_other_amount": "Another amount",
    "refreshed": "Updated.",
    "sell_pick": "<b>Sell</b> — which coin? (page {page} of {pages})",
    "sell_pick_none": (
        "You hold no coin that can be sold right now (dust below the minimum order is left out)."
    ),
    "sell_amounts": (
        "<b>Sell {name}</b> ({market}) — how much?\nAvailable: {available} {currency}"
    ),
    "sell_ask_amount": (
        "How much <b>{name}</b> ({market}) to sell? Reply to this message with an amount, e.g. "
        "<code>25%</code>, <code>all</code>, <code>0.01</code> or <code>50000 krw</code>."
    ),
    "sell_ask_placeholder": "e.g. 25% or 50000 krw",
    # guards: /lock, /unlock, one-time codes, the daily sell limit
    "cmd_lock": "Refuse every sell until /unlock",
    "cmd_unlock": "Allow sells again",
    "lock_on": "🔒 <b>Selling is locked.</b> Every sell is refused until /unlock.",
    "lock_already": "🔒 Selling is already locked. Use /unlock to allow sells again.",
    "unlock_done": "🔓 <b>Selling is unlocked.</b>",
    "unlock_not_locked": "Selling is not locked.",
    "unlock_code_needed": (
        "🔐 Send the current 6-digit code from your authenticator app as a message to unlock "
        "(or <code>/unlock 123456</code>)."
    ),
    "unlock_wrong": "❌ Wrong code. Selling stays locked. Send the current code to try again.",
    "unlock_reused": (
        "This code was already used. Selling stays locked. Wait for the next code in your app "
        "and send that one."
    ),
    "unlock_paused": "Too many wrong codes. Codes are refused until {until}. Selling stays locked.",
    "sell_locked": "🔒 Selling is locked. Nothing was sold. Use /unlock first.",
    "claim_locked": "Selling is locked. Nothing was sold. Use /unlock first.",
    "claim_over_daily_limit": "Daily sell limit reached. Nothing was sold.",
    "over_daily_limit": (
        "<b>Not sold: daily sell limit</b> — {market}, {volume} {currency}\n"
        "This sell (about {value} KRW) would take today's sells above the limit of "
        "{limit} KRW.\n"
        "Left for today: <b>{left} KRW</b> (the day ends at midnight, {zone})."
    ),
    "code_needed": (
        "🔐 <b>Code needed</b> — {market}, {volume} {currency} (about {value} KRW)\n"
        "Send the current 6-digit code from your authenticator app as a message before "
        "{expires}. The bot deletes that message. Three wrong codes cancel this sell."
    ),
    "code_alert": "Send the 6-digit code from your authenticator app.",
    "code_wrong": "❌ Wrong code. Nothing was sold. {tries} tries left before the sell is cancelled.",
    "code_reused": (
        "This code was already used. Nothing was sold. Wait for the next code in your app and "
        "send that one ({tries} tries left)."
    ),
    "code_paused": "Too many wrong codes. Codes are refused until {until}. Nothing was sold.",
    "code_too_many": "❌ <b>Three wrong codes: sell cancelled.</b> Nothing was sold.",
    "code_nothing_waiting": (
        "No sell or /unlock is waiting for a code, so nothing happened (your message was deleted)."
    ),
    "status_guards": "Guards: {lock} · {limit} · {totp}",
    "guard_locked": "🔒 selling locked",
    "guard_unlocked": "selling allowed",
    "guard_limit_off": "no daily limit",
    "guard_limit": "daily limit {limit} ({left} left today)",
    "guard_totp_off": "no one-time code",
    "guard_totp_all": "one-time code for every sell",
    "guard_totp_above": "one-time code above {above}",
}

KO: dict[str, str] = {
    "paper_tag": "🧪 <b>모의 거래</b> — 실제 주문은 나가지 않습니다",
    "not_allowed": "허용된 사용자만 쓸 수 있는 봇입니다.",
    "private_only": "안전을 위해 이 봇은 1:1 대화에서만 동작합니다.",
    "upbit_blocked": (
        "⛔ 요청이 너무 많아 업비트가 봇의 {group} 요청을 차단했습니다. "
        "차단은 {seconds}초 뒤에 풀리며, 그때까지 이 요청은 보내지 않습니다."
    ),
    "error_generic": "문제가 생겼습니다. 다시 시도하기 전에 /orders에서 주문 내역을 확인해 주세요.",
    "help": (
        "<b>업비트 매도 봇</b> — 이 대화에서 업비트 보유자산을 안전하게 매도합니다.\n"
        "모든 매도는 미리보기를 먼저 보여 드리며, <b>확인</b>을 누르기 전에는 매도하지 않습니다.\n"
        "\n"
        "/balance — 보유자산, 평가손익, 빠른 매도 버튼\n"
        "/sell — 버튼으로 코인과 수량을 골라 매도(입력 없이)\n"
        "/sell BTC 50% — BTC 절반 매도(<code>비트코인 전량</code>, <code>ETH 절반</code>, "
        "<code>0.0123</code>, <code>5만원</code>, <code>50,000원</code>, <code>KRW-ETH 10%</code>도 "
        "가능)\n"
        "/sell BTC 50% @ 101,000,000 — 원하는 가격에 지정가 매도\n"
        "/sell BTC all 슬리피지 1% — 보호 매도: 매수 1호가 −1% 아래로는 팔지 않음\n"
        "/open — 업비트 미체결 주문 보기·취소\n"
        "/cancel — 대기 중인 미리보기 취소\n"
        "/orders 5 — 최근 주문\n"
        "/order UUID — 주문 하나를 업비트에서 새로 조회\n"
        "/status — 봇과 업비트 상태, API 키 만료일\n"
        "/export — 전체 주문 기록 CSV\n"
        "/alert BTC &gt;= 110,000,000 — 가격 알림(<code>/alert BTC +20%</code>도 가능), /alerts로 목록 확인\n"
        "/pnl — 일별·월별 실현손익과 차트\n"
        "/settings — 언어와 빠른 매도 버튼\n"
        "/lock — /unlock 전까지 모든 매도 거부(인증 코드를 설정했다면 /unlock에 코드 필요)\n"
        "/help — 이 도움말"
    ),
    "cmd_balance": "보유자산과 평가손익",
    "cmd_sell": "매도: /sell 또는 /sell BTC 50%",
    "cmd_cancel": "대기 중인 매도 미리보기 취소",
    "cmd_orders": "최근 주문 내역",
    "cmd_order": "주문 조회: /order UUID",
    "cmd_status": "봇과 업비트 상태",
    "cmd_export": "주문 내역 CSV 내보내기",
    "cmd_help": "사용법",
    "usage": (
        "사용법: <code>/sell 코인 수량</code> (/sell만 보내면 버튼으로 고를 수 있습니다)\n"
        "예: <code>/sell BTC 50%</code>, <code>/sell 비트코인 전량</code>, <code>/sell ETH 절반</code>, "
        "<code>/sell XRP 100</code>, <code>/sell BTC 5만원</code>"
    ),
    "too_long": "매도 요청으로 보기에는 너무 깁니다. <code>/sell BTC 50%</code>처럼 보내 주세요.",
    "bad_asset": (
        "코인을 찾지 못했습니다: <code>{asset}</code>\n"
        "티커(BTC), 마켓 코드(KRW-BTC), 코인 이름(비트코인) 중 하나로 적어 주세요."
    ),
    "bad_amount": (
        "수량을 읽지 못했습니다: <code>{amount}</code>\n"
        "비율(<code>50%</code>), <code>전량</code>, <code>절반</code>, 코인 수량(<code>0.0123</code>), 받을 "
        "금액(<code>5만원</code>, <code>50,000원</code>, <code>1.5만원</code>) 중 하나로 적어 주세요. 숫자는 반각 "
        "0~9로 적습니다."
    ),
    "percent_range": (
        "비율은 0%보다 크고 100% 이하여야 합니다(입력: {amount}). 예: <code>50%</code>, <code>전량</code>"
    ),
    "amount_not_positive": (
        "0보다 큰 수량을 적어 주세요(입력: {amount}). 예: <code>0.01</code>, <code>50%</code>, <code>5만원</code>"
    ),
    "not_held": "매도할 수 있는 {currency} 보유량이 없습니다. /balance에서 보유 코인을 확인해 주세요.",
    "market_unknown": "업비트에 {market} 마켓이 없습니다.",
    "market_inactive": "{market} 마켓은 지금 거래할 수 없습니다.",
    "no_market_sell": "{market} 마켓은 시장가 매도를 지원하지 않습니다.",
    "quote_mismatch": "이 마켓은 {expected} 마켓입니다({quote} 아님). 금액을 {expected}로 적거나 비율로 적어 주세요.",
    "volume_zero": "그 수량은 소수점 아래 8자리까지 내림하면 0 {currency}입니다. 조금 더 큰 수량을 적어 주세요.",
    "over_balance": (
        "주문가능 수량보다 많습니다. 요청: {volume} {currency}, 주문가능: {available} {currency}. "
        "<code>전량</code>으로 적으면 주문가능 수량을 모두 매도합니다."
    ),
    "book_too_thin": (
        "업비트는 매수 1~30호가 잔량보다 많은 시장가 매도를 받지 않습니다. 지금 {market} 호가로 "
        "매도할 수 있는 최대 수량은 <b>{depth} {currency}</b>(약 {depth_value})입니다. "
        "요청 수량: {volume} {currency}. 수량을 줄이거나 나누어 매도해 주세요."
    ),
    "below_min_total": "이 마켓의 최소 주문금액은 {min_total}입니다. 이번 매도는 약 {value}입니다.",
    "above_max_total": "이 마켓의 최대 주문금액은 {max_total}입니다. 이번 매도는 약 {value}이므로 나누어 매도해 주세요.",
    "err_insufficient_funds": "업비트: 주문가능 잔고가 부족합니다.",
    "err_under_min_total": "업비트: 최소 주문금액보다 작습니다.",
    "err_over_max_total": "업비트: 최대 주문금액을 넘습니다.",
    "err_invalid_volume": "업비트가 주문 수량을 받지 않았습니다.",
    "err_ip_not_allowed": "업비트 거부: 이 서버의 IP가 API 키의 허용 IP 목록에 없습니다.",
    "err_key_expired": "업비트 거부: API 키가 만료되었습니다. upbit.com에서 새 키를 발급해 주세요.",
    "err_out_of_scope": "업비트 거부: API 키에 필요한 권한이 없습니다.",
    "err_auth": "업비트가 API 키를 거부했습니다. UPBIT_ACCESS_KEY와 UPBIT_SECRET_KEY를 확인해 주세요.",
    "err_rate_limited": "업비트 요청 한도를 넘었습니다. 잠시 뒤 다시 시도해 주세요.",
    "err_market_offline": "업비트 마켓이 점검 중입니다. 잠시 뒤 다시 시도해 주세요.",
    "err_under_min_total_market_ask": (
        "업비트 거부: 최소 주문금액보다 작습니다. 시장가 매도 금액은 주문 수량 × 매수 1호가로 "
        "계산됩니다."
    ),
    "err_thirdparty_agreement": (
        "업비트 거부: BTC·USDT 마켓 주문에는 1회 동의가 필요합니다. 업비트 앱이나 웹에서 BTC 또는 "
        "USDT 마켓을 열어 안내하는 동의를 마친 뒤 다시 시도해 주세요."
    ),
    "err_market_not_found": "업비트에 {market} 마켓이 없습니다.",
    "err_duplicated_identifier": (
        "업비트가 이 주문 ID는 이미 쓰였다고 답했습니다. 주문이 있는지 확인하고 있으며, 두 번째 "
        "주문은 보내지 않습니다."
    ),
    "err_order_not_found": "업비트에 그런 주문이 없습니다.",
    "smp_warn_cancel_maker": (
        "⚠️ 이 매도는 {market}에 걸어 둔 매수 주문 {count}건(최고 {price}, 남은 수량 "
        "{volume} {currency})과 만납니다. 자전거래 체결 방지(<code>cancel_maker</code>)로 그 매수 "
        "주문이 취소됩니다."
    ),
    "smp_warn_cancel_taker": (
        "⚠️ 이 매도는 {market}에 걸어 둔 매수 주문 {count}건(최고 {price}, 남은 수량 "
        "{volume} {currency})과 만납니다. 자전거래 체결 방지(<code>cancel_taker</code>)로 이 "
        "매도가 그 자리에서 멈춰 덜 팔릴 수 있으며, 매수 주문은 남습니다."
    ),
    "smp_warn_reduce": (
        "⚠️ 이 매도는 {market}에 걸어 둔 매수 주문 {count}건(최고 {price}, 남은 수량 "
        "{volume} {currency})과 만납니다. 자전거래 체결 방지(<code>reduce</code>)로 겹치는 "
        "수량만큼 이 매도와 매수 주문이 함께 줄어 덜 팔릴 수 있습니다."
    ),
    "smp_warn_none": (
        "⚠️ 이 매도는 {market}에 걸어 둔 매수 주문 {count}건(최고 {price}, 남은 수량 "
        "{volume} {currency})과 만납니다. 자전거래 체결 방지가 꺼져 있어(<code>none</code>) "
        "내 주문끼리 체결되고 양쪽 수수료를 낼 수 있습니다."
    ),
    "fill_smp_prevented": (
        "자전거래 체결 방지({mode})로 내 매수 주문과 겹친 수량은 매도되지 않았습니다: "
        "{prevented} {currency}"
    ),
    "fill_smp_makers": (
        "자전거래 체결 방지({mode})로 이 매도와 만난 {market} 매수 주문 {count}건이 취소되거나 "
        "줄었습니다. 매수되지 않을 수량: {volume} {currency}"
    ),
    "err_order_rejected": "업비트가 주문을 거부했습니다.",
    "err_exchange": "업비트에 연결할 수 없습니다. 아무것도 매도되지 않았습니다. 잠시 뒤 다시 시도해 주세요.",
    "err_not_sent": "주문을 업비트로 보내지 못했습니다. 아무것도 매도되지 않았습니다.",
    "err_not_sent_retry": (
        "주문을 보내기 전에 봇에서 오류가 났습니다. 업비트로 보낸 주문은 없고 아무것도 "
        "매도되지 않았습니다. /sell로 다시 시작해 주세요."
    ),
    "claim_not_found": "알 수 없는 미리보기입니다. /sell로 다시 시작해 주세요.",
    "claim_not_owner": "다른 사용자의 미리보기입니다.",
    "claim_expired": "미리보기 시간이 지났습니다. 아무것도 매도되지 않았습니다. /sell로 다시 시작해 주세요.",
    "claim_already_confirmed": "이미 확인했습니다. 주문은 한 번만 나갑니다.",
    "claim_cancelled": "취소한 미리보기입니다. 아무것도 매도되지 않았습니다.",
    "balance_changed": (
        "주문가능 수량이 바뀌었습니다(미리보기 {volume} {currency}, 지금 {available} {currency}). 아무것도 매도되지 않았습니다. "
        "/sell로 다시 시작해 주세요."
    ),
    "preview": (
        "<b>매도 미리보기 — {market}</b>{name}\n"
        "{warning}매도 수량: <b>{volume} {currency}</b> (주문가능 {available}의 {share}%)\n"
        "매수 1호가: {best_bid}\n"
        "예상 평균 체결가: {avg_price}\n"
        "예상 체결금액: {gross}\n"
        "수수료({fee_rate}%): {fee}\n"
        "예상 실수령액: <b>{net}</b>\n"
        "{pnl}가격 영향: {impact}%\n"
        "시장가 주문이라 실제 체결가는 달라질 수 있습니다.\n"
        "{expires}까지 확인을 눌러 주세요({seconds}초)."
    ),
    "btn_confirm": "✅ 매도 확인",
    "btn_cancel": "✖ 취소",
    "placing": "주문을 넣는 중입니다…",
    "placed": (
        "<b>주문 접수</b> — {market}, {volume} {currency} 매도\n"
        "UUID: <code>{uuid}</code>\n"
        "체결되면 알려 드립니다."
    ),
    "failed": ("<b>주문 실패</b> — {market}, {volume} {currency}\n{reason}"),
    "unknown": (
        "<b>주문 전송, 결과 확인 중</b> — {market}, {volume} {currency}\n"
        "업비트가 제때 응답하지 않았습니다. 주문 ID <code>{identifier}</code> 기준으로 결과를 확인해 알려 드리며, 주문을 다시 보내지는 "
        "않습니다."
    ),
    "cancelled": "취소했습니다. 아무것도 매도되지 않았습니다.",
    "cancelled_none": "취소할 미리보기가 없습니다.",
    "cancelled_n": "대기 중인 미리보기 {count}개를 취소했습니다. 아무것도 매도되지 않았습니다.",
    "expired": "<b>미리보기 시간 종료</b> — {market}, {volume} {currency}. 아무것도 매도되지 않았습니다.",
    "fill_done": (
        "✅ {mark}{currency} {executed} 매도 체결 · 실수령 {net}\n"
        "{name}{market} {kind} 매도가 모두 체결되었습니다.\n"
        "체결 수량: {executed} {currency}\n"
        "평균 체결가: {avg_price}\n"
        "체결금액: {gross}\n"
        "수수료: {fee}\n"
        "실수령액: <b>{net}</b>\n"
        "{pnl}UUID: <code>{uuid}</code>"
    ),
    "fill_partial": (
        "⚠️ {mark}{currency} {executed} 일부 체결 · 실수령 {net}\n"
        "{name}{market} {kind} 매도가 일부만 체결되었습니다.\n"
        "체결 수량: {requested} {currency} 중 {executed} {currency} (나머지는 매도되지 않음)\n"
        "평균 체결가: {avg_price}\n"
        "체결금액: {gross}\n"
        "수수료: {fee}\n"
        "실수령액: <b>{net}</b>\n"
        "{pnl}UUID: <code>{uuid}</code>"
    ),
    "fill_none": (
        "❌ {mark}{currency} 매도 주문 종료 · 체결된 수량 없음\n"
        "{name}{market}, 주문 수량 {requested} {currency}. 아무것도 매도되지 않았습니다.\n"
        "UUID: <code>{uuid}</code>"
    ),
    "fill_failed": (
        "❓ {mark}{currency} 매도 주문 확인 필요 · 업비트에 주문 없음\n"
        "{name}{market}, {requested} {currency}: 업비트가 몇 분에 걸쳐 여러 번 이 주문이 "
        "없다고 답했습니다(주문 ID <code>{identifier}</code>). 주문이 만들어지지 않았을 가능성이 "
        "큽니다. 업비트 계정에서 확인해 주세요. 하루 동안 계속 확인하고, 주문이 나타나면 알려 "
        "드립니다."
    ),
    "notice_undeliverable": "알림 전송 실패(봇 차단?)",
    "price_dropped": (
        "미리보기 이후 가격이 내려갔습니다. 지금 매도하면 {old} 대신 약 {new}을 받게 됩니다"
        "({drop}% 감소, 허용 {limit}%). 업비트로 주문을 보내지 않았습니다. 새 미리보기를 "
        "보내 드립니다."
    ),
    "fill_refused": (
        "❌ {mark}{currency} 매도 주문 실패 · 매도되지 않음\n"
        "{name}{market}, {requested} {currency}. 아무것도 매도되지 않았습니다.\n"
        "업비트 응답: {error}"
    ),
    "bad_price": (
        "가격을 읽을 수 없습니다: <code>{price}</code>. "
        "<code>@ 101,000,000</code>이나 <code>@0.0123</code>처럼 적어 주세요."
    ),
    "price_not_positive": "가격은 0보다 커야 합니다(입력: {price}).",
    "price_too_long": (
        "가격의 자릿수가 너무 많습니다: <code>{price}</code>(정수 15자리, 소수점 아래 8자리까지)."
    ),
    "bad_slip": "슬리피지는 <code>슬리피지 1%</code>처럼 퍼센트로 적어 주세요(입력: <code>{slip}</code>).",
    "slip_range": "슬리피지는 {low}%에서 {high}% 사이여야 합니다(입력: {slip}).",
    "tail_conflict": (
        "가격(<code>@ 101,000,000</code>)과 슬리피지(<code>슬리피지 1%</code>) 중 하나만 "
        "적어 주세요."
    ),
    "no_limit_sell": "{market} 마켓은 지정가 매도를 지원하지 않습니다.",
    "thin_book_hint": (
        "보호 매도는 최저 매도가 이상으로 팔리는 만큼만 매도합니다: <code>/sell {currency} all 슬리피지 1%</code>. "
        "지정가 매도는 원하는 가격에 체결될 때까지 기다립니다: <code>/sell {currency} all @ 가격</code>."
    ),
    "preview_limit": (
        "<b>지정가 매도 미리보기 — {market}</b>{name}\n"
        "{warning}매도 수량: <b>{volume} {currency}</b> (주문가능 {available}의 {share}%)\n"
        "지정가: <b>{price}</b>{rounded}\n"
        "현재 매수 1호가: {best_bid}\n"
        "{now_line}전량 체결 시: {gross}, 수수료({fee_rate}%) {fee}, 실수령 <b>{net}</b>\n"
        "{pnl}"
        "주문은 체결되거나 /open에서 취소할 때까지 업비트 호가창에 남습니다. 주문이 끝나면 한 번 알려 드립니다.\n"
        "{expires}까지 확인을 눌러 주세요({seconds}초)."
    ),
    "limit_rounded": " (입력한 {requested}에서 호가 단위 {tick}에 맞춰 올림)",
    "limit_fills_now": "지금 매수 호가에 바로 체결되는 수량: {fillable} {currency}\n",
    "preview_protected": (
        "<b>보호 매도 미리보기 — {market}</b>{name}\n"
        "{warning}매도 수량: <b>{volume} {currency}</b> (주문가능 {available}의 {share}%)\n"
        "매수 1호가: {best_bid}\n"
        "최저 매도가: <b>{price}</b> (매수 1호가 −{slip}%, 호가 단위 {tick}에 맞춰 올림). "
        "이보다 낮게는 팔지 않습니다.\n"
        "지금 체결 가능: {fillable} {currency}, 약 {gross}, 수수료({fee_rate}%) {fee}, "
        "실수령 <b>{net}</b>\n"
        "{rest_line}최저 매도가 이상으로 바로 체결되지 않는 수량은 취소됩니다(IOC). 남은 수량은 알려 드리며 바로 다시 매도할 수 있습니다.\n"
        "{expires}까지 확인을 눌러 주세요({seconds}초)."
    ),
    "protected_rest": "⚠️ 호가가 얇아 미체결 예상 수량: 약 {rest} {currency}\n",
    "protected_rest_notice": (
        "미체결 수량: {rest} {currency} (최저 매도가 {price} 이상의 매수 호가가 부족했습니다)."
    ),
    "btn_sell_rest": "남은 {rest} {currency} 매도",
    "btn_protected_offer": "🛡 보호 매도로 전환(슬리피지 {slip}%)",
    "open_title": "<b>업비트 미체결 주문</b> ({page}쪽)",
    "open_none": "업비트에 체결 대기 중인 주문이 없습니다.",
    "open_row": (
        "{number}{market} · {kind} {side} · {price}\n"
        "  {executed} / {volume} {currency} 체결({progress}%) · {created} 주문"
    ),
    "open_side_ask": "매도",
    "open_side_bid": "매수",
    "ordtype_limit": "지정가",
    "ordtype_market": "시장가",
    "ordtype_price": "시장가",
    "ordtype_best": "최유리",
    "open_hint": "버튼을 누르면 취소 전에 한 번 더 묻습니다.",
    "btn_open_cancel": "✖ #{number} {market}",
    "btn_prev": "◀ 이전",
    "btn_next": "다음 ▶",
    "open_confirm": "<b>이 주문을 취소할까요?</b>\n{row}\nUUID: <code>{uuid}</code>",
    "btn_cancel_confirm": "✅ 주문 취소",
    "btn_cancel_keep": "주문 유지",
    "open_cancelled_none": "<b>주문 취소 완료</b> — 체결된 수량은 없습니다.\n{row}",
    "open_cancelled_some": (
        "<b>주문 취소 완료</b>\n{row}\n이미 체결된 수량은 그대로이며, 체결 내역은 따로 "
        "알려 드립니다."
    ),
    "open_cancel_accepted": (
        "<b>취소 접수</b>\n{row}\n이미 체결된 수량이 있으면 체결 내역을 따로 알려 드립니다."
    ),
    "open_not_open": "이미 체결 완료되었거나 취소된 주문입니다.",
    "open_kept": "주문을 유지합니다.",
    "open_usage": "사용법: <code>/open</code>, 두 번째 쪽은 <code>/open 2</code>",
    "placing_cancel": "취소하는 중입니다…",
    "open_failed": "<b>취소하지 못했습니다.</b> {reason}",
    "open_unavailable": "지금은 업비트에서 미체결 주문을 불러올 수 없습니다. {reason}",
    "cmd_open": "미체결 주문 보기·취소",
    "balance_title": "<b>업비트 보유자산</b>",
    "balance_cash": "<b>보유 KRW</b> {total} · 주문가능 {available}{locked}",
    "balance_row": (
        "{title}{marks}\n"
        "  보유수량 {amount} {currency}{locked}\n"
        "  매수평균가 {avg} · 현재가 {price}\n"
        "  평가금액 {value} · 평가손익 {pnl} ({rate}%)"
    ),
    "balance_row_unpriced": "<b>{currency}</b>: {amount} {currency}{locked} · 거래 가능한 마켓 없음",
    "balance_total": "총 보유자산: <b>{total}</b>",
    "balance_empty": "업비트에 보유자산이 없습니다.",
    "balance_buttons_hint": "빠른 매도 버튼은 미리보기만 엽니다. 확인을 눌러야 매도됩니다.",
    "orders_title": "<b>최근 주문 {count}건</b> (아래 버튼을 누르면 자세히 볼 수 있습니다)",
    "orders_none": "아직 주문 내역이 없습니다.",
    "orders_row": "{created} · {market} · {volume} {currency} · <b>{state}</b>\n<code>{uuid}</code>",
    "order_usage": "사용법: <code>/order UUID</code> (/orders에서 복사하거나 주문 버튼을 눌러 주세요).",
    "order_not_found": "해당 UUID의 주문이 없습니다.",
    "order_detail": (
        "<b>주문 {market}</b> — {state}\n"
        "주문 수량: {requested} {currency}\n"
        "체결 수량: {executed} {currency}\n"
        "평균 체결가: {avg_price}\n"
        "체결금액: {gross} · 수수료: {fee} · 실수령: {net}\n"
        "주문 시각: {created}\n"
        "UUID: <code>{uuid}</code>"
    ),
    "order_stale": "(업비트에 연결할 수 없어 마지막으로 확인한 상태를 보여 드립니다.)",
    "orders_usage": "사용법: <code>/orders [N]</code> (N은 1~50)",
    "export_caption": "주문 내역: {count}건",
    "status": (
        "<b>상태</b>\n"
        "버전: {version}\n"
        "모드: {mode}\n"
        "업비트: {upbit}\n"
        "API 키: {key}\n"
        "추적 중인 주문: {watching}\n"
        "체결 추적: {tracking}"
    ),
    "mode_paper": "모의 거래",
    "mode_live": "실거래",
    "upbit_ok": "연결됨",
    "upbit_down": "연결 안 됨 ({error})",
    "key_none": "해당 없음",
    "key_expires": "{date} 만료 ({days}일 남음)",
    "key_expires_soon": "⚠️ {date} 만료 — {days}일밖에 남지 않았습니다. 새 키를 발급해 주세요.",
    "tracking_ws": "WebSocket 연결됨",
    "tracking_polling": "폴링 (WebSocket 끊김)",
    "tracking_polling_only": "폴링 (WebSocket 꺼짐)",
    "state_submitting": "전송 중",
    "state_wait": "체결 대기",
    "state_watch": "체결 대기",
    "state_done": "체결 완료",
    "state_cancel": "취소",
    "state_failed": "실패",
    "unknown_command": "알 수 없는 명령입니다. /help에서 명령 목록을 볼 수 있습니다.",
    # /settings
    "settings": (
        "<b>설정</b>\n"
        "언어: {language}\n"
        "빠른 매도 버튼: {percents}\n\n"
        "아래 버튼으로 언어를 고를 수 있습니다. 빠른 매도 버튼은 "
        "<code>/settings quick 10 25 50 100</code>처럼 바꿉니다(1~100 사이 정수 1~4개)."
    ),
    "settings_usage": (
        "사용법: <code>/settings</code>, <code>/settings lang auto|ko|en</code>, "
        "<code>/settings quick 10 25 50 100</code>"
    ),
    "settings_lang_auto": "자동",
    "settings_lang_auto_is": "자동(텔레그램 설정: {name})",
    "settings_lang_ko": "한국어",
    "settings_lang_en": "English",
    "lang_name": "한국어",
    "settings_saved": "저장했습니다.",
    "settings_bad_language": "지원하지 않는 언어입니다: <code>{value}</code>. auto, ko, en 중에서 골라 주세요.",
    "settings_bad_percents": (
        "빠른 매도 비율은 1~100 사이 정수 1~4개입니다. 예: "
        "<code>/settings quick 10 25 50 100</code>(입력: <code>{value}</code>)"
    ),
    # /alert, /alerts
    "alert_usage": (
        "사용법: <code>/alert BTC &gt;= 110,000,000</code>, <code>/alert BTC &lt;= 90,000,000</code>, "
        "<code>/alert BTC +20%</code>, <code>/alert BTC -10%</code>(매수평균가 기준)"
    ),
    "alert_bad_price": "가격을 읽을 수 없습니다: <code>{price}</code>. 110,000,000이나 0.0123처럼 숫자로 적어 주세요.",
    "alert_price_not_positive": "가격은 0보다 커야 합니다(입력: {price}).",
    "alert_price_digits": (
        "가격 <code>{price}</code>의 자릿수가 너무 많습니다(정수 {whole}자리, 소수점 아래 {places}자리까지)."
    ),
    "alert_bad_percent": (
        "변동률은 -99%에서 +1000% 사이여야 하고 0이 아니어야 합니다(입력: <code>{value}</code>)."
    ),
    "alert_no_holding": (
        "+/-% 알림은 매수평균가 기준인데, 매수평균가가 있는 {currency} 보유분이 없습니다."
    ),
    "alert_already_met": "{market} 현재가({price})가 이미 {condition} 조건을 만족해 알림을 설정하지 않았습니다.",
    "alert_too_many": "알림은 최대 {max}개까지 설정할 수 있습니다. /alerts에서 일부를 삭제해 주세요.",
    "alert_set": "🔔 알림 설정: {market} {condition}. 현재가 {price}.",
    "alert_above": "{price} 이상",
    "alert_below": "{price} 이하",
    "alert_percent": "매수평균가 {basis} 대비 {change}%: {target}",
    "alerts_title": "<b>가격 알림</b>({count}/{max})",
    "alerts_none": (
        "설정된 알림이 없습니다. <code>/alert BTC &gt;= 110,000,000</code>이나 "
        "<code>/alert BTC +20%</code>로 설정해 주세요."
    ),
    "alert_row": "#{number} {market} {condition}",
    "btn_alert_delete": "🗑 #{number} {market}",
    "alert_deleted": "알림을 삭제했습니다: {market} {condition}.",
    "alert_gone": "이미 울렸거나 삭제된 알림입니다.",
    "alert_fired": (
        "🔔 {coin} {condition}: 현재가 {price}\n"
        "{market}. 아래 버튼을 누르면 매도 미리보기가 열립니다. 확인을 누르기 전에는 "
        "매도되지 않습니다."
    ),
    "alert_fired_not_held": (
        "🔔 {coin} {condition}: 현재가 {price}\n{market}. 매도할 {currency} 보유분이 없습니다."
    ),
    # /pnl
    "pnl_title": "<b>실현손익</b>(시간대: {zone})",
    "pnl_by_day": "<b>일별</b>",
    "pnl_by_month": "<b>월별</b>",
    "pnl_row": "{period}: {amount}(매도 {count}건)",
    "pnl_total": "합계: {amount}",
    "pnl_none": "매수평균가가 기록된 체결 완료 매도가 아직 없어 실현손익이 없습니다.",
    "pnl_unknown_basis": "매수평균가가 기록되지 않은 매도 {count}건은 제외했습니다.",
    "pnl_chart_caption": "일별 실현손익",
    "pnl_usage": "사용법: <code>/pnl</code>(인자 없이). 일별·월별 실현손익을 보여 드립니다.",
    "pnl_chart_failed": "이번에는 차트를 그리지 못했습니다. 위의 숫자는 모두 정확합니다.",
    "cmd_settings": "언어와 빠른 매도 버튼",
    "cmd_alert": "가격 알림: /alert BTC >= 110000000",
    "cmd_alerts": "가격 알림 목록",
    "cmd_pnl": "일별·월별 실현손익",
    "paper_mark": "[모의]",
    "amount_needs_won": "단위를 붙여 주세요: <code>{amount}원</code>처럼 적으면 그 금액만큼 매도합니다.",
    "preview_pnl": "예상 실현손익: <b>{pnl} ({rate}%)</b> (매수평균가 {avg} 기준)\n",
    "warning_line": "⚠️ 업비트 투자유의 종목입니다.\n",
    "fill_pnl": "실현손익: <b>{pnl} ({rate}%)</b> (매수평균가 {avg} 기준)\n",
    "balance_locked": " · 주문 중 {locked}",
    "balance_other_cash": "<b>{currency}</b> 주문가능 {available}{locked}",
    "mark_dust": " · 소액(최소 주문금액 미만)",
    "mark_warning": " · ⚠️ 투자유의",
    "balance_totals": (
        "총매수: {cost}\n"
        "총평가: {value}\n"
        "평가손익: <b>{pnl} ({rate}%)</b>\n"
        "총 보유자산: <b>{total}</b>"
    ),
    "balance_pick_hint": "매도할 코인을 눌러 주세요({page}/{pages}쪽). 확인을 눌러야 매도됩니다.",
    "btn_refresh": "🔄 새로고침",
    "balance_page_title": (
        "<b>업비트 보유자산</b> · {page}/{pages}쪽 (평가금액 순 {rows}번째, 전체 {count}개)"
    ),
    "balance_page_rows": "{first}~{last}",
    "balance_page_hint": "◀ ▶ 버튼으로 쪽을 넘기고, 가운데 버튼을 누르면 이 쪽을 새로 불러옵니다.",
    "balance_page_moved": "보유자산이 바뀌어 {page}/{pages}쪽을 보여 드립니다.",
    "balance_page_whole": "이제 보유자산을 한 번에 모두 보여 드립니다.",
    "balance_page_unknown": "더 이상 쓸 수 없는 버튼입니다. /balance를 다시 보내 주세요.",
    "btn_page_prev": "◀",
    "btn_page_next": "▶",
    "btn_page_at": "🔄 {page}/{pages}",
    "btn_other_amount": "다른 수량",
    "refreshed": "새로 불러왔습니다.",
    "sell_pick": "<b>매도</b> — 어떤 코인을 매도할까요? ({page}/{pages}쪽)",
    "sell_pick_none": "지금 매도할 수 있는 코인이 없습니다(최소 주문금액 미만 소액은 제외).",
    "sell_amounts": (
        "<b>{name} 매도</b> ({market}) — 얼마나 매도할까요?\n주문가능: {available} {currency}"
    ),
    "sell_ask_amount": (
        "<b>{name}</b>({market}) 매도 수량을 이 메시지에 답장으로 보내 주세요.\n"
        "예: <code>25%</code>, <code>전량</code>, <code>0.01</code>, <code>5만원</code>"
    ),
    "sell_ask_placeholder": "예: 25% 또는 5만원",
    # guards: /lock, /unlock, one-time codes, the daily sell limit
    "cmd_lock": "/unlock 전까지 모든 매도 거부",
    "cmd_unlock": "매도 잠금 해제",
    "lock_on": "🔒 <b>매도가 잠겼습니다.</b> /unlock 전까지 모든 매도를 거부합니다.",
    "lock_already": "🔒 이미 매도가 잠겨 있습니다. 다시 매도하려면 /unlock을 보내 주세요.",
    "unlock_done": "🔓 <b>매도 잠금이 해제되었습니다.</b>",
    "unlock_not_locked": "매도가 잠겨 있지 않습니다.",
    "unlock_code_needed": (
        "🔐 잠금을 해제하려면 인증 앱의 현재 6자리 코드를 메시지로 보내 주세요"
        "(또는 <code>/unlock 123456</code>)."
    ),
    "unlock_wrong": "❌ 코드가 틀렸습니다. 매도 잠금이 유지됩니다. 다시 하려면 현재 코드를 보내 주세요.",
    "unlock_reused": "이미 사용한 코드입니다. 매도 잠금이 유지됩니다. 인증 앱에 다음 코드가 나오면 그 코드를 보내 주세요.",
    "unlock_paused": "틀린 코드가 너무 많아 {until}까지 코드를 받지 않습니다. 매도 잠금이 유지됩니다.",
    "sell_locked": "🔒 매도가 잠겨 있습니다. 아무것도 매도되지 않았습니다. 먼저 /unlock을 보내 주세요.",
    "claim_locked": "매도가 잠겨 있습니다. 아무것도 매도되지 않았습니다. 먼저 /unlock을 보내 주세요.",
    "claim_over_daily_limit": "하루 매도 한도에 도달했습니다. 아무것도 매도되지 않았습니다.",
    "over_daily_limit": (
        "<b>매도 안 됨: 하루 매도 한도</b> — {market}, {volume} {currency}\n"
        "예상 금액: 약 {value}원 · 하루 한도: {limit}원\n"
        "이 매도를 하면 오늘 매도액이 하루 한도를 넘습니다. 아무것도 매도되지 않았습니다.\n"
        "오늘 남은 한도: <b>{left}원</b>(하루는 {zone} 기준 자정에 끝납니다)."
    ),
    "code_needed": (
        "🔐 <b>인증 코드 필요</b> — {market}, {volume} {currency}(약 {value}원)\n"
        "인증 앱의 현재 6자리 코드를 메시지로 보내 주세요(마감 {expires}). "
        "코드가 담긴 메시지는 봇이 삭제합니다. 코드가 세 번 틀리면 이 매도는 취소됩니다."
    ),
    "code_alert": "인증 앱의 6자리 코드를 보내 주세요.",
    "code_wrong": "❌ 코드가 틀렸습니다. 아무것도 매도되지 않았습니다. 매도가 취소되기까지 남은 기회: {tries}번.",
    "code_reused": "이미 사용한 코드입니다. 아무것도 매도되지 않았습니다. 인증 앱에 다음 코드가 나오면 그 코드를 보내 주세요(남은 기회: {tries}번).",
    "code_paused": "틀린 코드가 너무 많아 {until}까지 코드를 받지 않습니다. 아무것도 매도되지 않았습니다.",
    "code_too_many": "❌ <b>코드가 세 번 틀려 매도를 취소했습니다.</b> 아무것도 매도되지 않았습니다.",
    "code_nothing_waiting": "코드를 기다리는 매도나 /unlock이 없어 아무 일도 하지 않았습니다(보낸 메시지는 삭제했습니다).",
    "status_guards": "보호 장치: {lock} · {limit} · {totp}",
    "guard_locked": "🔒 매도 잠김",
    "guard_unlocked": "매도 가능",
    "guard_limit_off": "하루 한도 없음",
    "guard_limit": "하루 한도 {limit}(오늘 {left} 남음)",
    "guard_totp_off": "인증 코드 없음",
    "guard_totp_all": "모든 매도에 인증 코드",
    "guard_totp_above": "{above} 초과 매도에 인증 코드",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "ko": KO}


def lang_of(language_code: str | None) -> str:
    """The language for a Telegram ``language_code`` when the user chose none."""
    return resolve_lang(Language.AUTO, language_code)


class Markup(str):
    """Already-rendered HTML that `t()` must not escape again."""

    __slots__ = ()


def t(lang: str, key: str, /, **values: Any) -> str:
    """The sentence ``key`` in ``lang`` with every value HTML-escaped (except `Markup`)."""
    catalogue = CATALOGUES.get(lang, EN)
    template = catalogue.get(key) or EN.get(key) or html.escape(key)
    escaped = {
        name: value if isinstance(value, Markup) else html.escape(str(value), quote=False)
        for name, value in values.items()
    }
    return template.format_map(_Missing(escaped))


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""
