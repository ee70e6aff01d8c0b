"""Schedule forms translated into trigger specs, with crontab semantics for `cron:`."""

from __future__ import annotations

import pytest

from hostkeeper.core.schedules import (
    AnyOfSpec,
    CronSpec,
    cron_fields_spec,
    crontab_spec,
    crontab_weekdays,
)


@pytest.mark.parametrize("sunday", ["0", "7", "sun", "SUN"])
def test_crontab_sunday_is_0_7_or_sun(sunday: str) -> None:
    assert crontab_weekdays(sunday) == "sun"


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("5-7", "sun,fri,sat"),
        ("fri-sun", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("1-5/2", "mon,wed,fri"),
        ("1,3,5", "mon,wed,fri"),
        ("0,6", "sun,sat"),
        ("sat,0", "sun,sat"),
        ("0-7", "*"),
        ("*", "*"),
        ("1/3", "mon,thu"),
    ],
)
def test_crontab_weekday_fields_become_day_names(field: str, days: str) -> None:
    assert crontab_weekdays(field) == days


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("8", "out of range"),
        ("-1", "not a number"),
        ("funday", "not a number or a day name"),
        ("5-2", "runs backwards"),
        ("*/0", "at least 1"),
        ("*/x", "not a number"),
    ],
)
def test_bad_crontab_weekday_field_raises(field: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        crontab_weekdays(field)


def test_crontab_line_maps_to_cron_fields_at_second_zero() -> None:
    assert crontab_spec("0 3 * * sun") == CronSpec(
        {"minute": "0", "hour": "3", "month": "*", "second": "0", "day_of_week": "sun"}
    )


def test_crontab_line_with_day_of_month_only() -> None:
    assert crontab_spec("30 4 1 */3 *") == CronSpec(
        {"minute": "30", "hour": "4", "month": "*/3", "second": "0", "day": "1"}
    )


def test_crontab_day_of_month_and_weekday_both_restricted_means_either() -> None:
    spec = crontab_spec("0 0 13 * 5")
    assert spec == AnyOfSpec(
        (
            CronSpec({"minute": "0", "hour": "0", "month": "*", "second": "0", "day": "13"}),
            CronSpec(
                {"minute": "0", "hour": "0", "month": "*", "second": "0", "day_of_week": "fri"}
            ),
        )
    )


def test_crontab_star_step_in_day_counts_as_unrestricted() -> None:
    # crontab treats a field starting with `*` as unrestricted for the OR rule.
    spec = crontab_spec("0 0 */2 * 1")
    assert isinstance(spec, CronSpec)
    assert spec.fields["day"] == "*/2"
    assert spec.fields["day_of_week"] == "mon"


@pytest.mark.parametrize(
    ("macro", "line"),
    [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ],
)
def test_crontab_macros_expand_to_their_lines(macro: str, line: str) -> None:
    assert crontab_spec(macro) == crontab_spec(line)


def test_unknown_macro_raises() -> None:
    with pytest.raises(ValueError, match="unsupported crontab macro"):
        crontab_spec("@reboot")


@pytest.mark.parametrize("line", ["0 2 * *", "0 2 * * * *", ""])
def test_crontab_line_needs_five_fields(line: str) -> None:
    with pytest.raises(ValueError, match="5 fields"):
        crontab_spec(line)


def test_cron_fields_become_strings() -> None:
    assert cron_fields_spec({"day": "1st sat", "hour": 1, "minute": 0}) == CronSpec(
        {"day": "1st sat", "hour": "1", "minute": "0"}
    )


def test_unknown_cron_field_raises() -> None:
    with pytest.raises(ValueError, match="unknown cron field"):
        cron_fields_spec({"hours": 2})


def test_empty_cron_fields_raise() -> None:
    with pytest.raises(ValueError, match="at least one cron field"):
        cron_fields_spec({})
