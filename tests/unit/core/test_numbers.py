"""Measured values read alike everywhere: three significant digits and a unit."""

from __future__ import annotations

import pytest

from hostkeeper.core.numbers import (
    format_bytes,
    format_change,
    format_number,
    format_percent,
    format_quantity,
    format_seconds,
    format_share,
    significant,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (19.949, "19.9"),
        (2.094, "2.09"),
        (46.0, "46"),
        (0.5, "0.5"),
        (0.0001234, "0.000123"),
        (999.7, "1000"),
        (12345.6, "12346"),
        (-3.456, "-3.46"),
        (0.0, "0"),
    ],
)
def test_significant_keeps_three_digits_without_exponent(value: float, text: str) -> None:
    assert significant(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.01995, "19.9 ms"),
        (0.046, "46 ms"),
        (2.094, "2.09 s"),
        (0.9996, "1 s"),  # rounds into seconds, not "1000 ms"
        (59.96, "1 min 0 s"),  # rounds into minutes, not "60 s"
        (65, "1 min 5 s"),
        (3599.7, "1 h 0 min"),
        (3 * 3600 + 1200, "3 h 20 min"),
        (2 * 86400 + 4 * 3600, "2 d 4 h"),
        (0, "0 s"),
        (None, "-"),
    ],
)
def test_durations(seconds: float | None, text: str) -> None:
    assert format_seconds(seconds) == text


def test_the_three_durations_of_the_issue_read_alike() -> None:
    # once `0.01995 s` beside `2.094 s` beside `46 ms`
    assert [format_seconds(v) for v in (0.01995, 2.094, 0.046)] == ["19.9 ms", "2.09 s", "46 ms"]


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1 KiB"),
        (1.23 * 1_048_576, "1.23 MiB"),
        (5 * 1_048_576, "5 MiB"),
        (1023.9 * 1024, "1 MiB"),  # not "1024 KiB"
        (3 * 1024**4, "3 TiB"),
        (None, "-"),
    ],
)
def test_sizes(size: float | None, text: str) -> None:
    assert format_bytes(size) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(12.34, "12.3 %"), (5.0, "5 %"), (0.04, "0.04 %"), (100.0, "100 %"), (99.97, "99.9 %")],
)
def test_percentages_never_round_up_to_a_full_hundred(value: float, text: str) -> None:
    assert format_percent(value) == text


def test_a_share_is_a_percentage_of_one() -> None:
    assert format_share(0.123) == "12.3 %"
    assert format_share(1.0) == "100 %"
    assert format_share(None) == "-"


def test_quantity_picks_the_spelling_of_its_unit() -> None:
    assert format_quantity(0.0199, "s") == "19.9 ms"
    assert format_quantity(19.9, "ms") == "19.9 ms"
    assert format_quantity(2048, "bytes") == "2 KiB"
    assert format_quantity(42.19, "%") == "42.2 %"
    assert format_quantity(12.345, "days") == "12.3 days"
    assert format_quantity(0.523, "") == "0.523"
    assert format_number(1.0) == "1"
    assert format_quantity(None, "s") == "-"


def test_a_change_carries_its_sign() -> None:
    assert [format_change(v) for v in (1.2345, -0.5, 0.0, None)] == ["+1.23", "-0.5", "0", "-"]
