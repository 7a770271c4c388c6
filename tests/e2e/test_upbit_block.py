"""A 418 block end to end: /status shows it, and no request of that group leaves the bot."""

from __future__ import annotations

from tests.e2e.harness import BotFactory
from tests.e2e.test_sell_flow import text_of
from tests.standins.upbit import UpbitStandIn

DEFAULT_GROUP = ("/v1/api_keys", "/v1/accounts", "/v1/orders/chance", "/v1/order")


def _default_group_requests(upbit: UpbitStandIn) -> int:
    return sum(len(upbit.requests_to("GET", path)) for path in DEFAULT_GROUP)


async def test_status_shows_the_block_and_nothing_of_that_group_is_sent(
    bot_factory: BotFactory, upbit_standin: UpbitStandIn
) -> None:
    upbit = upbit_standin
    bot = await bot_factory()
    upbit.fail_next("GET", "/v1/api_keys", "418")  # "... blocked for 60 seconds."
    status = text_of(await bot.command("/status"))
    assert "Upbit blocked the bot's default requests" in status, status
    seconds_left = int(status.split("requests (too many requests): ")[1].split(" s left")[0])
    assert 50 < seconds_left <= 60
    sent = _default_group_requests(upbit)

    # During the block: /balance and /sell need the blocked group; nothing is sent.
    await bot.command("/balance")
    await bot.command("/sell BTC 10%")
    again = text_of(await bot.command("/status"))
    assert "Upbit blocked the bot's default requests" in again
    assert _default_group_requests(upbit) == sent

    korean = text_of(await bot.command("/status", language_code="ko"))
    assert "업비트가 봇의 default 요청을 차단했습니다" in korean
