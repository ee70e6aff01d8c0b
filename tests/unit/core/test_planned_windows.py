"""Occurrences of planned windows: which hold now, which are to be announced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostkeeper.core.planned_windows import (
    MAX_OCCURRENCES,
    Occurrence,
    next_occurrence,
    relevant_occurrences,
)
from hostkeeper.core.schedules import crontab_spec
from hostkeeper.core.triggers import build_trigger

# Tuesdays 22:00 UTC; 2026-03-03 is a Tuesday.
TUESDAY_NIGHT = build_trigger(crontab_spec("0 22 * * tue"), "UTC")
TUESDAY = datetime(2026, 3, 3, 22, 0, tzinfo=UTC)
TWO_HOURS = timedelta(hours=2)


def starts(occurrences: list[Occurrence]) -> list[datetime]:
    return [o.start for o in occurrences]


def test_an_occurrence_holds_from_its_start_until_its_end_plus_grace() -> None:
    grace = timedelta(minutes=10)
    for offset, expected in [
        (timedelta(minutes=-1), []),
        (timedelta(0), [TUESDAY]),
        (TWO_HOURS + grace - timedelta(seconds=1), [TUESDAY]),
        (TWO_HOURS + grace, []),
    ]:
        found = relevant_occurrences(TUESDAY_NIGHT, TWO_HOURS, grace, None, TUESDAY + offset)
        assert starts(found) == expected, offset
    [occurrence] = relevant_occurrences(TUESDAY_NIGHT, TWO_HOURS, grace, None, TUESDAY)
    assert occurrence.end == TUESDAY + TWO_HOURS
    assert occurrence.holding_at(TUESDAY + TWO_HOURS, grace)
    assert not occurrence.holding_at(TUESDAY + TWO_HOURS + grace, grace)


def test_an_announced_occurrence_is_relevant_from_its_announcement_on() -> None:
    day = timedelta(hours=24)
    before = TUESDAY - day - timedelta(seconds=1)
    assert relevant_occurrences(TUESDAY_NIGHT, TWO_HOURS, timedelta(0), day, before) == []
    found = relevant_occurrences(TUESDAY_NIGHT, TWO_HOURS, timedelta(0), day, TUESDAY - day)
    assert starts(found) == [TUESDAY]


def test_overlapping_occurrences_are_all_listed_oldest_first() -> None:
    hourly = build_trigger(crontab_spec("0 * * * *"), "UTC")
    now = datetime(2026, 3, 3, 12, 30, tzinfo=UTC)
    found = relevant_occurrences(hourly, timedelta(hours=3), timedelta(0), None, now)
    assert starts(found) == [now - timedelta(minutes=m) for m in (150, 90, 30)]


def test_a_frequent_schedule_with_a_long_announcement_is_bounded() -> None:
    every_minute = build_trigger(crontab_spec("* * * * *"), "UTC")
    found = relevant_occurrences(
        every_minute, timedelta(minutes=1), timedelta(0), timedelta(days=30), TUESDAY
    )
    assert len(found) == MAX_OCCURRENCES


def test_next_occurrence_is_the_first_start_after_now() -> None:
    upcoming = next_occurrence(TUESDAY_NIGHT, TWO_HOURS, TUESDAY)
    assert upcoming == Occurrence(TUESDAY + timedelta(days=7), TUESDAY + timedelta(days=7, hours=2))
