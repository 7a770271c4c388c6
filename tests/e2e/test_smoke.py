from tests.e2e.harness import USER


async def test_balance_then_quick_sell_then_confirm(bot_factory):
    bot = await bot_factory()
    reply = await bot.command("/balance")
    text = reply.params["text"]
    assert "BTC" in text and "Total" in text
    buttons = reply.params["reply_markup"]["inline_keyboard"]
    btc50 = next(b["callback_data"] for row in buttons for b in row if b["text"] == "BTC 50%")
    mark = await bot.press(reply.result["message_id"], btc50)
    preview = await bot.message_after(mark, contains="Sell preview")
    confirm = preview.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    mark = await bot.press(preview.result["message_id"], confirm)
    edit = await bot.edit_after(mark, preview.result["message_id"])
    assert "Order placed" in edit.params["text"]
    posts = bot.upbit.requests_to("POST", "/v1/orders")
    assert len(posts) == 1
    notice = await bot.message_after(mark, contains="Sold")
    assert int(notice.params["chat_id"]) == USER


async def test_the_command_menu_is_set_in_both_languages(bot_factory, telegram_standin):
    # Set beside polling (not before it): it must still arrive, once per language.
    await bot_factory()
    await telegram_standin.await_call(
        "setMyCommands", lambda c: c.params.get("language_code") == "ko", timeout=30
    )
    menus = telegram_standin.calls("setMyCommands")
    assert sorted(str(c.params.get("language_code", "")) for c in menus) == ["", "ko"]
    assert all("sell" in str(call.params["commands"]) for call in menus)
