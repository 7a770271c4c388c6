"""Strangers cost nothing: a flood of strangers' updates (private chats, groups, a channel)
arrives together with the owner's Confirm; the real bot against both stand-ins.

The owner's POST follows the press within 1 s; every stranger gets at most one short reply
(in private only); nothing is said in a group or channel; the bot leaves each of them once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from tests.e2e.harness import STRANGER, USER, BotFactory, RunningBot
from tests.e2e.test_sell_flow import confirm_data, message_id, open_preview, posts, text_of

NOT_ALLOWED = "This bot is private."
PRIVATE_STRANGERS = [STRANGER + i for i in range(30)]  # 4 updates each: 120
GROUPS = {-100_880_001: "supergroup", -100_880_002: "supergroup", -880_003: "group"}
# ... the bot is added to each, then 14 messages each: 45
CHANNEL = -100_990_001  # made admin, then 14 posts: 15
CONFIRM_TO_POST = 1.0  # the bound the issue sets
WAIT = 60.0  # generous: the events below normally come within seconds


async def _until(predicate: object, what: str, timeout: float = WAIT) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _flood(bot: RunningBot) -> int:
    tg = bot.tg
    sent = 0
    for text in ("/balance", "/sell BTC all", "hello", "/start"):
        for uid in PRIVATE_STRANGERS:
            if text.startswith("/"):
                tg.send_command(uid, text)
            else:
                tg.send_text(uid, text)
            sent += 1
    for index, (group, kind) in enumerate(GROUPS.items()):
        adder = STRANGER + 500 + index
        tg.add_bot_to_chat(adder, group, chat_type=kind)
        sent += 1
        for n in range(14):
            sender = adder if n % 2 else STRANGER + 600 + n
            tg.send_command(sender, "/balance", chat_id=group, chat_type=kind)
            sent += 1
    tg.add_bot_to_chat(STRANGER + 700, CHANNEL, chat_type="channel", status="administrator")
    sent += 1
    for n in range(14):
        tg.post_in_channel(CHANNEL, f"post {n}")
        sent += 1
    return sent


async def test_a_flood_of_strangers_does_not_delay_the_owners_confirm(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    preview = await open_preview(bot, "/sell BTC 0.01")
    mark = bot.tg.mark()

    assert _flood(bot) == 180
    pressed_at = time.time()
    await bot.press(message_id(preview), confirm_data(preview))

    await _until(lambda: len(posts(bot)) == 1, "the owner's POST /v1/orders")
    (post,) = posts(bot)
    print(f"Confirm press -> POST /v1/orders: {post.time - pressed_at:.3f} s")
    assert post.time - pressed_at <= CONFIRM_TO_POST, post.time - pressed_at
    await bot.tg.await_edit(
        USER,
        message_id(preview),
        lambda c: "Order placed" in text_of(c),
        timeout=WAIT,
        after=mark,
    )

    # Let the strangers' lane drain: one refusal per private stranger, one leave per chat.
    def refusals() -> Counter[int]:
        return Counter(
            int(c.params["chat_id"])
            for c in bot.tg.calls("sendMessage", after=mark)
            if int(c.params["chat_id"]) != USER
        )

    await _until(lambda: set(PRIVATE_STRANGERS) <= set(refusals()), "a refusal per stranger")
    await _until(lambda: set(bot.tg.left_chats) == {*GROUPS, CHANNEL}, "the groups left")
    # A latecomer's refusal queues behind anything the flood could still cause.
    latecomer = STRANGER + 999
    bot.tg.send_command(latecomer, "/balance")
    await bot.tg.await_message(latecomer, after=mark, timeout=WAIT)

    assert refusals() == Counter(dict.fromkeys([*PRIVATE_STRANGERS, latecomer], 1))
    for call in bot.tg.calls("sendMessage", after=mark):
        if int(call.params["chat_id"]) != USER:
            assert text_of(call) == NOT_ALLOWED
    left = Counter(int(c.params["chat_id"]) for c in bot.tg.calls("leaveChat", after=mark))
    assert left == Counter(dict.fromkeys([*GROUPS, CHANNEL], 1))
    said_in_groups = [
        c
        for c in bot.tg.calls(after=mark)
        if c.method != "leaveChat"
        and str(c.params.get("chat_id")) in {str(g) for g in [*GROUPS, CHANNEL]}
    ]
    assert said_in_groups == []
