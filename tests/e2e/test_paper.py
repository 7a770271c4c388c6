"""Paper trading end to end: no keys, live (stand-in) public prices, balances in the DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.db.migrate import upgrade_to_head_async
from bot.domain import OrderFill, OrderState
from tests.e2e.harness import USER, bot_settings, running_bot
from tests.e2e.process import order_log
from tests.factories import new_order

D = Decimal


def _texts(tg) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in tg.calls()
        if c.method in ("sendMessage", "editMessageText")
    ]


async def _sell_half_btc(bot) -> tuple[str, str]:
    preview = await bot.command("/sell BTC 50%")
    assert "Sell preview" in preview.params["text"]
    confirm = preview.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    mark = await bot.press(preview.result["message_id"], confirm)
    edit = await bot.edit_after(mark, preview.result["message_id"])
    notice = await bot.message_after(mark, contains="Sold")
    return edit.params["text"], notice.params["text"]


async def test_paper_flow_without_keys_changes_balances_exactly(
    telegram_standin, upbit_standin, tmp_path
):
    settings = bot_settings(
        telegram_standin,
        upbit_standin,
        f"sqlite:///{tmp_path}/paper.db",
        paper_trading="true",
        paper_balances="KRW=1000000,BTC=0.05,ETH=1.2",
        upbit_access_key=None,
        upbit_secret_key=None,
    )
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        balance = await bot.command("/balance")
        assert "PAPER" in balance.params["text"]
        assert "0.05" in balance.params["text"]

        edit, notice = await _sell_half_btc(bot)
        assert "Order placed" in edit
        # KRW-BTC bids in the stand-in start at 100,000,000 with 0.5 BTC: 0.025 BTC fills
        # entirely at the best bid. Fee 0.05 %.
        gross = D("0.025") * D(100_000_000)
        fee = gross * D("0.0005")
        assert "Executed: 0.025 BTC" in notice
        assert f"{int(gross - fee):,} KRW" in notice

        accounts = {a.currency: a for a in await bot.services.sell._exchange.accounts()}
        assert accounts["BTC"].balance == D("0.025")
        assert accounts["KRW"].balance == D(1_000_000) + gross - fee

        # Nothing private was asked of Upbit, and no order reached the order endpoint.
        assert upbit_standin.private_calls() == []
        assert upbit_standin.requests_to("POST", "/v1/orders") == []
        # Every message carries the paper marker.
        assert all("PAPER" in text for text in _texts(telegram_standin))

        status = await bot.command("/status")
        assert "PAPER" in status.params["text"]
        orders = await bot.command("/orders")
        assert "(PAPER)" in orders.params["text"]


async def test_paper_balances_survive_a_restart(telegram_standin, upbit_standin, tmp_path):
    url = f"sqlite:///{tmp_path}/paper.db"
    first = bot_settings(
        telegram_standin,
        upbit_standin,
        url,
        paper_trading="true",
        paper_balances="KRW=1000,BTC=0.05",
    )
    async with running_bot(first, telegram_standin, upbit_standin) as bot:
        await _sell_half_btc(bot)
    # A different seed on the second start is ignored: the stored balances win.
    second = bot_settings(
        telegram_standin, upbit_standin, url, paper_trading="true", paper_balances="KRW=5,BTC=9"
    )
    async with running_bot(second, telegram_standin, upbit_standin) as bot:
        reply = await bot.command("/balance")
        text = reply.params["text"]
        assert "<b>Bitcoin</b> BTC\n  Holding 0.025 BTC\n" in text, text
        assert "2,499,750" in text  # seed 1,000 + gross 2,500,000 − fee 1,250
        assert "Holding 9 BTC" not in text


async def test_paper_korean_marker(telegram_standin, upbit_standin, tmp_path):
    settings = bot_settings(
        telegram_standin, upbit_standin, f"sqlite:///{tmp_path}/p.db", paper_trading="true"
    )
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        reply = await bot.command("/help", language_code="ko")
        assert "모의" in reply.params["text"]
        assert int(reply.params["chat_id"]) == USER


async def test_paper_marker_on_refusals_too(telegram_standin, upbit_standin, tmp_path):
    settings = bot_settings(
        telegram_standin, upbit_standin, f"sqlite:///{tmp_path}/p.db", paper_trading="true"
    )
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        reply = await bot.command("/balance", user=3003)  # not an allowed user
        assert "PAPER" in reply.params["text"]
        assert "private" in reply.params["text"]


async def test_paper_process_never_judges_live_orders(telegram_standin, upbit_standin, tmp_path):
    """A live order in doubt and a live fill not yet announced, in the log a paper process
    opens: the paper process neither looks them up, declares, announces nor lists them."""
    url = f"sqlite:///{tmp_path}/shared.db"
    await upgrade_to_head_async(url)
    async with order_log(url) as repo:
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        await repo.record_submitting(new_order("usb-live-in-doubt", created_at=long_ago))
        await repo.record_submitting(new_order("usb-live-done", created_at=long_ago))
        await repo.update_order(
            "usb-live-done", OrderFill(state=OrderState.DONE, uuid="live-uuid-1")
        )
    settings = bot_settings(
        telegram_standin,
        upbit_standin,
        url,
        paper_trading="true",
        upbit_access_key=None,
        upbit_secret_key=None,
    )
    async with running_bot(settings, telegram_standin, upbit_standin) as bot:
        for _ in range(4):  # well past any grace: the old code declared it at the first
            await bot.services.watcher.sweep()
        orders = await bot.command("/orders")
        assert "usb-live" not in orders.params["text"]
        assert "live-uuid-1" not in orders.params["text"]
        detail = await bot.command("/order live-uuid-1")
        assert "live-uuid-1" not in detail.params["text"]
        assert bot.services.watcher.watching == 0
    async with order_log(url) as repo:
        in_doubt = await repo.get_order_by_identifier("usb-live-in-doubt")
        done = await repo.get_order_by_identifier("usb-live-done")
    assert in_doubt is not None and in_doubt.state is OrderState.SUBMITTING
    assert in_doubt.not_found_count == 0
    assert done is not None and done.announced_at is None  # left for a live process
    assert not any("Sold" in text for text in _texts(telegram_standin))
