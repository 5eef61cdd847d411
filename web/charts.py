"""Charts as server-rendered SVG: no script, no CDN, readable by screen readers (each chart
has a title and a text table beside it on the page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563"]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown, e.g. "$1,200.00"
    note: str = ""  # e.g. the cumulative share of a Pareto chart


def bar_chart(title: str, bars: Sequence[Bar], width: int = 640) -> Markup:
    """Horizontal bars, longest first as given."""
    row, label_width, text_width = 26, 170, 170
    height = max(row * len(bars), row) + 8
    plot = width - label_width - text_width
    top = max((bar.value for bar in bars), default=0) or 1
    parts = [_open(title, width, height)]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        length = max(bar.value / top * plot, 0)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end">'
            f"{escape(_short(bar.label, 24))}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"><title>{escape(bar.label)}: {escape(bar.text)}</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}">{escape(bar.text)}'
            f"{' · ' + escape(bar.note) if bar.note else ''}</text>"
        )
    if not bars:
        parts.append(f'<text x="{width / 2}" y="20" text-anchor="middle">No data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    width: int = 640,
    as_percent: bool = True,
) -> Markup:
    """One line per series over the x labels (e.g. a payer's denial rate per month); a gap
    where a value is missing."""
    height, left, right, bottom, top_pad = 240, 52, 36, 28, 10
    legend = 18 * ((len(series) + 2) // 3)
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    values = [v for line in series.values() for v in line if v is not None]
    top = max(values, default=0) or 1
    parts = [_open(title, width, height + legend)]
    for fraction in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - fraction)
        tick = f"{top * fraction:.1%}" if as_percent else f"{top * fraction:.1f}"
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    step = plot_w / max(len(x_labels) - 1, 1)
    for i, x_label in enumerate(x_labels):
        parts.append(
            f'<text x="{left + i * step:.1f}" y="{height - 8}" text-anchor="middle">'
            f"{escape(x_label)}</text>"
        )
    for n, (name, line) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = [
            (left + i * step, top_pad + plot_h * (1 - value / top), value)
            for i, value in enumerate(line)
            if value is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for x, y, value in points:
            shown = f"{value:.1%}" if as_percent else f"{value:.1f}"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)}: {shown}</title></circle>"
            )
        lx, ly = 10 + (n % 3) * (width // 3), height + 14 + (n // 3) * 18
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{ly}">{escape(_short(name, 30))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(title: str, width: int, height: int) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="system-ui, sans-serif">'
        f"<title>{escape(title)}</title>"
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
