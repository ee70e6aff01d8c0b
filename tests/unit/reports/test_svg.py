"""The inline SVG charts: escaped names, the requested period on the time axis, no
negative axis for a non-negative quantity, and values spelled by the one formatter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from hostkeeper.reports.svg import Band, Series, bar_chart, line_chart

HOSTILE = "<script>alert(1)</script>\"'&"
NOW = datetime(2024, 6, 30, 5, 59, 40, tzinfo=UTC)


class Chart(HTMLParser):
    def __init__(self, markup: object) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.classes: list[str] = []
        self.texts: list[tuple[str, str]] = []  # (class of the enclosing text, its text)
        self._class = ""
        self.feed(str(markup))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._class = dict(attrs).get("class") or ""

    def handle_data(self, data: str) -> None:
        self.texts.append((self._class, data))

    def of(self, kind: str) -> list[str]:
        return [text for css, text in self.texts if css == kind]


def test_a_fresh_hosts_day_chart_labels_distinct_times_over_the_whole_day() -> None:
    # a minute of samples in a 24 h chart: once `05:59` on every tick
    points = [(NOW.timestamp() - 60 + second, 10.0 + second / 60) for second in range(0, 61, 10)]
    chart = Chart(
        line_chart(
            "cpu", [Series("cpu", points)], unit="%", period=(NOW - timedelta(hours=24), NOW)
        )
    )
    labels = chart.of("x-tick")
    assert labels[0] == "06:00" and labels[-1] == "03:00"
    assert len(set(labels)) == len(labels) >= 4


def test_without_a_period_the_axis_spans_the_data_and_still_reads_distinct() -> None:
    points = [(NOW.timestamp() + second, 1.0) for second in range(0, 61, 10)]
    labels = Chart(line_chart("cpu", [Series("cpu", points)])).of("x-tick")
    assert len(set(labels)) == len(labels) >= 2
    assert all(label.count(":") == 2 for label in labels)  # seconds shown


def test_a_low_percentage_chart_has_no_negative_axis() -> None:
    points = [(NOW.timestamp() + 60 * m, float(m % 3)) for m in range(30)]  # idle at 0
    labels = Chart(line_chart("cpu", [Series("cpu", points)], unit="%")).of("y-tick")
    assert labels[0] == "0 %" and not any(label.startswith("-") for label in labels)


def test_axis_and_bar_values_use_the_shared_formatter() -> None:
    points = [(NOW.timestamp() + 60 * m, 0.02 * m) for m in range(10)]
    labels = Chart(line_chart("step", [Series("step", points)], unit="s")).of("y-tick")
    assert labels[0] == "0 s" and any(label.endswith(" ms") for label in labels)
    bars = Chart(bar_chart("durations", [("a", 0.01995), ("b", 2.094), ("c", 0.046)], unit="s"))
    assert [t for css, t in bars.texts if t.endswith("s")][-3:] == ["19.9 ms", "2.09 s", "46 ms"]


def test_names_and_titles_are_escaped() -> None:
    band = Band(1.0, 2.0, HOSTILE, line=1.5, line_label=HOSTILE)
    markup = (
        str(
            line_chart(
                HOSTILE,
                [Series(HOSTILE, [(0.0, 1.0), (60.0, 2.0)]), Series("b", [(0.0, 1.0)])],
                band=band,
            )
        )
        + str(bar_chart(HOSTILE, [(HOSTILE, 1.0)]))
        + str(line_chart(HOSTILE, []))
    )
    chart = Chart(markup)
    assert "script" not in chart.tags
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert 'data-series="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;"' in markup
