"""Child process: a bar chart spec (JSON on stdin) → PNG (stdout).

Run as ``python -m bot.charts.bars``; `bot.charts.runner` starts it for each chart, so Pillow
is loaded only for the second it takes to draw, never in the bot process.

The spec: ``{"title": str, "labels": [str], "values": [decimal string], "up": "#rrggbb",
"down": "#rrggbb"}``. Text must be Latin (the built-in font has no Hangul).
"""

from __future__ import annotations

import io
import json
import math
import sys
from decimal import Decimal
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 900, 500
LEFT, RIGHT, TOP, BOTTOM = 120, 24, 56, 64
MAX_BARS = 400
MAX_LABEL = 32
GRID = "#e5e7eb"
AXIS = "#6b7280"
TEXT = "#111827"


def _grouped(value: Decimal) -> str:
    whole = abs(value) >= 100
    text = f"{value:,.0f}" if whole else f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _nice_step(span: Decimal, ticks: int = 5) -> Decimal:
    raw = span / ticks
    exponent = Decimal(10) ** math.floor(raw.log10())
    for factor in (1, 2, 5, 10):
        step = exponent * factor
        if step >= raw:
            return step
    return exponent * 10  # pragma: no cover


def draw(spec: dict[str, Any]) -> bytes:
    labels = [str(label)[:MAX_LABEL] for label in spec["labels"]][:MAX_BARS]
    values = [Decimal(str(v)) for v in spec["values"]][:MAX_BARS]
    if len(labels) != len(values) or not values or not all(v.is_finite() for v in values):
        raise ValueError("labels and values must be non-empty, finite and of equal length")
    top = max(Decimal(0), max(values))
    bottom = min(Decimal(0), min(values))
    if top == bottom:
        top = Decimal(1)
    step = _nice_step(top - bottom)
    top = (top / step).to_integral_value(rounding="ROUND_CEILING") * step
    bottom = (bottom / step).to_integral_value(rounding="ROUND_FLOOR") * step
    span = top - bottom

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    title_font = ImageFont.load_default(size=18)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y_of(value: Decimal) -> int:
        return TOP + int((top - value) * plot_h / span)

    pen.text((LEFT, 18), str(spec["title"])[:120], fill=TEXT, font=title_font)
    tick = bottom
    while tick <= top:
        y = y_of(tick)
        pen.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=GRID, width=1)
        pen.text((LEFT - 8, y), _grouped(tick), fill=AXIS, font=font, anchor="rm")
        tick += step
    zero = y_of(Decimal(0))
    slot = plot_w / len(values)
    every = max(1, math.ceil(len(values) / 12))
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        middle = LEFT + slot * (index + 0.5)
        half = min(slot * 0.35, 28)
        x0 = int(middle - half)
        x1 = max(x0 + 1, int(middle + half))
        y = y_of(value)
        colour = spec["up"] if value >= 0 else spec["down"]
        pen.rectangle([(x0, min(y, zero)), (x1, max(y, zero))], fill=colour)
        if index % every == 0:
            pen.text(
                ((x0 + x1) // 2, HEIGHT - BOTTOM + 10), label, fill=AXIS, font=font, anchor="mt"
            )
    pen.line([(LEFT, zero), (WIDTH - RIGHT, zero)], fill=AXIS, width=1)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main() -> int:
    spec = json.loads(sys.stdin.buffer.read(1_000_000))
    sys.stdout.buffer.write(draw(spec))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
