from __future__ import annotations

from datetime import timedelta

import pytest

from hostkeeper.config.units import (
    format_duration,
    format_percent,
    format_size,
    parse_duration,
    parse_percent,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("200ms", timedelta(milliseconds=200)),
        ("1.5h", timedelta(minutes=90)),
        (" 5m ", timedelta(minutes=5)),
        (90, timedelta(seconds=90)),
        (0.25, timedelta(milliseconds=250)),
    ],
)
def test_parse_duration_reads_human_spellings_and_seconds(
    text: object, expected: timedelta
) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "value", ["soon", "5 minutes", "10", "5M", "-5m", "", True, None, [1], -1, float("inf")]
)
def test_parse_duration_rejects_what_is_not_a_duration(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_parse_duration_beyond_timedelta_range_is_a_value_error_not_a_crash() -> None:
    with pytest.raises(ValueError, match="not a usable duration"):
        parse_duration("99999999999d")
    with pytest.raises(ValueError, match="not a usable duration"):
        parse_duration(float("nan"))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(days=7), "7d"),
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=2), "2h"),
        (timedelta(seconds=61), "61s"),
        (timedelta(milliseconds=200), "200ms"),
        (timedelta(milliseconds=1500), "1500ms"),
        (timedelta(0), "0s"),
        (timedelta(weeks=2), "14d"),
    ],
)
def test_format_duration_gives_the_shortest_exact_spelling(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize("text", ["30s", "10m", "2h", "7d", "2w", "200ms", "1.5h", "730d"])
def test_duration_round_trips_through_its_spelling(text: str) -> None:
    value = parse_duration(text)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512K", 512 * 1024),
        ("100M", 100 * 1024**2),
        ("2G", 2 * 1024**3),
        ("1T", 1024**4),
        ("100MB", 100 * 1024**2),
        ("100MiB", 100 * 1024**2),
        ("1.5K", 1536),
        ("100m", 100 * 1024**2),
        ("4096", 4096),
        (4096, 4096),
    ],
)
def test_parse_size_reads_binary_multiples(text: object, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("value", ["huge", "10 X", "-1K", True, None, 1.5, -1])
def test_parse_size_rejects_what_is_not_a_size(value: object) -> None:
    with pytest.raises(ValueError):
        parse_size(value)


def test_parse_size_too_large_to_represent_is_a_value_error_not_a_crash() -> None:
    with pytest.raises(ValueError, match="too large"):
        parse_size("9" * 400 + "K")


@pytest.mark.parametrize(
    ("value", "text"),
    [(100 * 1024**2, "100M"), (512 * 1024, "512K"), (2 * 1024**3, "2G"), (1000, "1000"), (0, "0")],
)
def test_format_size_uses_the_largest_exact_unit(value: int, text: str) -> None:
    assert format_size(value) == text
    assert parse_size(text) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [("20%", 20.0), ("0%", 0.0), ("100%", 100.0), ("12.5 %", 12.5), (15, 15.0)],
)
def test_parse_percent_reads_percentages(value: object, expected: float) -> None:
    assert parse_percent(value) == expected


@pytest.mark.parametrize("value", ["20", "120%", "-5%", "half", True, None, 101])
def test_parse_percent_rejects_out_of_range_and_non_percentages(value: object) -> None:
    with pytest.raises(ValueError):
        parse_percent(value)


@pytest.mark.parametrize("value", [20.0, 12.5, 0.0, 100.0])
def test_percent_round_trips_through_its_spelling(value: float) -> None:
    assert parse_percent(format_percent(value)) == value
