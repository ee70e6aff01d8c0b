from __future__ import annotations

import pytest

from hostkeeper.core.expressions import Comparison, parse_comparison


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("health_score < 50", Comparison("health_score", "<", 50.0)),
        ("load.5m >= 4", Comparison("load.5m", ">=", 4.0)),
        ("disk./.used_percent>90.5", Comparison("disk./.used_percent", ">", 90.5)),
        ("temp <= -3", Comparison("temp", "<=", -3.0)),
    ],
)
def test_parse_comparison(text: str, expected: Comparison) -> None:
    assert parse_comparison(text) == expected


@pytest.mark.parametrize("text", ["health_score == 50", "health_score < fifty", "< 50", ""])
def test_bad_comparison_raises(text: str) -> None:
    with pytest.raises(ValueError, match="is not a comparison"):
        parse_comparison(text)


def test_comparison_holds_and_prints() -> None:
    comparison = parse_comparison("health_score < 50")
    assert comparison.holds(49.9)
    assert not comparison.holds(50)
    assert str(comparison) == "health_score < 50"
