"""Inline SVG charts: no scripts, no external assets, readable offline and in print.

Each chart carries its data points as elements with `data-t`/`data-v` attributes, so a
test (or a curious operator) can read the plotted values back from the page. The
markup is built by `markup.element`, which escapes every name and label; the result is
a `Fragment` that a template prints as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from hostkeeper.core.numbers import format_quantity
from hostkeeper.reports.axes import Tick, ValueAxis, time_ticks, value_axis
from hostkeeper.reports.markup import AttributeValue, Fragment, element, join

WIDTH, HEIGHT = 640, 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 26, 28
_PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2")
_CHAR_WIDTH = 6  # about the width of a character of the 10 px axis labels
_AXIS_TEXT: dict[str, AttributeValue] = {"font-size": 10, "fill": "#475569"}


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


def line_chart(
    title: str,
    series: Sequence[Series],
    unit: str = "",
    band: Band | None = None,
    y_min: float | None = None,
    y_max: float | None = None,
    *,
    period: tuple[datetime, datetime] | None = None,
    floor: float | None = 0.0,
) -> Fragment:
    """A time-series line chart over `period` (the data's own span without one); an
    empty chart says so instead of drawing nothing. `unit` is how values are spelled
    (`%`, `s`, `B`, ...); `floor` is the lowest value the quantity can take (None for
    one that can be negative)."""
    points = [p for s in series for p in s.points]
    if not points:
        return _empty(title)
    times = [p[0] for p in points]
    if period is not None:
        times += [period[0].timestamp(), period[1].timestamp()]
    t_low, t_high = min(times), max(times)
    if t_high == t_low:
        t_high = t_low + 1
    values = [p[1] for p in points]
    if band is not None:
        values += [band.low, band.high]
    axis = value_axis(min(values), max(values), floor=floor, fixed_low=y_min, fixed_high=y_max)

    def x(t: float) -> float:
        return _LEFT + (t - t_low) / (t_high - t_low) * (WIDTH - _LEFT - _RIGHT)

    def y(v: float) -> float:
        v = min(max(v, axis.low), axis.high)  # a line leaving the axis runs along its edge
        span = (axis.high - axis.low) or 1.0
        return HEIGHT - _BOTTOM - (v - axis.low) / span * (HEIGHT - _TOP - _BOTTOM)

    parts = [*_y_axis(axis, y, unit), *_x_axis(time_ticks(t_low, t_high), x)]
    if band is not None:
        parts += _band(band, axis, y)
    for index, one in enumerate(series):
        parts += _series(one, _PALETTE[index % len(_PALETTE)], x, y)
    parts.append(_legend([s.name for s in series]))
    return _svg("line", title, HEIGHT, _LEFT, [_plot_frame(), *parts])


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str = "") -> Fragment:
    """Horizontal bars, longest first as given; for durations, counts, sizes."""
    if not bars:
        return _empty(title)
    height = _TOP + 22 * len(bars) + 8
    top = max(value for _, value in bars) or 1.0
    label_width = 180
    parts = []
    for index, (label, value) in enumerate(bars):
        y = _TOP + index * 22
        length = (WIDTH - label_width - 90) * max(value / top, 0.0)
        parts += [
            element(
                "text",
                {"x": label_width - 6, "y": y + 14, "text-anchor": "end", "font-size": 11},
                [label[:32]],
            ),
            element(
                "rect",
                {
                    "data-label": label,
                    "data-v": f"{value:g}",
                    "x": label_width,
                    "y": y + 3,
                    "width": max(length, 1.0),
                    "height": 14,
                    "fill": _PALETTE[0],
                },
            ),
            element(
                "text",
                {"x": label_width + length + 6, "y": y + 14, "font-size": 11},
                [format_quantity(value, unit)],
            ),
        ]
    return _svg("bar", title, height, 4, parts)


def _svg(kind: str, title: str, height: int, caption_x: float, parts: list[Fragment]) -> Fragment:
    return element(
        "svg",
        {
            "class": f"chart {kind}",
            "role": "img",
            "aria-label": title,
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {WIDTH} {height}",
            "width": WIDTH,
            "height": height,
        },
        [element("title", {}, [title]), _caption(title, caption_x), *parts],
    )


def _plot_frame() -> Fragment:
    return element(
        "rect",
        {
            "x": _LEFT,
            "y": _TOP,
            "width": WIDTH - _LEFT - _RIGHT,
            "height": HEIGHT - _TOP - _BOTTOM,
            "fill": "none",
            "stroke": "#cbd5e1",
        },
    )


def _axis_label(attributes: dict[str, AttributeValue], text: str) -> Fragment:
    return element("text", attributes | _AXIS_TEXT, [text])


def _y_axis(axis: ValueAxis, scale: Callable[[float], float], unit: str) -> list[Fragment]:
    return [
        _axis_label(
            {"class": "y-tick", "x": _LEFT - 4, "y": scale(value) + 4, "text-anchor": "end"},
            format_quantity(value, unit),
        )
        for value in axis.ticks
    ]


def _x_axis(ticks: list[Tick], scale: Callable[[float], float]) -> list[Fragment]:
    labels = []
    for tick in ticks:
        x = scale(tick.at)
        # a label centred on a tick near the right edge would be cut off: end it there
        fits = x + len(tick.label) * _CHAR_WIDTH / 2 <= WIDTH
        labels.append(
            _axis_label(
                {
                    "class": "x-tick",
                    "data-t": f"{tick.at:.0f}",
                    "x": x if fits else WIDTH - 1,
                    "y": HEIGHT - 10,
                    "text-anchor": "middle" if fits else "end",
                },
                tick.label,
            )
        )
    return labels


def _band(band: Band, axis: ValueAxis, y: Callable[[float], float]) -> list[Fragment]:
    top, bottom = y(band.high), y(band.low)
    parts = [
        element(
            "rect",
            {
                "class": "band",
                "x": _LEFT,
                "y": top,
                "width": WIDTH - _LEFT - _RIGHT,
                "height": max(bottom - top, 0.0),
                "fill": "#94a3b8",
                "fill-opacity": "0.25",
            },
            [element("title", {}, [band.label])],
        )
    ]
    if band.line is not None and axis.low <= band.line <= axis.high:
        parts.append(
            element(
                "line",
                {
                    "class": "reference",
                    "x1": _LEFT,
                    "x2": WIDTH - _RIGHT,
                    "y1": y(band.line),
                    "y2": y(band.line),
                    "stroke": "#64748b",
                    "stroke-dasharray": "4 3",
                },
                [element("title", {}, [band.line_label])],
            )
        )
    return parts


def _series(
    one: Series, color: str, x: Callable[[float], float], y: Callable[[float], float]
) -> list[Fragment]:
    ordered = sorted(one.points)
    path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in ordered)
    line = element(
        "polyline",
        {
            "class": "series",
            "data-series": one.name,
            "fill": "none",
            "stroke": color,
            "stroke-width": "1.5",
            "points": path,
        },
    )
    dots = element(
        "g",
        {"class": "points", "data-series": one.name},
        [
            element(
                "circle",
                {
                    "data-t": f"{t:.0f}",
                    "data-v": f"{v:g}",
                    "cx": x(t),
                    "cy": y(v),
                    "r": "1.2",
                    "fill": color,
                },
            )
            for t, v in ordered
        ],
    )
    return [line, dots]


def _legend(names: Sequence[str]) -> Fragment:
    if len(names) < 2:
        return Fragment("")
    items = []
    for index, name in enumerate(names):
        x = _LEFT + 8 + index * 130
        color = _PALETTE[index % len(_PALETTE)]
        items += [
            element("rect", {"x": x, "y": _TOP + 4, "width": 10, "height": 3, "fill": color}),
            element("text", {"x": x + 14, "y": _TOP + 9, "font-size": 10}, [name[:20]]),
        ]
    return join(items)


def _empty(title: str) -> Fragment:
    note = element(
        "text",
        {"x": WIDTH / 2, "y": 38, "text-anchor": "middle", "font-size": 12, "fill": "#64748b"},
        ["no data yet"],
    )
    return _svg("empty", title, 60, 4, [note])


def _caption(title: str, x: float) -> Fragment:
    """The chart's title, visible on the page and in print (not only as a tooltip)."""
    return element(
        "text",
        {
            "class": "caption",
            "x": x,
            "y": 16,
            "font-size": 12,
            "font-weight": "600",
            "fill": "#0f172a",
        },
        [title],
    )
