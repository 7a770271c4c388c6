"""SIGTERM while start-up is still talking to Telegram stops the bot cleanly (exit 0, no
traceback, no hang), as it does once it is serving."""

from __future__ import annotations

import pytest

from tests.e2e.process import BotProcess, bot_env


@pytest.mark.parametrize("moment", ["during deleteWebhook", "while serving"])
def test_sigterm_exits_cleanly(telegram_standin, upbit_standin, tmp_path, moment):
    if moment == "during deleteWebhook":
        # Telegram answers slowly, so the signal lands in the middle of start-up.
        telegram_standin.fail_next("deleteWebhook", "slow", delay=1.5)
    env = bot_env(telegram_standin, upbit_standin, tmp_path)
    bot = BotProcess(env, tmp_path, "bot")
    try:
        bot.wait_for_log("bot started")
        if moment == "while serving":
            telegram_standin.wait_for_call("getUpdates", timeout=15)
        else:
            assert telegram_standin.calls("getUpdates") == []
        code, seconds = bot.terminate(timeout=15)
        output = bot.output()
        assert code == 0, output
        assert "Traceback" not in output, output
        assert seconds < 8
    finally:
        bot.close()


def test_a_rejected_token_is_never_printed(telegram_standin, upbit_standin, tmp_path):
    # A well-formed token the Bot API refuses: PTB's InvalidToken message contains it.
    token = "987654321:REJECTED-token-abcdefghijklmnopqrstu"
    env = bot_env(telegram_standin, upbit_standin, tmp_path, TELEGRAM_BOT_TOKEN=token)
    bot = BotProcess(env, tmp_path, "bot")
    try:
        code = bot.proc.wait(timeout=30)
        output = bot.output()
        assert code == 1, output
        assert "bot stopped" in output
        assert token not in output
        assert "REJECTED-token" not in output
    finally:
        bot.close()
