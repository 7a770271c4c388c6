"""Fill-notice latency: from "Upbit marks the order filled" to "the notice reaches Telegram".

Starts both stand-ins and the real bot in this process (as the e2e harness does), places N
market sells one by one with auto-fill off, then for each: fill it on the Upbit stand-in and
time until the fill notice arrives at the Telegram stand-in. Once with the WebSocket (poll
interval 60 s, so only the socket can explain a fast notice), once polling only (socket
off, default poll interval 1.0 s).

    python -m bench.fill_latency [-n 20] [--poll 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from bot.db.migrate import upgrade_to_head_async
from tests.e2e.harness import USER, bot_settings, running_bot
from tests.e2e.process import is_notice, place_order
from tests.standins.fixtures_telegram import DEFAULT_TOKEN
from tests.standins.telegram import Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn


async def _run(mode: str, n: int, poll: float) -> list[float]:
    tg = TelegramStandin(token=DEFAULT_TOKEN).start()
    upbit = UpbitStandIn()
    upbit.seed_basic()
    upbit.set_account("BTC", balance=Decimal(10), avg_buy_price=Decimal(90_000_000))
    upbit.auto_fill = False
    upbit.start()
    samples: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            overrides: dict[str, object] = {"database_url": f"sqlite:///{Path(tmp)}/bench.db"}
            if mode == "websocket":
                overrides["poll_interval_seconds"] = 60.0
            else:
                overrides["upbit_ws_url"] = ""
                overrides["poll_interval_seconds"] = poll
            settings = bot_settings(tg, upbit, **overrides)  # type: ignore[arg-type]
            await upgrade_to_head_async(settings.database_url)
            async with running_bot(settings, tg, upbit) as bot:
                if mode == "websocket":
                    await asyncio.to_thread(upbit.wait_for_ws_subscribers, 1, 10.0)
                    while not bot.services.watcher.ws_connected:
                        await asyncio.sleep(0.05)
                for _ in range(n):
                    uuid, mark = await place_order(bot, "/sell BTC 0.01")
                    # Let the wake-up sweep after placing finish, then fill at a random phase
                    # of the poll cycle (a fixed pause would always hit the same phase).
                    await asyncio.sleep(0.2 + random.uniform(0, poll))
                    started = time.perf_counter()
                    upbit.fill_order(uuid)
                    await tg.await_message(USER, _notice_of(uuid), timeout=30, after=mark)
                    samples.append(time.perf_counter() - started)
    finally:
        upbit.stop()
        tg.stop()
    return samples


def _notice_of(uuid: str) -> Callable[[Call], bool]:
    return lambda call: is_notice(call, uuid)


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=20, help="orders per mode (default 20)")
    parser.add_argument("--poll", type=float, default=1.0, help="poll interval in polling mode")
    args = parser.parse_args()
    rows = []
    for mode in ("websocket", "polling"):
        samples = asyncio.run(_run(mode, args.n, args.poll))
        rows.append((mode, samples))
    print(f"fill → notice latency, {args.n} orders per mode (seconds)")
    print(f"{'mode':<22}{'median':>9}{'p95':>9}{'min':>9}{'max':>9}")
    for mode, samples in rows:
        label = mode if mode == "websocket" else f"polling ({args.poll:g} s)"
        print(
            f"{label:<22}{statistics.median(samples):>9.3f}{_p95(samples):>9.3f}"
            f"{min(samples):>9.3f}{max(samples):>9.3f}"
        )


if __name__ == "__main__":
    main()
