"""The bot against Upbit's late-2026 rules, end to end (real bot, stand-ins over HTTP).

Self-trade prevention (https://docs.upbit.com/kr/v1.6.4/docs/smp, default cancel_maker since
2026-11-09), thin books (https://docs.upbit.com/kr/changelog/orderbook_expansion), and the
error names Upbit answers (docs/upbit-notes.md).
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain import OrderState
from tests.e2e.harness import USER, BotFactory, RunningBot
from tests.e2e.test_sell_flow import (
    ORDERS,
    Db,
    confirm,
    open_preview,
    posts,
    quiet,
    text_of,
)
from tests.e2e.test_sell_flow import db as _db_fixture

db = _db_fixture
D = Decimal
OWN_PRICE = 100_005_000  # above the seeded best bid: the sell meets this buy order first


async def notice_for(bot: RunningBot, mark: int, uuid: str) -> str:
    # Beyond the watcher's 15 s safety sweep: the notice comes at the latest with it.
    call = await bot.message_after(mark, USER, contains=uuid, timeout=40)
    return text_of(call)


def placed_uuid(edit_text: str) -> str:
    return edit_text.split("<code>")[1].split("</code>")[0]


async def test_preview_warns_about_own_buy_orders_and_cancel_maker_cancels_them(
    bot_factory: BotFactory, db: Db
) -> None:
    bot = await bot_factory()
    own = bot.upbit.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    # Hold the answer of the order chance: the open orders are read while it is pending,
    # not after it (the three reads go out together).
    bot.upbit.slow_seconds = 1.0
    bot.upbit.fail_next("GET", "/v1/orders/chance", "slow")
    preview = await open_preview(bot, "/sell BTC 50%")
    text = text_of(preview)
    assert "This sell would meet 1 open buy order(s) of yours on KRW-BTC" in text, text
    assert "100,005,000 KRW" in text and "0.005 BTC left" in text
    assert "(<code>cancel_maker</code>) will cancel them" in text
    (chance,) = bot.upbit.requests_to("GET", "/v1/orders/chance")
    (listed,) = bot.upbit.requests_to("GET", "/v1/orders/open")
    assert listed.time < chance.time + bot.upbit.slow_seconds
    assert listed.query.get("states[]") == ["wait", "watch"]

    mark = bot.tg.mark()
    edit = await confirm(bot, preview)
    assert "Order placed" in text_of(edit), text_of(edit)
    (post,) = posts(bot)
    assert post.body["smp_type"] == "cancel_maker"
    notice = await notice_for(bot, mark, placed_uuid(text_of(edit)))
    assert "Sold" in notice and "from this sell" not in notice  # the sell itself was whole
    # ... but the own buy order it met was cancelled, and the notice says so.
    assert (
        "Self-trade prevention (cancel_maker) cancelled or reduced 1 of your own buy order(s) "
        "on KRW-BTC that this sell met: 0.005 BTC of them will not be bought."
    ) in notice, notice
    maker = bot.upbit.order(own.uuid)
    assert maker is not None and (maker.state, maker.prevented_volume) == ("cancel", D("0.005"))


async def test_reduce_setting_is_sent_and_the_fill_notice_says_what_it_cut(
    bot_factory: BotFactory, db: Db
) -> None:
    bot = await bot_factory(self_trade_prevention="reduce")
    bot.upbit.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    preview = await open_preview(bot, "/sell BTC 50%")
    assert "(<code>reduce</code>) will shrink this sell" in text_of(preview)
    mark = bot.tg.mark()
    edit = await confirm(bot, preview)
    (post,) = posts(bot)
    assert post.body["smp_type"] == "reduce"
    uuid = placed_uuid(text_of(edit))
    notice = await notice_for(bot, mark, uuid)
    assert "0.045" in notice and "0.05" in notice  # executed of requested
    assert "Self-trade prevention (reduce) cut 0.005 BTC from this sell" in notice, notice
    assert "(reduce) cancelled or reduced 1 of your own buy order(s)" in notice
    (order,) = await db.orders()
    assert order.state is OrderState.DONE and order.executed_volume == D("0.045")


async def test_korean_preview_warning_and_cancel_taker(bot_factory: BotFactory, db: Db) -> None:
    bot = await bot_factory(self_trade_prevention="cancel_taker")
    bot.upbit.place_own_bid("KRW-BTC", OWN_PRICE, "0.005")
    preview = await open_preview(bot, "/sell BTC 50%", language_code="ko")
    text = text_of(preview)
    assert "KRW-BTC에 걸어 둔 매수 주문 1건" in text, text
    assert "자전거래 체결 방지(<code>cancel_taker</code>)" in text
    mark = bot.tg.mark()
    edit = await confirm(bot, preview, language_code="ko")
    notice = await notice_for(bot, mark, placed_uuid(text_of(edit)))
    # Nothing was sold: the sell met the own buy order first and was cancelled there.
    assert "자전거래 체결 방지(cancel_taker)" in notice, notice
    (order,) = await db.orders()
    assert order.state is OrderState.CANCEL and order.executed_volume == 0


async def test_no_warning_without_own_buy_orders_on_that_market(
    bot_factory: BotFactory, db: Db
) -> None:
    bot = await bot_factory()
    bot.upbit.place_own_bid("KRW-ETH", 4_900_000, "0.1")  # another market
    preview = await open_preview(bot, "/sell BTC 50%")
    assert "open buy order" not in text_of(preview)


async def test_thin_book_is_refused_before_submission_saying_what_it_can_take(
    bot_factory: BotFactory, db: Db
) -> None:
    bot = await bot_factory()
    bot.upbit.set_orderbook(
        "KRW-BTC", bids=[(100_000_000 - i * 10_000, "0.001") for i in range(40)]
    )
    reply = await bot.command("/sell BTC all")
    text = text_of(reply)
    assert "30 best levels" in text and "at most <b>0.03 BTC</b>" in text, text
    assert "you asked for 0.1 BTC" in text
    # No Confirm: the only button offers a protected sell of the same volume instead.
    markup = reply.params.get("reply_markup") or {}
    offered = [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]
    assert offered == ["sr:KRW-BTC:0.1:1"]
    ko = text_of(await bot.command("/sell BTC all", language_code="ko"))
    assert "최대 수량은 <b>0.03 BTC</b>" in ko and "30호가" in ko, ko
    await quiet(bot)
    assert posts(bot) == [] and await db.pending() == []
    # 0.03 BTC fits exactly: the preview opens.
    await open_preview(bot, "/sell BTC 0.03")


async def test_btc_market_without_consent_says_how_to_give_it(
    bot_factory: BotFactory, db: Db
) -> None:
    bot = await bot_factory()
    bot.upbit.add_market("BTC-XRP", bids=[("0.00000800", 100_000)], asks=[("0.00000801", 100_000)])
    bot.upbit.thirdparty_agreed = False
    for lang, says in (
        ("en", "BTC and USDT markets need a one-time consent"),
        ("ko", "BTC·USDT 마켓 주문에는 1회 동의가 필요합니다"),
    ):
        preview = await open_preview(bot, "/sell BTC-XRP 10%", language_code=lang)
        edit = await confirm(bot, preview, language_code=lang)
        assert says in text_of(edit), text_of(edit)
    await quiet(bot)
    assert [p.status for p in posts(bot)] == [403, 403]
    assert [o.state for o in await db.orders()] == [OrderState.FAILED, OrderState.FAILED]


async def test_spent_identifier_is_looked_up_never_declared_failed(
    bot_factory: BotFactory, db: Db
) -> None:
    # duplicated_identifier: an earlier request carried the identifier and may have created
    # the order, so the bot looks it up instead of telling the user nothing was sold.
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 50%")
    bot.upbit.fail_next("POST", ORDERS, "duplicated_identifier")
    edit = await confirm(bot, preview)
    assert "outcome not yet known" in text_of(edit), text_of(edit)
    assert "Nothing was sold" not in text_of(edit)
    (post,) = posts(bot)
    assert post.status == 400
    (order,) = await db.orders()
    assert order.state is OrderState.SUBMITTING
    assert len(bot.upbit.requests_to("GET", "/v1/order")) >= 1  # looked up by identifier
