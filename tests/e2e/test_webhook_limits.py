"""A webhook request costs the bot at most 1 MB: the real bot as a subprocess, raw sockets.

A 90 MB body is pushed at the webhook four ways (no secret, wrong secret, right secret with a
declared length, right secret chunked); each is refused (403 / 413) and the bot process's peak
resident memory (``VmHWM`` in ``/proc/PID/status``) barely moves. A normal update still
works afterwards.
"""

from __future__ import annotations

import secrets
import socket
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from tests.e2e.harness import USER
from tests.e2e.test_webhook import BotProcess, bot_env, free_port, running
from tests.standins.telegram import TelegramStandin
from tests.standins.upbit import UpbitStandIn

BIG = 90 * 1024 * 1024
CHUNK = b"x" * 65536
# PTB's own server grew by about 2 x the body (180 MB for 90 MB); ours may hold 1 MB plus
# tornado's read buffers.
PEAK_GROWTH_LIMIT_KIB = 12 * 1024


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _push(port: int, path: str, headers: dict[str, str], *, chunked: bool) -> tuple[int, int]:
    """POST a 90 MB body, stopping when the server closes; returns (status, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    with sock:
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {BIG}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sent = 0
        frame = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK) if chunked else CHUNK
        try:
            while sent < BIG:
                sock.sendall(frame)
                sent += len(CHUNK)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"\r\n" not in answer:
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
        except ConnectionResetError:
            pass
    assert answer.startswith(b"HTTP/1.1 "), (answer[:100], sent)
    return int(answer.split()[1]), sent


def _post_raw(url: str, body: bytes, secret: str) -> int:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code)


def test_oversized_and_secretless_requests_cost_at_most_1_mb(
    telegram_standin: TelegramStandin, upbit_standin: UpbitStandIn, tmp_path: Path
) -> None:
    tg = telegram_standin
    port = free_port()
    secret = secrets.token_urlsafe(24)
    env = bot_env(
        tg,
        upbit_standin,
        database_url=f"sqlite:///{tmp_path}/bot.db",
        heartbeat_file=tmp_path / "heartbeat",
        port=port,
        secret=secret,
    )
    url = env["WEBHOOK_URL"]
    path = urlsplit(url).path
    bot = BotProcess(env, tmp_path / "run")
    with running(bot):
        bot.wait_ready(tg)
        assert bot.proc is not None
        # Warm up: one real update handled, so lazy imports are not counted below.
        mark = tg.mark()
        assert tg.post_update_to(url, tg.build_command_update(USER, "/help"), secret) == 200
        tg.wait_for_message(USER, lambda c: True, timeout=15, after=mark)
        before = _peak_kib(bot.proc.pid)

        results = {
            "no secret": _push(port, path, {}, chunked=False),
            "wrong secret": _push(
                port, path, {"X-Telegram-Bot-Api-Secret-Token": secret + "x"}, chunked=True
            ),
            "declared 90 MB": _push(
                port, path, {"X-Telegram-Bot-Api-Secret-Token": secret}, chunked=False
            ),
            "chunked 90 MB": _push(
                port, path, {"X-Telegram-Bot-Api-Secret-Token": secret}, chunked=True
            ),
        }
        after = _peak_kib(bot.proc.pid)
        print(f"peak RSS before {before} KiB, after {after} KiB; {results}")
        assert {k: status for k, (status, _) in results.items()} == {
            "no secret": 403,
            "wrong secret": 403,
            "declared 90 MB": 413,
            "chunked 90 MB": 413,
        }
        # The connection was closed long before 90 MB went through (kernel buffers aside).
        assert all(sent < BIG // 4 for _, sent in results.values()), results
        assert after - before < PEAK_GROWTH_LIMIT_KIB, (before, after)

        # A body that is not an Update: 400, nothing else.
        assert _post_raw(url, b"[1, 2]", secret) == 400
        assert _post_raw(url, b"{not json", secret) == 400
        # The wrong path, even with the secret: 404.
        assert _post_raw(url + "x", b"{}", secret) == 404

        # Still serving: a normal update is handled.
        mark = tg.mark()
        assert tg.post_update_to(url, tg.build_command_update(USER, "/help"), secret) == 200
        tg.wait_for_message(USER, lambda c: True, timeout=15, after=mark)
        assert "Traceback" not in bot.log, bot.describe()
