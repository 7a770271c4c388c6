"""Markets other than the default: the market comes from the account's unit currency, and
the fee from the market's ``ask_fee`` (here not Upbit's usual 0.05 %)."""

from __future__ import annotations

from decimal import Decimal

from tests.e2e.harness import BotFactory
from tests.e2e.test_sell_flow import confirm, open_preview, posts, text_of

D = Decimal


async def test_an_asset_held_against_btc_is_sold_on_its_btc_market(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    bot.upbit.add_market(
        "BTC-ADA", bids=[("0.00001", "300"), ("0.0000099", "5000")], asks=[("0.0000101", "5000")]
    )
    bot.upbit.set_account("ADA", balance="1000", avg_buy_price="0.000008", unit_currency="BTC")
    preview = await open_preview(bot, "/sell ada 50%")
    text = text_of(preview)
    assert "BTC-ADA" in text
    # 500 ADA: 300 at 0.00001 and 200 at 0.0000099 → 0.00498 BTC; BTC-market fee 0.25 %.
    gross = D(300) * D("0.00001") + D(200) * D("0.0000099")
    fee = gross * D("0.0025")
    assert "Fee (0.25%)" in text
    assert f"{gross - fee:f}"[:10] in text.replace(",", "")
    outcome = await confirm(bot, preview)
    assert "Order placed" in text_of(outcome)
    [post] = posts(bot)
    assert post.body["market"] == "BTC-ADA"
    assert post.body["volume"] == "500"
    notice = await bot.message_after(0, contains="Sold")
    assert "0.00496755 BTC" in text_of(notice)  # net = 0.00498 − 0.00001245


async def test_the_fee_comes_from_the_markets_ask_fee(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    bot.upbit.add_market(
        "KRW-SOL",
        bids=[(200_000, 10), (199_000, 10)],
        asks=[(201_000, 10)],
        ask_fee=D("0.0025"),
    )
    bot.upbit.set_account("SOL", balance="5", avg_buy_price=150_000)
    preview = await open_preview(bot, "/sell SOL 50000krw")
    text = text_of(preview)
    assert "Fee (0.25%)" in text
    # Net 50,000 after 0.25 %: gross 50,125.31…, all at the best bid: 0.25062656 SOL.
    outcome = await confirm(bot, preview)
    assert "Order placed" in text_of(outcome)
    [post] = posts(bot)
    volume = D(post.body["volume"])
    assert volume == (D(50_000) / (1 - D("0.0025")) / 200_000).quantize(
        D("0.00000001"), rounding="ROUND_DOWN"
    )
    net = volume * 200_000 * (1 - D("0.0025"))
    assert D(49_999) < net <= D(50_000)
