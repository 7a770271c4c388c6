"""End-to-end latency/resource benchmark of the real bot process against both stand-ins.

    python -m bench.run            # full run (~1-2 min)
    python -m bench.run --quick    # smoke run, a few iterations (~20 s)
    python -m bench.run --profile bench/results/bot.prof   # main bot run under cProfile

Starts the Telegram and Upbit stand-ins in this process, then ``python -m bot`` as a child
process pointed at them (the env a deployment would set), drives it like a user and reads
the stand-ins' recordings. Prints a table (target, pass/miss per row) and writes
``bench/results/latest.json``.

Clocks: both stand-ins stamp requests with ``time.time()`` (Telegram ``Call.at``; Upbit
``RecordedRequest.time``), so every latency here is ``stand-in stamp - time.time()`` taken
right before the user action was injected. The bench's own Upbit stand-in subclass also
stamps when each request's handling ended (``Span``), and the Telegram stand-in's public
``on_call`` hook stamps when each Bot API call was answered: together they give the
request timelines used to spot calls that run one after another but need not.
Locally timed work (the tutorial baseline) uses ``time.perf_counter()``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.tutorial_baseline import STEPS, Tutorial
from tests.e2e.process import BotProcess, bot_env
from tests.standins.telegram import DEFAULT_TOKEN, Call, TelegramStandin
from tests.standins.upbit import UpbitStandIn

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "latest.json"

USER = 1001
CROWD = tuple(range(2001, 2051))  # the 50 users of the concurrent /balance run
# Long enough (>= 64 bytes) that PyJWT never warns about the HMAC key length.
SECRET_KEY = "bench-secret-key-" + "0123456789abcdef" * 4
ACCESS_KEY = "bench-access-key"
EXTRA_COINS = tuple(f"C{i:02d}" for i in range(30))  # the 30-holdings /balance run
MANY_COINS = tuple(f"H{i:03d}" for i in range(300))  # the 300-holdings /balance run
BTC_BALANCE = Decimal("0.1")

SCENARIO_KEYS = (
    "confirm_to_post",
    "confirm_to_post_ws_off",
    "balance_300_holdings",
    "scale_websocket",
    "scale_polling",
    "sell_to_preview",
    "balance_1_holding",
    "balance_30_holdings",
    "fill_notice_websocket",
    "fill_notice_polling",
    "upbit_calls_per_flow",
    "latency_probe",
    "startup",
    "memory",
    "crowd_balance_50_users",
    "tutorial_baseline",
    "bot_vs_tutorial",
)

NOTICE_HEADS = (
    "<b>Sold</b>",
    "<b>Partially sold</b>",
    "<b>Order closed without a fill</b>",
    "<b>Order not placed</b>",
)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Plan:
    sell: int = 30  # /sell → preview → Confirm flows (auto fill)
    balance: int = 30  # per holdings size
    fill: int = 20  # per mode (WebSocket, polling)
    crowd_rounds: int = 3  # 50-user bursts
    baseline: int = 30  # tutorial flows
    extra_startups: int = 3  # start-only launches (more start-up samples)
    pace: float = 0.3  # minimum seconds per sell flow (keeps under Upbit's per-second limits)
    probe: int = 5  # flows (bot and tutorial) with a simulated Upbit latency
    probe_latency: float = 0.02  # seconds added to every Upbit request in the probe
    scale_orders: int = 500  # resting limit orders in the scale scenario
    scale_alerts: int = 200  # alerts in the scale scenario
    scale_window: float = 10.0  # seconds of watching counted
    scale_samples: int = 30  # closes measured per mode
    scale_alert_markets: int = 8  # markets moved across their alerts' targets (~6 alerts each)

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            sell=3,
            balance=3,
            fill=2,
            crowd_rounds=1,
            baseline=3,
            extra_startups=0,
            probe=1,
            scale_orders=30,
            scale_alerts=10,
            scale_window=2.0,
            scale_samples=1,
            scale_alert_markets=1,
        )


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def stats_ms(seconds: Sequence[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "min_ms": round(min(ms), 2),
        "max_ms": round(max(ms), 2),
    }


# --------------------------------------------------------------------------- stand-ins


@dataclass(frozen=True)
class Span:
    """One Upbit REST request as the stand-in handled it (``time.time()`` stamps)."""

    method: str
    path: str
    start: float
    end: float
    status: int

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"


class TimedUpbit(UpbitStandIn):
    """The Upbit stand-in, plus the end time of every request (it records only arrival)
    and an optional simulated server latency (``latency`` seconds per request)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spans: list[Span] = []
        self.latency = 0.0
        self._span_lock = threading.Lock()

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body_bytes: bytes
    ) -> Any:
        start = time.time()
        if self.latency:
            time.sleep(self.latency)
        reply, extra = super()._handle(method, raw_path, headers, body_bytes)
        span = Span(method, urlsplit(raw_path).path, start, time.time(), reply.status)
        with self._span_lock:
            self.spans.append(span)
        return reply, extra

    def spans_since(self, index: int) -> list[Span]:
        with self._span_lock:
            return sorted(self.spans[index:], key=lambda s: s.start)

    def span_mark(self) -> int:
        with self._span_lock:
            return len(self.spans)


def telegram_nodelay() -> None:
    """Make the Telegram stand-in answer without the ~40 ms Nagle/delayed-ACK stall.

    Its handler writes the headers and the body in two ``send`` calls without
    ``TCP_NODELAY`` (the Upbit stand-in sets both ``disable_nagle_algorithm`` and a write
    buffer), so the body of every answer (``getUpdates`` included) waits for the client's
    delayed ACK: about 40 ms per update on Linux, which real Telegram does not add. The
    bench sets the stdlib's ``disable_nagle_algorithm`` on the handler class, in this
    process only (``--telegram-as-is`` keeps the stall).
    """
    from tests.standins import telegram as telegram_module

    telegram_module._Handler.disable_nagle_algorithm = True


class TelegramEnds:
    """When each Bot API call was answered, via the stand-in's public ``on_call`` hook."""

    def __init__(self, tg: TelegramStandin) -> None:
        self._ends: dict[int, float] = {}
        self._lock = threading.Lock()
        tg.on_call = self._on_call

    def _on_call(self, call: Call) -> None:
        with self._lock:
            self._ends[call.index] = time.time()

    def end(self, call: Call) -> float | None:
        with self._lock:
            return self._ends.get(call.index)


def seed(upbit: UpbitStandIn) -> None:
    upbit.seed_basic()
    for i, coin in enumerate(EXTRA_COINS):
        price = Decimal(1000 + 100 * i)
        upbit.add_market(
            f"KRW-{coin}",
            bids=[(price - j, Decimal(1000)) for j in range(10)],
            asks=[(price + 1 + j, Decimal(1000)) for j in range(10)],
            trade_price=price,
        )
    for i, coin in enumerate(MANY_COINS):
        price = Decimal(2000 + 10 * i)
        upbit.add_market(
            f"KRW-{coin}",
            bids=[(price - 1, Decimal(1000))],
            asks=[(price + 1, Decimal(1000))],
            trade_price=price,
        )
    reset_btc(upbit)


def reset_btc(upbit: UpbitStandIn) -> None:
    upbit.set_account("BTC", balance=BTC_BALANCE, avg_buy_price=Decimal(90_000_000))


def set_holdings(upbit: UpbitStandIn, extra: bool) -> None:
    """KRW + BTC only (one coin), or KRW + BTC + 29 more coins (30 coins)."""
    for currency in ("ETH", "XRP", *EXTRA_COINS, *MANY_COINS):
        upbit.remove_account(currency)
    reset_btc(upbit)
    if extra:
        for coin in EXTRA_COINS[:29]:
            upbit.set_account(coin, balance=Decimal(100), avg_buy_price=Decimal(900))


# --------------------------------------------------------------------------- the bot process


def read_memory(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in MB."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def start_bot(
    tg: TelegramStandin,
    upbit: UpbitStandIn,
    workdir: Path,
    name: str,
    *,
    websocket: bool = True,
    profile: Path | None = None,
) -> tuple[BotProcess, float]:
    """``python -m bot`` (optionally under cProfile) with the stand-ins' env, once it polls
    Telegram; (the process, seconds from start to its first ``getUpdates``)."""
    env = bot_env(
        tg,
        upbit,
        workdir,
        ALLOWED_USER_IDS=",".join(str(u) for u in (USER, *CROWD)),
        UPBIT_WS_URL=upbit.ws_url if websocket else "",
        DATABASE_URL=f"sqlite:///{workdir}/{name}.db",
        LOG_LEVEL="WARNING",
    )
    del env["POLL_INTERVAL_SECONDS"]  # the default a deployment runs with
    argv = [sys.executable]
    if profile is not None:
        argv += ["-m", "cProfile", "-o", str(profile.resolve())]
    argv += ["-m", "bot"]
    mark = tg.mark()
    bot = BotProcess(env, workdir, name, argv=argv)
    try:
        first_poll = tg.wait_for_call("getUpdates", timeout=30, after=mark, completed=False)
    except TimeoutError:
        bot.stop()
        raise RuntimeError(f"the bot did not start:\n{bot.output()}") from None
    return bot, first_poll.at - bot.started_at


# --------------------------------------------------------------------------- user actions


def text_of(call: Call) -> str:
    return str(call.params.get("text", ""))


def is_notice(call: Call, uuid: str) -> bool:
    text = text_of(call)
    return any(head in text for head in NOTICE_HEADS) and uuid in text


def uuid_in(text: str) -> str:
    start = text.index("<code>") + len("<code>")
    return text[start : text.index("</code>", start)]


@dataclass
class Flow:
    """One /sell → preview → Confirm → order placed, with the stand-ins' stamps."""

    t_sell: float
    preview: Call
    t_press: float
    placed: Call
    uuid: str
    span_mark: int
    tg_mark: int


class Driver:
    def __init__(self, tg: TelegramStandin, upbit: TimedUpbit, ends: TelegramEnds) -> None:
        self.tg = tg
        self.upbit = upbit
        self.ends = ends
        self._users = itertools.cycle((USER, *CROWD))

    def next_user(self) -> int:
        """The users take turns: one chat gets about one message a second from Telegram
        (the stand-in's per-chat flood control), and a paced run of flows in one chat
        would measure its 429 waits instead of the bot."""
        return next(self._users)

    def sell(self, text: str = "/sell BTC 50%", user: int = USER) -> Flow:
        span_mark = self.upbit.span_mark()
        tg_mark = self.tg.mark()
        t_sell = time.time()
        self.tg.send_command(user, text)
        preview = self.tg.wait_for_message(
            user, lambda c: "Sell preview" in text_of(c), timeout=15, after=tg_mark
        )
        message_id = preview.result["message_id"]
        data = preview.callback_data[0]
        mark = self.tg.mark()
        t_press = time.time()
        self.tg.press_button(user, message_id, data)
        placed = self.tg.wait_for_edit(
            user, message_id, lambda c: "Order placed" in text_of(c), timeout=15, after=mark
        )
        return Flow(t_sell, preview, t_press, placed, uuid_in(text_of(placed)), span_mark, tg_mark)

    def notice(self, flow: Flow, user: int = USER, timeout: float = 15) -> Call:
        return self.tg.wait_for_message(
            user, lambda c: is_notice(c, flow.uuid), timeout=timeout, after=flow.tg_mark
        )

    def balance(self, user: int = USER) -> float:
        mark = self.tg.mark()
        t0 = time.time()
        self.tg.send_command(user, "/balance")
        reply = self.tg.wait_for_message(
            user, lambda c: "Your Upbit holdings" in text_of(c), timeout=15, after=mark
        )
        return reply.at - t0


def paced(interval: float) -> Iterator[None]:
    """Yield forever, each step at least ``interval`` seconds after the previous one."""
    while True:
        start = time.monotonic()
        yield
        left = interval - (time.monotonic() - start)
        if left > 0:
            time.sleep(left)


# --------------------------------------------------------------------------- scenarios


def overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def flow_calls(driver: Driver, flow: Flow, notice: Call) -> dict[str, Any]:
    """The Upbit requests of one flow, by phase, with the timeline (ms from /sell)."""
    spans = [s for s in driver.upbit.spans_since(flow.span_mark) if s.start <= notice.at]
    phases: dict[str, list[Span]] = {"preview": [], "confirm": [], "fill": []}
    for span in spans:
        if span.start <= flow.preview.at:
            phases["preview"].append(span)
        elif span.start <= flow.placed.at:
            phases["confirm"].append(span)
        else:
            phases["fill"].append(span)
    # Within the preview every read is independent of the others (the market is guessed
    # from the command); confirm (chance → POST) and fill (POST → GET order) are chains.
    preview = phases["preview"]
    pairs = [(a, b) for i, a in enumerate(preview) for b in preview[i + 1 :]]
    sequential = [f"{a.endpoint} then {b.endpoint}" for a, b in pairs if not overlap(a, b)]
    t0 = flow.t_sell
    return {
        "by_endpoint": dict(Counter(s.endpoint for s in spans)),
        "by_phase": {k: [s.endpoint for s in v] for k, v in phases.items()},
        "total": len(spans),
        "preview_independent_pairs": len(pairs),
        "preview_pairs_overlapping": len(pairs) - len(sequential),
        "preview_pairs_sequential": sequential,
        "timeline_ms": [
            [s.endpoint, round((s.start - t0) * 1000, 2), round((s.end - t0) * 1000, 2)]
            for s in spans
        ],
    }


def confirm_timeline(driver: Driver, flow: Flow) -> list[list[Any]]:
    """What happens between the press and the POST, Telegram calls included (ms)."""
    rows: list[list[Any]] = []
    for call in driver.tg.calls(after=flow.tg_mark):
        if flow.t_press <= call.at <= flow.placed.at and call.method != "getUpdates":
            end = driver.ends.end(call)
            rows.append(
                [
                    f"telegram {call.method}",
                    round((call.at - flow.t_press) * 1000, 2),
                    round(((end or call.at) - flow.t_press) * 1000, 2),
                ]
            )
    for span in driver.upbit.spans_since(flow.span_mark):
        if flow.t_press <= span.start <= flow.placed.at:
            rows.append(
                [
                    f"upbit {span.endpoint}",
                    round((span.start - flow.t_press) * 1000, 2),
                    round((span.end - flow.t_press) * 1000, 2),
                ]
            )
    rows.sort(key=lambda r: float(r[1]))
    return rows


@dataclass
class FlowRuns:
    preview_s: list[float] = field(default_factory=list)
    confirm_s: list[float] = field(default_factory=list)
    confirm_done_s: list[float] = field(default_factory=list)
    bot_flow_s: list[float] = field(default_factory=list)
    flows: list[dict[str, Any]] = field(default_factory=list)
    timelines: list[list[list[Any]]] = field(default_factory=list)


def sell_flows(driver: Driver, count: int, pace: float) -> FlowRuns:
    upbit = driver.upbit
    upbit.auto_fill = True
    runs = FlowRuns()
    steps = paced(pace)
    for _ in range(count):
        next(steps)
        reset_btc(upbit)
        user = driver.next_user()
        flow = driver.sell(user=user)
        notice = driver.notice(flow, user=user)
        post = next(
            s
            for s in upbit.spans_since(flow.span_mark)
            if s.endpoint == "POST /v1/orders" and s.start >= flow.t_press
        )
        runs.preview_s.append(flow.preview.at - flow.t_sell)
        runs.confirm_s.append(post.start - flow.t_press)
        runs.confirm_done_s.append(post.end - flow.t_press)
        runs.bot_flow_s.append((flow.preview.at - flow.t_sell) + (post.end - flow.t_press))
        runs.flows.append(flow_calls(driver, flow, notice))
        runs.timelines.append(confirm_timeline(driver, flow))
    return runs


def run_sell_flows(driver: Driver, plan: Plan, results: dict[str, Any]) -> None:
    upbit = driver.upbit
    upbit.auto_fill = True
    reset_btc(upbit)
    warm = driver.sell()  # first flow opens connections, fills caches: not counted
    driver.notice(warm)
    limited = upbit.rate_limited_count
    runs = sell_flows(driver, plan.sell, plan.pace)
    confirm_s, flows, timelines = runs.confirm_s, runs.flows, runs.timelines
    results["sell_to_preview"] = stats_ms(runs.preview_s)
    results["confirm_to_post"] = stats_ms(confirm_s) | {
        "press_to_post_answered": stats_ms(runs.confirm_done_s)
    }
    results["_bot_flow"] = stats_ms(runs.bot_flow_s)
    totals = [f["total"] for f in flows]
    endpoint_counts: Counter[str] = Counter()
    for f in flows:
        endpoint_counts.update(f["by_endpoint"])
    median_index = sorted(range(len(confirm_s)), key=lambda i: confirm_s[i])[len(confirm_s) // 2]
    results["upbit_calls_per_flow"] = {
        "flows": len(flows),
        "median_total": statistics.median(totals),
        "per_flow_by_endpoint": {
            k: round(v / len(flows), 2) for k, v in sorted(endpoint_counts.items())
        },
        "by_phase_example": flows[median_index]["by_phase"],
        "preview_independent_pairs": flows[median_index]["preview_independent_pairs"],
        "preview_pairs_run_sequentially_median": statistics.median(
            len(f["preview_pairs_sequential"]) for f in flows
        ),
        "preview_sequential_example": flows[median_index]["preview_pairs_sequential"],
        "timeline_example_ms": flows[median_index]["timeline_ms"],
        "confirm_timeline_example_ms": timelines[median_index],
        "http_429": upbit.rate_limited_count - limited,
    }


def run_latency_probe(driver: Driver, plan: Plan, results: dict[str, Any]) -> None:
    """The same flows with every Upbit request taking ``probe_latency`` longer (a WAN-like
    server): requests the bot sends concurrently now overlap at the stand-in, so pairs that
    do not overlap were sent one after another."""
    upbit = driver.upbit
    tutorial = Tutorial(upbit.access_key, upbit.secret_key, upbit.url)
    upbit.latency = plan.probe_latency
    try:
        runs = sell_flows(driver, plan.probe, plan.pace)
        tutorial_s: list[float] = []
        steps = paced(plan.pace)
        for _ in range(plan.probe):
            next(steps)
            reset_btc(upbit)
            tutorial_s.append(tutorial_flow(tutorial, upbit)["to_post_done"])
    finally:
        upbit.latency = 0.0
    bot = stats_ms(runs.bot_flow_s)
    base = stats_ms(tutorial_s)
    middle = sorted(range(len(runs.flows)), key=lambda i: runs.bot_flow_s[i])[plan.probe // 2]
    example = runs.flows[middle]
    results["latency_probe"] = {
        "upbit_latency_ms": plan.probe_latency * 1000,
        "flows": plan.probe,
        "sell_to_preview": stats_ms(runs.preview_s),
        "confirm_to_post": stats_ms(runs.confirm_s),
        "bot_flow": bot,
        "tutorial_to_post_done": base,
        "ratio": round(bot["median_ms"] / base["median_ms"], 3),
        "preview_independent_pairs": example["preview_independent_pairs"],
        "preview_pairs_run_sequentially_median": statistics.median(
            len(f["preview_pairs_sequential"]) for f in runs.flows
        ),
        "preview_sequential_example": example["preview_pairs_sequential"],
        "timeline_example_ms": example["timeline_ms"],
        "confirm_timeline_example_ms": runs.timelines[middle],
    }


def run_balance(driver: Driver, plan: Plan, results: dict[str, Any]) -> None:
    for key, extra in (("balance_1_holding", False), ("balance_30_holdings", True)):
        set_holdings(driver.upbit, extra)
        limited = driver.upbit.rate_limited_count
        driver.balance(driver.next_user())  # warm-up
        samples: list[float] = []
        steps = paced(0.25)
        for _ in range(plan.balance):
            next(steps)
            samples.append(driver.balance(driver.next_user()))
        results[key] = stats_ms(samples) | {
            "coins": 30 if extra else 1,
            "http_429": driver.upbit.rate_limited_count - limited,
        }
    set_holdings(driver.upbit, False)


def run_fills(driver: Driver, plan: Plan, key: str, results: dict[str, Any]) -> None:
    upbit = driver.upbit
    upbit.auto_fill = False
    samples: list[float] = []
    try:
        for _ in range(plan.fill):
            reset_btc(upbit)
            user = driver.next_user()
            flow = driver.sell(user=user)
            # Let the wake-up sweep after placing finish, then fill at a random phase of the
            # poll cycle (a fixed delay would always land at the same point of the 1 s poll).
            time.sleep(0.25 + random.random())
            t_fill = time.time()
            upbit.fill_order(flow.uuid)
            samples.append(driver.notice(flow, user=user, timeout=30).at - t_fill)
            time.sleep(0.1)
    finally:
        upbit.auto_fill = True
    results[key] = stats_ms(samples)


def run_confirm_ws_off(driver: Driver, plan: Plan, results: dict[str, Any]) -> None:
    """Confirm -> POST with the WebSocket off (the polling bot)."""
    reset_btc(driver.upbit)
    driver.notice(driver.sell())  # warm-up
    runs = sell_flows(driver, max(2, plan.sell // 2), plan.pace)
    results["confirm_to_post_ws_off"] = stats_ms(runs.confirm_s) | {
        "press_to_post_answered": stats_ms(runs.confirm_done_s)
    }


def run_balance_300(driver: Driver, plan: Plan, results: dict[str, Any]) -> None:
    """/balance with 300 coins held: Upbit calls, time to the first message and to the LAST
    message of the answer (every message the bot sends the chat in the 2 s after the one
    with the totals and the keyboard), then ▶ (a large account's answer is paged): time
    until the page's edit arrives and its Upbit calls."""
    upbit = driver.upbit
    set_holdings(upbit, False)
    for coin in MANY_COINS[:299]:
        upbit.set_account(coin, balance=Decimal(10), avg_buy_price=Decimal(1500))
    try:
        tg = driver.tg
        first: list[float] = []
        whole: list[float] = []
        parts: list[int] = []
        calls: list[int] = []
        press: list[float] = []
        press_calls: list[int] = []
        for i in range(1 + max(3, plan.balance // 3)):  # the first is a warm-up
            time.sleep(2.0)  # an idle chat: Telegram's per-chat pace is not what is measured
            mark, span = tg.mark(), upbit.span_mark()
            t0 = time.time()
            tg.send_command(USER, "/balance")
            tg.wait_for_message(
                USER,
                lambda c: (
                    "Total assets" in text_of(c) and c.params.get("reply_markup") is not None
                ),
                timeout=60,
                after=mark,
            )
            time.sleep(2.0)  # whatever else belongs to the answer arrives meanwhile
            sent = [c for c in tg.calls("sendMessage", after=mark) if int(c.chat_id) == USER]
            last = max(sent, key=lambda c: c.at)
            keyboard = next(c for c in sent if c.params.get("reply_markup") is not None)
            answer_calls = len([s for s in upbit.spans_since(span) if s.start <= last.at])
            paged = "bp:2" in keyboard.callback_data
            if paged:
                mark, span = tg.mark(), upbit.span_mark()
                t1 = time.time()
                tg.press_button(USER, keyboard.result["message_id"], "bp:2")
                edit = tg.wait_for_edit(
                    USER, keyboard.result["message_id"], timeout=30, after=mark
                )
                if i > 0:
                    press.append(edit.at - t1)
                    press_calls.append(
                        len([s for s in upbit.spans_since(span) if s.start <= edit.at])
                    )
            if i == 0:
                continue
            first.append(min(c.at for c in sent) - t0)
            whole.append(last.at - t0)
            parts.append(len(sent))
            calls.append(answer_calls)
        results["balance_300_holdings"] = stats_ms(first) | {
            "coins": 300,
            "whole_answer": stats_ms(whole),
            "messages": statistics.median(parts),
            "upbit_calls_median": statistics.median(calls),
            "upbit_calls_max": max(calls),
            "page_press": stats_ms(press) | {"upbit_calls_max": max(press_calls, default=0)},
        }
    finally:
        set_holdings(upbit, False)


def run_pnl_memory(driver: Driver, pid: int, results: dict[str, Any]) -> None:
    """Idle RSS once a /pnl chart has been drawn (the chart is drawn in a child process)."""
    mark = driver.tg.mark()
    driver.tg.send_command(USER, "/pnl")
    driver.tg.wait_for_call("sendPhoto", timeout=60, after=mark)
    time.sleep(1.5)
    results["memory_after_pnl_chart_mb"] = read_memory(pid).get("VmRSS", float("nan"))


def run_scale(
    tg: TelegramStandin,
    driver: Driver,
    workdir: Path,
    plan: Plan,
    *,
    websocket: bool,
    results: dict[str, Any],
) -> None:
    """500 resting limit orders and 200 alerts: Upbit calls a second, close -> notice,
    price -> alert message, peak RSS."""
    from bench import scale

    upbit = driver.upbit
    name = "scale-ws" if websocket else "scale-poll"
    upbit.set_account("BTC", balance=Decimal(1), avg_buy_price=Decimal(90_000_000))
    markets = ["KRW-BTC", *(f"KRW-{c}" for c in EXTRA_COINS)]
    seeded = scale.seed_database(
        f"sqlite:///{workdir}/{name}.db",
        upbit,
        plan.scale_orders,
        plan.scale_alerts,
        (USER, *CROWD),
        markets,
    )
    bot, _ = start_bot(tg, upbit, workdir, name, websocket=websocket)
    try:
        if websocket:
            upbit.wait_for_ws_subscribers(1, 10)
        time.sleep(3.0)  # the first sweeps and subscriptions
        rate = scale.calls_per_second(driver, plan.scale_window)
        closes = scale.close_latencies(driver, seeded.orders, plan.scale_samples)
        alerts = scale.alert_latencies(driver, seeded.alerts_by_market, plan.scale_alert_markets)
        memory = read_memory(bot.pid)
    finally:
        bot.stop()
        reset_btc(upbit)
    results[f"scale_{'websocket' if websocket else 'polling'}"] = {
        "orders": plan.scale_orders,
        "alerts": plan.scale_alerts,
        "upbit_calls": rate,
        "close_to_notice": scale.summary(closes),
        "alert_to_message": scale.summary(alerts),
        "peak_rss_mb": memory.get("VmHWM", float("nan")),
        "rss_mb": memory.get("VmRSS", float("nan")),
    }


def run_crowd(driver: Driver, plan: Plan, results: dict[str, Any]) -> None:
    tg, upbit = driver.tg, driver.upbit
    set_holdings(upbit, False)
    limited = upbit.rate_limited_count
    tg_limited = len(tg.rate_limited)
    latencies: list[float] = []
    throughputs: list[float] = []
    wrong: list[str] = []
    for round_no in range(plan.crowd_rounds):
        if round_no:
            time.sleep(1.5)  # a fresh rate-limit second
        mark = tg.mark()
        injected: dict[int, float] = {}
        for user in CROWD:
            injected[user] = time.time()
            tg.send_command(user, "/balance")
        last = 0.0
        for user in CROWD:
            reply = tg.wait_for_message(user, timeout=30, after=mark)
            if "Your Upbit holdings" not in text_of(reply):
                wrong.append(text_of(reply)[:120])
            latencies.append(reply.at - injected[user])
            last = max(last, reply.at)
        throughputs.append(len(CROWD) / (last - injected[CROWD[0]]))
    results["crowd_balance_50_users"] = stats_ms(latencies) | {
        "users": len(CROWD),
        "rounds": plan.crowd_rounds,
        "throughput_per_s": round(statistics.median(throughputs), 1),
        "http_429": upbit.rate_limited_count - limited,
        "telegram_429": len(tg.rate_limited) - tg_limited,
        # The k-th reply of a burst cannot leave before k/30 s at Telegram's 30 messages a
        # second: the p95 that rate allows.
        "p95_allowed_by_30_per_s_ms": round(
            percentile([k / 30 for k in range(1, len(CROWD) + 1)], 95) * 1000, 1
        ),
        "non_balance_replies": len(wrong),
        "non_balance_examples": wrong[:3],
    }


def tutorial_flow(tutorial: Tutorial, upbit: UpbitStandIn) -> dict[str, float]:
    """One run of the tutorial's flow. The tutorial has no error handling, and it shares the
    key's per-second budget with the bot: when the stand-in refused a call before the order
    was sent (a plain-text 429, or a 418 block), the run is repeated once, after the block is
    lifted and the next second has begun (when Upbit's budget renews)."""
    posts = len(upbit.requests_to("POST", "/v1/orders"))
    try:
        return tutorial.run_once()
    except requests.exceptions.JSONDecodeError:
        last = upbit.last_request()
        refused = last is not None and last.status in (418, 429)
        if not refused or len(upbit.requests_to("POST", "/v1/orders")) != posts:
            raise
    print(f"  tutorial refused with {last.status if last else '?'}; repeating the run once")
    upbit.unblock()
    time.sleep(1.0)
    return tutorial.run_once()


def run_baseline(upbit: UpbitStandIn, plan: Plan, results: dict[str, Any]) -> None:
    tutorial = Tutorial(upbit.access_key, upbit.secret_key, upbit.url)
    upbit.auto_fill = True
    reset_btc(upbit)
    tutorial.run_once()  # warm-up
    runs: list[dict[str, float]] = []
    limited = upbit.rate_limited_count
    steps = paced(plan.pace)
    for _ in range(plan.baseline):
        next(steps)
        reset_btc(upbit)
        runs.append(tutorial_flow(tutorial, upbit))
    results["tutorial_baseline"] = {
        step: stats_ms([r[step] for r in runs]) for step in (*STEPS, "to_post_done", "total")
    } | {"http_429": upbit.rate_limited_count - limited}


# --------------------------------------------------------------------------- table


@dataclass
class Row:
    name: str
    value: str
    target: str
    ok: bool | None  # None: informational


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, name: str, value: str, target: str = "", ok: bool | None = None) -> None:
        self.rows.append(Row(name, value, target, ok))

    def render(self) -> str:
        widths = [
            max(len(r.name) for r in self.rows),
            max(len(r.value) for r in self.rows),
            max(len(r.target) for r in self.rows),
        ]
        head = f"{'scenario':<{widths[0]}}  {'measured':<{widths[1]}}  {'target':<{widths[2]}}  "
        lines = [head + "result", "-" * (len(head) + 6)]
        for r in self.rows:
            verdict = "" if r.ok is None else ("pass" if r.ok else "MISS")
            lines.append(
                f"{r.name:<{widths[0]}}  {r.value:<{widths[1]}}  {r.target:<{widths[2]}}  "
                f"{verdict}"
            )
        return "\n".join(lines)


def latency_row(
    table: Table, name: str, s: dict[str, Any], target_ms: float, unit: str = "ms"
) -> None:
    if unit == "s":
        value = f"median {s['median_ms'] / 1000:.3f} s, p95 {s['p95_ms'] / 1000:.3f} s"
        target = f"median <= {target_ms / 1000:g} s"
    else:
        value = f"median {s['median_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms"
        target = f"median <= {target_ms:g} ms"
    table.add(name, value, target, s["median_ms"] <= target_ms)


def build_table(r: dict[str, Any]) -> Table:
    table = Table()
    base_ms = r["tutorial_baseline"]["to_post_done"]["median_ms"]
    for key, label, limit in (
        ("confirm_to_post", "WebSocket on", 0.5),
        ("confirm_to_post_ws_off", "WebSocket off", 0.8),
    ):
        done = r[key]["press_to_post_answered"]["median_ms"]
        table.add(
            f"confirm press -> POST answered, {label}",
            f"median {done:.1f} ms = {done / base_ms:.2f}x tutorial "
            f"(POST sent at {r[key]['median_ms']:.1f} ms)",
            f"<= {limit:g}x tutorial",
            done / base_ms <= limit,
        )
    start = r["startup"]
    table.add(
        "start-up: process start -> first getUpdates",
        f"median {start['median_s']:.2f} s (n={start['n']}, max {start['max_s']:.2f} s)",
        "<= 1.0 s",
        start["median_s"] <= 1.0,
    )
    for mode, notice_limit in (("websocket", 100.0), ("polling", 1500.0)):
        sc = r[f"scale_{mode}"]
        head = f"{sc['orders']} orders + {sc['alerts']} alerts, {mode}"
        rate = sc["upbit_calls"]
        per = ", ".join(f"{k} {v:g}" for k, v in sorted(rate["by_endpoint_per_second"].items()))
        table.add(
            f"{head}: Upbit calls/s",
            f"{rate['per_second']:g}" + (f" ({per})" if per else ""),
            "<= 5",
            rate["per_second"] <= 5,
        )
        close = sc["close_to_notice"]
        table.add(
            f"  order closed -> notice p95 ({mode})",
            f"p95 {close.get('p95_ms', float('nan')):.0f} ms (n={close['n']})",
            f"<= {notice_limit:g} ms",
            close["n"] > 0 and close["p95_ms"] <= notice_limit,
        )
        alert = sc["alert_to_message"]
        table.add(
            f"  price -> alert message p95 ({mode})",
            f"p95 {alert.get('p95_ms', float('nan')):.0f} ms (n={alert['n']})",
            "<= 2000 ms",
            alert["n"] > 0 and alert["p95_ms"] <= 2000,
        )
        table.add(f"  peak RSS ({mode})", f"{sc['peak_rss_mb']:.1f} MB")
    b300 = r["balance_300_holdings"]
    table.add(
        "/balance, 300 coins: first message",
        f"median {b300['median_ms']:.1f} ms, "
        f"{b300['upbit_calls_median']:g} Upbit calls (max {b300['upbit_calls_max']})",
        "<= 150 ms, <= 4 calls",
        b300["median_ms"] <= 150 and b300["upbit_calls_max"] <= 4,
    )
    turn = b300.get("page_press", {})
    table.add(
        f"  whole answer ({b300['messages']:g} messages, to the last)",
        f"median {b300['whole_answer']['median_ms']:.1f} ms"
        + (
            f"; page turn median {turn['median_ms']:.1f} ms, "
            f"{turn['upbit_calls_max']} Upbit calls max"
            if turn.get("n")
            else ""
        ),
        "<= 150 ms, <= 4 calls",
        b300["whole_answer"]["median_ms"] <= 150 and turn.get("upbit_calls_max", 0) <= 4,
    )
    crowd = r["crowd_balance_50_users"]
    allowed = crowd["p95_allowed_by_30_per_s_ms"]
    table.add(
        "50 users /balance at once: p95",
        f"{crowd['p95_ms']:.0f} ms vs {allowed:.0f} ms at 30 msg/s "
        f"= {crowd['p95_ms'] / allowed:.2f}x",
        "<= 1.15x",
        crowd["p95_ms"] <= 1.15 * allowed,
    )
    table.add(
        "  HTTP 429 from Upbit / Telegram (50 users)",
        f"{crowd['http_429']} / {crowd['telegram_429']}",
        "0 / 0",
        crowd["http_429"] == 0 and crowd["telegram_429"] == 0,
    )
    mem = r["memory"]
    table.add(
        "memory: idle RSS after a /pnl chart",
        f"{mem['idle_after_pnl_chart_mb']:.1f} MB",
        "<= 90 MB",
        mem["idle_after_pnl_chart_mb"] <= 90,
    )
    table.add("earlier targets:", "", "")
    latency_row(table, "confirm press -> POST /v1/orders", r["confirm_to_post"], 15)
    latency_row(table, "/sell -> preview message", r["sell_to_preview"], 40)
    latency_row(table, "/balance, 1 coin", r["balance_1_holding"], 40)
    latency_row(table, "/balance, 30 coins", r["balance_30_holdings"], 60)
    latency_row(table, "fill -> notice, WebSocket", r["fill_notice_websocket"], 300)
    latency_row(table, "fill -> notice, polling 1.0 s", r["fill_notice_polling"], 1200, "s")
    calls = r["upbit_calls_per_flow"]
    per = ", ".join(f"{k} {v:g}" for k, v in calls["per_flow_by_endpoint"].items())
    table.add("Upbit calls per /sell->Confirm flow", f"{calls['median_total']:g} ({per})")
    probe = r["latency_probe"]
    seq = probe["preview_pairs_run_sequentially_median"]
    table.add(
        f"  independent preview reads run one after another (+{probe['upbit_latency_ms']:g} ms)",
        f"{seq:g} of {probe['preview_independent_pairs']} pairs",
        "0",
        seq == 0,
    )
    table.add(
        "memory: idle RSS (after start / after work)",
        f"{mem['idle_after_start_mb']:.1f} / {mem['idle_after_work_mb']:.1f} MB",
        "<= 90 MB",
        max(mem["idle_after_start_mb"], mem["idle_after_work_mb"]) <= 90,
    )
    table.add("memory: peak RSS (VmHWM)", f"{mem['peak_mb']:.1f} MB")
    crowd = r["crowd_balance_50_users"]
    table.add(
        "50 users /balance at once",
        f"{crowd['throughput_per_s']:g}/s, median {crowd['median_ms']:.0f} ms, "
        f"p95 {crowd['p95_ms']:.0f} ms",
    )
    table.add(
        "  HTTP 429 from Upbit (50-user run)",
        f"{crowd['http_429']}",
        "0",
        crowd["http_429"] == 0,
    )
    base = r["tutorial_baseline"]
    table.add(
        "tutorial: accounts+chance+create order",
        f"median {base['to_post_done']['median_ms']:.1f} ms "
        f"(+ get order: {base['total']['median_ms']:.1f} ms)",
    )
    ratio = r["bot_vs_tutorial"]
    table.add(
        "bot: /sell->preview + press->POST done",
        f"median {ratio['bot_ms']:.1f} ms = {ratio['ratio']:.2f}x tutorial",
        "<= 2x",
        ratio["ratio"] <= 2.0,
    )
    table.add(
        f"  same, Upbit +{probe['upbit_latency_ms']:g} ms per request",
        f"bot {probe['bot_flow']['median_ms']:.1f} ms vs tutorial "
        f"{probe['tutorial_to_post_done']['median_ms']:.1f} ms = {probe['ratio']:.2f}x",
    )
    return table


# --------------------------------------------------------------------------- main


def run(
    plan: Plan,
    out: Path,
    profile: Path | None = None,
    *,
    telegram_as_is: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    if not telegram_as_is:
        telegram_nodelay()
    results: dict[str, Any] = {}
    startups: list[float] = []
    memory: dict[str, float] = {}
    tg = TelegramStandin(token=DEFAULT_TOKEN).start()
    ends = TelegramEnds(tg)
    upbit = TimedUpbit(access_key=ACCESS_KEY, secret_key=SECRET_KEY)
    seed(upbit)
    upbit.start()
    driver = Driver(tg, upbit, ends)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            workdir = Path(tmp)
            log("tutorial baseline ...")
            run_baseline(upbit, plan, results)

            log("bot (WebSocket) ...")
            bot, startup = start_bot(tg, upbit, workdir, "bench", profile=profile)
            try:
                startups.append(startup)
                upbit.wait_for_ws_subscribers(1, 10)
                time.sleep(1.0)
                memory["idle_after_start_mb"] = read_memory(bot.pid).get("VmRSS", float("nan"))
                log("  /sell -> Confirm flows ...")
                run_sell_flows(driver, plan, results)
                log("  latency probe ...")
                run_latency_probe(driver, plan, results)
                log("  /balance ...")
                run_balance(driver, plan, results)
                log("  fills (WebSocket) ...")
                run_fills(driver, plan, "fill_notice_websocket", results)
                log("  /balance, 300 coins ...")
                run_balance_300(driver, plan, results)
                log("  50 users ...")
                run_crowd(driver, plan, results)
                log("  /pnl chart ...")
                run_pnl_memory(driver, bot.pid, results)
                time.sleep(1.5)
                after = read_memory(bot.pid)
                memory["idle_after_work_mb"] = after.get("VmRSS", float("nan"))
                memory["peak_mb"] = after.get("VmHWM", float("nan"))
            finally:
                bot.stop()

            log("bot (polling) ...")
            bot, startup = start_bot(tg, upbit, workdir, "bench-poll", websocket=False)
            try:
                startups.append(startup)
                run_fills(driver, plan, "fill_notice_polling", results)
                log("  /sell -> Confirm flows (WebSocket off) ...")
                run_confirm_ws_off(driver, plan, results)
            finally:
                bot.stop()

            for websocket in (True, False):
                log(
                    f"scale: {plan.scale_orders} orders, {plan.scale_alerts} alerts, "
                    f"WebSocket {'on' if websocket else 'off'} ..."
                )
                run_scale(tg, driver, workdir, plan, websocket=websocket, results=results)

            for i in range(plan.extra_startups):
                bot, startup = start_bot(tg, upbit, workdir, f"bench-start{i}")
                startups.append(startup)
                bot.stop()
    finally:
        upbit.stop()
        tg.stop()

    results["startup"] = {
        "n": len(startups),
        "median_s": round(statistics.median(startups), 3),
        "max_s": round(max(startups), 3),
        "samples_s": [round(s, 3) for s in startups],
    }
    memory["idle_after_pnl_chart_mb"] = results.pop("memory_after_pnl_chart_mb")
    results["memory"] = memory
    bot_flow = results.pop("_bot_flow")
    base = results["tutorial_baseline"]["to_post_done"]
    results["bot_vs_tutorial"] = {
        "bot_ms": bot_flow["median_ms"],
        "bot_p95_ms": bot_flow["p95_ms"],
        "tutorial_ms": base["median_ms"],
        "ratio": round(bot_flow["median_ms"] / base["median_ms"], 3),
        "note": "bot: (/sell -> preview at Telegram) + (Confirm press -> POST /v1/orders "
        "answered); tutorial: accounts + order chance + create order, sequential requests",
    }
    table = build_table(results)
    document = {
        "meta": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "plan": plan.__dict__,
            "profiled": profile is not None,
            "telegram_standin_nodelay": not telegram_as_is,
            "clock": "latencies = stand-in time.time() stamp - time.time() before injecting",
        },
        "scenarios": results,
        "table": [r.__dict__ for r in table.rows],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    log("")
    log(table.render())
    log(f"\nwrote {out}")
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the bot against the stand-ins.")
    parser.add_argument("--quick", action="store_true", help="a few iterations (smoke run)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    parser.add_argument("--iterations", type=int, help="override sell/balance/baseline counts")
    parser.add_argument(
        "--profile", type=Path, help="run the main bot under cProfile, stats to this file"
    )
    parser.add_argument(
        "--telegram-as-is",
        action="store_true",
        help="keep the Telegram stand-in's ~40 ms Nagle stall (see telegram_nodelay)",
    )
    args = parser.parse_args(argv)
    plan = Plan.quick() if args.quick else Plan()
    if args.iterations:
        n = args.iterations
        plan = Plan(
            sell=n,
            balance=n,
            fill=max(2, n // 2),
            crowd_rounds=plan.crowd_rounds,
            baseline=n,
            extra_startups=plan.extra_startups,
            pace=plan.pace,
            probe=plan.probe,
            probe_latency=plan.probe_latency,
        )
    run(plan, args.out, args.profile, telegram_as_is=args.telegram_as_is)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
