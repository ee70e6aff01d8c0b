"""Inline SVG charts: no scripts, no external assets, readable offline and in print.

Each chart carries its data points as elements with `data-t`/`data-v` attributes, so a
test (or a curious operator) can read the plotted values back from the page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

WIDTH, HEIGHT = 640, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 26, 28
_PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (epoch seconds, value)


@dataclass(frozen=True)
class Band:
    """A shaded range (e.g. baseline mean +/- stddev) and an optional reference line."""

    low: float
    high: float
    label: str
    line: float | None = None
    line_label: str = ""


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _nice_range(low: float, high: float) -> tuple[float, float]:
    if math.isclose(low, high):
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def line_chart(
    title: str,
    series: Sequence[Series],
    unit: str = "",
    band: Band | None = None,
    y_min: float | None = None,
    y_max: float | None = None,
) -> str:
    """A time-series line chart; an empty chart says so instead of drawing nothing."""
    points = [p for s in series for p in s.points]
    if not points:
        return _empty(title)
    t_low, t_high = min(p[0] for p in points), max(p[0] for p in points)
    values = [p[1] for p in points]
    if band is not None:
        values += [band.low, band.high]
    v_low, v_high = _nice_range(min(values), max(values))
    v_low = y_min if y_min is not None else v_low
    v_high = y_max if y_max is not None else v_high
    if t_high == t_low:
        t_high = t_low + 1

    def x(t: float) -> float:
        return _LEFT + (t - t_low) / (t_high - t_low) * (WIDTH - _LEFT - _RIGHT)

    def y(v: float) -> float:
        span = (v_high - v_low) or 1.0
        return HEIGHT - _BOTTOM - (v - v_low) / span * (HEIGHT - _TOP - _BOTTOM)

    parts = [_frame(title)]
    parts += _y_axis(v_low, v_high, y, unit)
    parts += _x_axis(t_low, t_high, x)
    if band is not None:
        top, bottom = y(min(band.high, v_high)), y(max(band.low, v_low))
        parts.append(
            f'<rect class="band" x="{_LEFT}" y="{top:.1f}" width="{WIDTH - _LEFT - _RIGHT}" '
            f'height="{max(bottom - top, 0):.1f}" fill="#94a3b8" fill-opacity="0.25">'
            f"<title>{_escape(band.label)}</title></rect>"
        )
        if band.line is not None and v_low <= band.line <= v_high:
            parts.append(
                f'<line class="reference" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" '
                f'y1="{y(band.line):.1f}" y2="{y(band.line):.1f}" stroke="#64748b" '
                f'stroke-dasharray="4 3"><title>{_escape(band.line_label)}</title></line>'
            )
    for index, one in enumerate(series):
        color = _PALETTE[index % len(_PALETTE)]
        ordered = sorted(one.points)
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in ordered)
        parts.append(
            f'<polyline class="series" data-series="{_escape(one.name)}" fill="none" '
            f'stroke="{color}" stroke-width="1.5" points="{path}"/>'
        )
        parts.append(f'<g class="points" data-series="{_escape(one.name)}">')
        parts += [
            f'<circle data-t="{t:.0f}" data-v="{v:g}" cx="{x(t):.1f}" cy="{y(v):.1f}" r="1.2" '
            f'fill="{color}"/>'
            for t, v in ordered
        ]
        parts.append("</g>")
    parts.append(_legend([s.name for s in series]))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str = "") -> str:
    """Horizontal bars, longest first as given; for durations, counts, sizes."""
    if not bars:
        return _empty(title)
    height = _TOP + 22 * len(bars) + 8
    top = max(value for _, value in bars) or 1.0
    label_width = 180
    parts = [
        f'<svg class="chart bar" role="img" aria-label="{_escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}"><title>{_escape(title)}</title>' + _caption(title, 4)
    ]
    for index, (label, value) in enumerate(bars):
        y = _TOP + index * 22
        length = (WIDTH - label_width - 90) * (value / top if top else 0)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" font-size="11">'
            f"{_escape(label[:32])}</text>"
            f'<rect data-label="{_escape(label)}" data-v="{value:g}" x="{label_width}" y="{y + 3}" '
            f'width="{max(length, 1):.1f}" height="14" fill="{_PALETTE[0]}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 14}" font-size="11">'
            f"{value:.4g}{_escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _frame(title: str) -> str:
    return (
        f'<svg class="chart line" role="img" aria-label="{_escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}"><title>{_escape(title)}</title>'
        f'<rect x="{_LEFT}" y="{_TOP}" width="{WIDTH - _LEFT - _RIGHT}" '
        f'height="{HEIGHT - _TOP - _BOTTOM}" fill="none" stroke="#cbd5e1"/>'
        + _caption(title, _LEFT)
    )


def _y_axis(low: float, high: float, scale: Callable[[float], float], unit: str) -> list[str]:
    ticks = []
    for index in range(5):
        value = low + (high - low) * index / 4
        ticks.append(
            f'<text x="{_LEFT - 4}" y="{scale(value) + 4:.1f}" text-anchor="end" '
            f'font-size="10" fill="#475569">{value:.3g}{_escape(unit)}</text>'
        )
    return ticks


def _x_axis(low: float, high: float, scale: Callable[[float], float]) -> list[str]:
    span = high - low
    fmt = "%H:%M" if span <= 2 * 86400 else "%m-%d"
    ticks = []
    for index in range(5):
        t = low + span * index / 4
        label = datetime.fromtimestamp(t, UTC).strftime(fmt)
        ticks.append(
            f'<text x="{scale(t):.1f}" y="{HEIGHT - 10}" text-anchor="middle" font-size="10" '
            f'fill="#475569">{label}</text>'
        )
    return ticks


def _legend(names: Sequence[str]) -> str:
    if len(names) < 2:
        return ""
    items = []
    for index, name in enumerate(names):
        x = _LEFT + 8 + index * 130
        color = _PALETTE[index % len(_PALETTE)]
        items.append(
            f'<rect x="{x}" y="{_TOP + 4}" width="10" height="3" fill="{color}"/>'
            f'<text x="{x + 14}" y="{_TOP + 9}" font-size="10">{_escape(name[:20])}</text>'
        )
    return "".join(items)


def _empty(title: str) -> str:
    return (
        f'<svg class="chart empty" role="img" aria-label="{_escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 60" width="{WIDTH}" '
        f'height="60"><title>{_escape(title)}</title>{_caption(title, 4)}'
        f'<text x="{WIDTH / 2}" y="38" '
        f'text-anchor="middle" font-size="12" fill="#64748b">no data yet</text></svg>'
    )


def _caption(title: str, x: float) -> str:
    """The chart's title, visible on the page and in print (not only as a tooltip)."""
    return (
        f'<text class="caption" x="{x}" y="16" font-size="12" font-weight="600" '
        f'fill="#0f172a">{_escape(title)}</text>'
    )
