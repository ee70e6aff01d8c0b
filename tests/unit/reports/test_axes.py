"""Chart axes: time ticks on round times labelled for the span, value axes on round steps
that never go below what the quantity can take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hostkeeper.reports.axes import MAX_TIME_TICKS, time_ticks, value_axis


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _labels(start: str, span: timedelta) -> list[str]:
    begin = _at(start)
    ticks = time_ticks(begin, begin + span.total_seconds())
    assert 1 <= len(ticks) <= MAX_TIME_TICKS
    assert all(begin <= tick.at < begin + span.total_seconds() for tick in ticks)
    labels = [tick.label for tick in ticks]
    assert len(set(labels)) == len(labels), labels
    return labels


def test_a_day_is_labelled_in_hours_and_minutes_on_round_hours() -> None:
    # the 24 h chart of a host started at 05:59: once `05:59` on every tick
    labels = _labels("2024-06-30T05:59:30", timedelta(hours=24))
    assert labels == ["06:00", "09:00", "12:00", "15:00", "18:00", "21:00", "00:00", "03:00"]


def test_a_whole_day_from_midnight_does_not_repeat_midnight() -> None:
    assert _labels("2024-06-30T00:00:00", timedelta(hours=24))[0] == "00:00"


def test_minutes_are_labelled_with_seconds() -> None:
    labels = _labels("2024-06-30T05:59:30", timedelta(minutes=30))
    assert labels == ["06:00:00", "06:05:00", "06:10:00", "06:15:00", "06:20:00", "06:25:00"]
    assert _labels("2024-06-30T05:59:30", timedelta(seconds=40))[0] == "05:59:30"


def test_two_days_carry_the_date_beside_the_time() -> None:
    labels = _labels("2024-06-29T05:59:30", timedelta(days=2))
    assert labels[0] == "06-29 06:00" and all(" " in label for label in labels)


def test_a_week_is_labelled_by_day_at_midnight() -> None:
    labels = _labels("2024-06-23T05:59:30", timedelta(days=7))
    assert labels == ["06-24", "06-25", "06-26", "06-27", "06-28", "06-29", "06-30"]


def test_a_month_is_labelled_with_the_year_on_mondays() -> None:
    labels = _labels("2024-06-01T05:59:30", timedelta(days=30))
    assert labels == ["2024-06-03", "2024-06-10", "2024-06-17", "2024-06-24", "2024-07-01"]
    assert all(datetime.fromisoformat(label).weekday() == 0 for label in labels)


def test_half_a_year_is_labelled_by_month() -> None:
    labels = _labels("2024-03-20T05:59:30", timedelta(days=180))
    assert labels == [
        "2024-04-01",
        "2024-05-01",
        "2024-06-01",
        "2024-07-01",
        "2024-08-01",
        "2024-09-01",
    ]


def test_an_instant_still_gets_one_tick() -> None:
    ticks = time_ticks(_at("2024-06-30T05:59:30.5"), _at("2024-06-30T05:59:30.5"))
    assert len(ticks) >= 1


@pytest.mark.parametrize(
    ("low", "high"), [(0.3, 3.1), (-0.0, 0.0), (5.2, 5.2), (97.0, 99.5), (0.0, 0.004)]
)
def test_a_quantity_that_cannot_be_negative_never_gets_a_negative_axis(
    low: float, high: float
) -> None:
    axis = value_axis(low, high)
    assert axis.low >= 0 and all(tick >= 0 for tick in axis.ticks), axis
    assert axis.low <= low and axis.high >= high
    assert 2 <= len(axis.ticks) <= 7


def test_the_cpu_chart_of_the_issue_starts_at_zero() -> None:
    # a CPU chart once started at -5.54 %: padding below the lowest value
    axis = value_axis(1.2, 60.0)
    assert axis.low == 0 and axis.ticks[0] == 0


def test_a_signed_quantity_may_go_below_zero() -> None:
    axis = value_axis(-2.0, 3.0, floor=None)
    assert axis.low <= -2 and axis.ticks[0] < 0


def test_ticks_fall_on_round_steps() -> None:
    assert value_axis(0.0, 100.0, fixed_low=0, fixed_high=100).ticks == (0, 20, 40, 60, 80, 100)
    assert value_axis(0.31, 0.93).ticks == (0.2, 0.4, 0.6, 0.8, 1.0)
