"""The chart child process and the Telegram stand-in's sendPhoto checks."""

from __future__ import annotations

import io
import os
from decimal import Decimal

import pytest
from PIL import Image
from telegram import InputFile
from telegram.error import BadRequest

from bot.charts import runner
from bot.charts.runner import SubprocessChartRenderer
from bot.services.profit import BarChart, ChartFailed
from tests.standins.telegram import TelegramStandin, image_size
from tests.test_telegram_standin import USER, build_app


def test_the_child_gets_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:secret")
    monkeypatch.setenv("UPBIT_SECRET_KEY", "secret")
    env = runner._child_env()
    assert "TELEGRAM_BOT_TOKEN" not in env and "UPBIT_SECRET_KEY" not in env
    assert env["PATH"] == os.environ["PATH"]


async def test_child_process_draws_a_png() -> None:
    chart = BarChart("P/L by day, KRW (KST)", ("12-01", "12-02"), (Decimal(5), Decimal(-3)))
    png = await SubprocessChartRenderer().bar_chart(chart)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (900, 500) == image_size(png)


@pytest.mark.parametrize(
    "chart",
    [
        BarChart("no bars", (), ()),
        BarChart("labels and values disagree", ("12-01",), (Decimal(1), Decimal(2))),
        BarChart("not a number", ("12-01",), (Decimal("NaN"),)),
    ],
)
async def test_a_failed_drawing_is_a_chart_failure(chart: BarChart) -> None:
    with pytest.raises(ChartFailed):
        await SubprocessChartRenderer().bar_chart(chart)


async def test_standin_send_photo_checks_like_telegram(telegram_standin: TelegramStandin) -> None:
    png = await SubprocessChartRenderer().bar_chart(BarChart("t", ("a",), (Decimal(1),)))
    async with build_app(telegram_standin) as app:
        message = await app.bot.send_photo(USER, InputFile(png, filename="c.png"), caption="P/L")
        assert message.photo[-1].width == 900 and message.caption == "P/L"
        assert telegram_standin.calls("sendPhoto")[-1].files["photo"].data == png
        broken = png[:-20]  # cut short: no IEND
        for data in (b"not an image", broken, png[:29] + b"\0\0\0\0" + png[33:]):
            with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
                await app.bot.send_photo(USER, InputFile(data, filename="c.png"))
        thin = io.BytesIO()
        Image.new("RGB", (2100, 100)).save(thin, format="PNG")
        with pytest.raises(BadRequest, match=r"(?i)photo_invalid_dimensions"):
            await app.bot.send_photo(USER, InputFile(thin.getvalue(), filename="c.png"))
        with pytest.raises(BadRequest, match="caption is too long"):
            await app.bot.send_photo(USER, InputFile(png, filename="c.png"), caption="x" * 1025)
