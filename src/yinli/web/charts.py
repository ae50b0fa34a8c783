"""Small charts rendered on the server as inline SVG: no JavaScript, no vendored chart library.

Each chart has a <title> and <desc> for screen readers; pages show the same numbers in a table beside
it, so nothing is only in the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ["#b3002d", "#1f5fa8", "#2f7d32", "#a35200", "#6a3d9a", "#00727a", "#5b5b5b"]


@dataclass(frozen=True)
class Bar:
    label: str
    value: int  # fen (or any non-negative integer)
    shown: str  # the value as text, e.g. "¥1,234.00"


def _nice_max(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def hbars(title: str, bars: list[Bar], *, width: int = 560) -> Markup:
    """Horizontal bars, one per label (GMV by format)."""
    row, label_w, value_w = 30, 110, 110
    height = max(1, len(bars)) * row + 10
    top = max((b.value for b in bars), default=0) or 1
    plot = width - label_w - value_w
    parts = [
        f'<svg class="chart hbars" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="t-{id(bars)} d-{id(bars)}">',
        f'<title id="t-{id(bars)}">{escape(title)}</title>',
        f'<desc id="d-{id(bars)}">{escape("; ".join(f"{b.label}: {b.shown}" for b in bars))}</desc>',
    ]
    for i, b in enumerate(bars):
        y = 5 + i * row
        w = 0 if b.value <= 0 else max(2, round(plot * b.value / top))
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" class="chart-label">{escape(b.label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row - 10}" rx="3" fill="{colour}"/>'
            f'<text x="{label_w + w + 6}" y="{y + 19}" class="chart-value">{escape(b.shown)}</text>'
        )
    if not bars:
        parts.append(f'<text x="{width // 2}" y="20" text-anchor="middle" class="chart-label">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(title: str, bars: list[Bar], *, width: int = 720, height: int = 220, axis_label: str = "") -> Markup:
    """Vertical columns over time (GMV by day), with a y axis of 0 / half / max."""
    left, bottom, top_pad = 70, 28, 12
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = _nice_max(max((b.value for b in bars), default=0))
    n = max(1, len(bars))
    slot = plot_w / n
    bar_w = max(2.0, slot * 0.7)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="t-{id(bars)} d-{id(bars)}">',
        f'<title id="t-{id(bars)}">{escape(title)}</title>',
        f'<desc id="d-{id(bars)}">{escape("; ".join(f"{b.label}: {b.shown}" for b in bars if b.value))}</desc>',
    ]
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-axis">'
            f"{escape(_short(int(top * frac), axis_label))}</text>"
        )
    label_every = max(1, round(n / 8))
    for i, b in enumerate(bars):
        x = left + i * slot + (slot - bar_w) / 2
        h = 0 if b.value <= 0 else max(1.0, plot_h * b.value / top)
        y = top_pad + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
            f"<title>{escape(b.label)}: {escape(b.shown)}</title></rect>"
        )
        if i % label_every == 0 or i == n - 1:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - 8}" text-anchor="middle" class="chart-axis">'
                f"{escape(b.label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(fen: int, unit: str) -> str:
    """Axis ticks in whole yuan, compact: ¥0, ¥500, ¥1.2万 (integer arithmetic: no float near money)."""
    yuan = fen // 100
    if yuan >= 10_000:
        return f"{unit}{yuan // 10_000}.{yuan % 10_000 // 1_000}万"
    return f"{unit}{yuan:,}"
