from __future__ import annotations

import pytest

from hostkeeper.web.params import BadParameter, int_parameter, name_parameter

BAD_LIMITS = (
    "abc",
    "1e3",
    "\x00",
    "-1",
    "0",
    "501",
    "99999999999999999999",
    "1.5",
    "",
    " 5",
    "+5",
    "٣",  # an Arabic-Indic digit: int() takes it, the API does not
    "0x10",
)


@pytest.mark.parametrize("value", BAD_LIMITS)
def test_a_malformed_limit_is_refused_with_its_reason(value: str) -> None:
    with pytest.raises(BadParameter, match="limit must be"):
        int_parameter({"limit": [value]}, "limit", default=20, minimum=1, maximum=500)


def test_a_limit_within_bounds_or_absent() -> None:
    assert int_parameter({}, "limit", default=20, minimum=1, maximum=500) == 20
    assert int_parameter({"limit": ["1"]}, "limit", default=20, minimum=1, maximum=500) == 1
    assert int_parameter({"limit": ["500"]}, "limit", default=20, minimum=1, maximum=500) == 500


def test_a_repeated_parameter_is_refused() -> None:
    with pytest.raises(BadParameter, match="given 2 times"):
        int_parameter({"limit": ["1", "2"]}, "limit", default=20, minimum=1, maximum=500)


@pytest.mark.parametrize("value", ["", "\x00", "a\nb", "x" * 201])
def test_a_malformed_name_is_refused(value: str) -> None:
    with pytest.raises(BadParameter, match="procedure must be"):
        name_parameter({"procedure": [value]}, "procedure")


def test_a_name_is_passed_through() -> None:
    assert name_parameter({"procedure": ["weekly"]}, "procedure") == "weekly"
    assert name_parameter({}, "procedure") is None
