"""Stopping the bot process: SIGTERM and Ctrl-C (SIGINT), while start-up is still talking to
Telegram and while serving, exit 0 with no traceback and no hang; a rejected token is never
printed."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.process import BotProcess, bot_env


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("moment", ["during deleteWebhook", "while serving"])
def test_stop_signal_exits_cleanly(telegram_standin, upbit_standin, tmp_path, moment, sig):
    if moment == "during deleteWebhook":
        # Telegram answers slowly, so the signal lands in the middle of start-up.
        telegram_standin.fail_next("deleteWebhook", "slow", delay=2.0)
    env = bot_env(telegram_standin, upbit_standin, tmp_path)
    bot = BotProcess(env, tmp_path, "bot")
    try:
        if moment == "while serving":
            telegram_standin.wait_for_call("getUpdates", timeout=20)
        else:
            telegram_standin.wait_for_call("deleteWebhook", timeout=20, completed=False)
            assert not telegram_standin.calls("deleteWebhook")[0].done  # still in flight
        code, seconds = bot.terminate(timeout=15, sig=sig)
        output = bot.output()
        assert code == 0, output
        assert "Traceback" not in output, output
        assert "bot stopped" in output
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
        assert "REJECTED-token" not in output
    finally:
        bot.close()
