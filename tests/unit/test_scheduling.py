"""Concrete fire times of the triggers built for each schedule form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.base import BaseTrigger

from hostkeeper.adapters.store import runs as run_store
from hostkeeper.config import Config
from hostkeeper.config.procedures import Schedule
from hostkeeper.core.runs import RunStatus, Trigger
from hostkeeper.core.schedules import (
    CronSpec,
    IntervalSpec,
    TriggerSpec,
    cron_fields_spec,
    crontab_spec,
)
from hostkeeper.core.triggers import build_trigger, next_fire_time, previous_fire_time, shifted
from hostkeeper.services.schedules import host_splay, procedure_trigger, schedule_key
from hostkeeper.services.store_setup import prepare_store

WEDNESDAY = datetime(2025, 1, 1, tzinfo=UTC)


def _times(spec: TriggerSpec, after: datetime, count: int, zone: str = "UTC") -> list[datetime]:
    trigger = build_trigger(spec, zone, anchor=after)
    times: list[datetime] = []
    for _ in range(count):
        upcoming = next_fire_time(trigger, after)
        assert upcoming is not None
        times.append(upcoming.astimezone(UTC))
        after = upcoming
    return times


def _at(day: int, hour: int = 0, minute: int = 0, month: int = 1, year: int = 2025) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize("sunday", ["0", "7", "sun"])
def test_crontab_sunday_fires_on_sunday(sunday: str) -> None:
    assert _times(crontab_spec(f"0 3 * * {sunday}"), WEDNESDAY, 2) == [_at(5, 3), _at(12, 3)]


def test_crontab_weekday_range_1_5_fires_monday_to_friday() -> None:
    times = _times(crontab_spec("0 8 * * 1-5"), WEDNESDAY, 6)
    assert times == [_at(1, 8), _at(2, 8), _at(3, 8), _at(6, 8), _at(7, 8), _at(8, 8)]


def test_crontab_weekday_range_5_7_runs_through_sunday() -> None:
    assert _times(crontab_spec("0 8 * * 5-7"), WEDNESDAY, 4) == [
        _at(3, 8),
        _at(4, 8),
        _at(5, 8),
        _at(10, 8),
    ]


def test_crontab_weekday_step_counts_from_sunday() -> None:
    # */2 is Sunday, Tuesday, Thursday, Saturday.
    assert _times(crontab_spec("0 8 * * */2"), WEDNESDAY, 4) == [
        _at(2, 8),
        _at(4, 8),
        _at(5, 8),
        _at(7, 8),
    ]


def test_crontab_lists_and_minute_steps() -> None:
    assert _times(crontab_spec("*/20 9,17 * * *"), WEDNESDAY, 4) == [
        _at(1, 9, 0),
        _at(1, 9, 20),
        _at(1, 9, 40),
        _at(1, 17, 0),
    ]


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@daily", [_at(2), _at(3)]),
        ("@midnight", [_at(2), _at(3)]),
        ("@hourly", [_at(1, 1), _at(1, 2)]),
        ("@weekly", [_at(5), _at(12)]),
        ("@monthly", [_at(1, month=2), _at(1, month=3)]),
        ("@yearly", [_at(1, year=2026), _at(1, year=2027)]),
    ],
)
def test_crontab_macros_fire_at_their_times(macro: str, expected: list[datetime]) -> None:
    assert _times(crontab_spec(macro), WEDNESDAY, 2) == expected


def test_crontab_day_of_month_or_day_of_week() -> None:
    # "0 0 13 * 5": the 13th of every month, and every Friday; 13 January 2025 is a Monday.
    assert _times(crontab_spec("0 0 13 * 5"), WEDNESDAY, 6) == [
        _at(3),
        _at(10),
        _at(13),
        _at(17),
        _at(24),
        _at(31),
    ]


def test_crontab_day_of_month_or_day_of_week_does_not_fire_twice_when_both_match() -> None:
    # 13 June 2025 is a Friday: one fire time, not two.
    times = _times(crontab_spec("0 0 13 * 5"), _at(12, month=6), 3)
    assert times == [_at(13, month=6), _at(20, month=6), _at(27, month=6)]


def test_cron_fields_first_saturday() -> None:
    spec = cron_fields_spec({"day": "1st sat", "hour": 1, "minute": 0})
    assert _times(spec, WEDNESDAY, 3) == [_at(4, 1), _at(1, 1, month=2), _at(1, 1, month=3)]


def test_cron_fields_last_friday() -> None:
    spec = cron_fields_spec({"day": "last fri", "hour": 22})
    assert _times(spec, WEDNESDAY, 2) == [_at(31, 22), _at(28, 22, month=2)]


def test_cron_fields_quarterly_month_list() -> None:
    spec = cron_fields_spec({"month": "1,4,7,10", "day": "1st sat", "hour": 1, "minute": 0})
    assert _times(spec, _at(5), 4) == [
        _at(5, 1, month=4),
        _at(5, 1, month=7),
        _at(4, 1, month=10),
        _at(3, 1, year=2026),
    ]


def test_cron_fields_smaller_than_the_largest_default_to_their_minimum() -> None:
    assert _times(cron_fields_spec({"hour": 2}), WEDNESDAY, 2) == [_at(1, 2), _at(2, 2)]


def test_cron_fields_day_of_week_uses_apscheduler_names() -> None:
    spec = cron_fields_spec({"day_of_week": "mon-fri", "hour": 6})
    assert _times(spec, _at(3, 7), 2) == [_at(6, 6), _at(7, 6)]


def test_every_interval_counts_from_its_anchor() -> None:
    anchor = _at(1, 12)
    trigger = build_trigger(IntervalSpec(600), "UTC", anchor=anchor)
    assert next_fire_time(trigger, anchor) == anchor + timedelta(minutes=10)
    assert next_fire_time(trigger, anchor + timedelta(minutes=25)) == anchor + timedelta(minutes=30)


def test_every_10m_schedule_is_an_interval_of_600_seconds() -> None:
    assert Schedule(every="10m").trigger_spec() == IntervalSpec(600.0)


def test_timezone_berlin_two_oclock_is_one_utc_in_winter_and_midnight_in_summer() -> None:
    spec = cron_fields_spec({"hour": 2, "minute": 0})
    assert _times(spec, WEDNESDAY, 1, "Europe/Berlin") == [_at(1, 1)]
    assert _times(spec, _at(30, 12, month=6), 1, "Europe/Berlin") == [_at(1, 0, month=7)]


def test_timezone_applies_to_crontab_lines() -> None:
    spec = crontab_spec("30 6 * * *")
    assert _times(spec, WEDNESDAY, 1, "America/New_York") == [_at(1, 11, 30)]


def test_fire_times_are_strictly_after_the_given_moment() -> None:
    trigger = build_trigger(cron_fields_spec({"hour": 2, "minute": 0}), "UTC")
    assert next_fire_time(trigger, _at(1, 2)) == _at(2, 2)
    assert next_fire_time(trigger, _at(1, 1, 59)) == _at(1, 2)


def test_previous_fire_time_finds_the_last_one_in_the_window() -> None:
    trigger = build_trigger(cron_fields_spec({"hour": 2, "minute": 0}), "UTC")
    assert previous_fire_time(trigger, now=_at(4, 12), since=_at(1)) == _at(4, 2)
    assert previous_fire_time(trigger, now=_at(4, 2), since=_at(1)) == _at(4, 2)
    assert previous_fire_time(trigger, now=_at(1, 1), since=_at(1)) is None


@pytest.mark.parametrize(
    "fields",
    [{"day": "1st sunday"}, {"hour": 25}, {"minute": "x"}, {"month": 13}, {"day_of_week": "fun"}],
)
def test_bad_cron_fields_raise_value_error(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="invalid cron fields"):
        build_trigger(cron_fields_spec(fields), "UTC")


def test_unknown_spec_type_raises_type_error() -> None:
    with pytest.raises(TypeError):
        build_trigger("0 2 * * *", "UTC")  # type: ignore[arg-type]


def test_cron_spec_with_seconds_fires_on_the_second() -> None:
    spec = CronSpec({"second": "*/30", "minute": "*"})
    assert _times(spec, WEDNESDAY, 2) == [
        WEDNESDAY + timedelta(seconds=30),
        WEDNESDAY + timedelta(minutes=1),
    ]


# -- fleet.splay: every fire shifted by the host's offset ------------------------------------


def test_a_shifted_cron_schedule_fires_the_offset_later() -> None:
    offset = timedelta(minutes=7, seconds=12)
    trigger = shifted(build_trigger(cron_fields_spec({"hour": 3, "minute": 0}), "UTC"), offset)
    first = next_fire_time(trigger, WEDNESDAY)
    assert first == _at(1, 3, 7) + timedelta(seconds=12)
    assert first is not None and next_fire_time(trigger, first) == first + timedelta(days=1)
    # Between 03:00 and 03:07:12 the shifted fire of the day is still to come.
    assert next_fire_time(trigger, _at(1, 3, 5)) == first
    assert previous_fire_time(trigger, now=_at(2, 12), since=_at(1)) == first + timedelta(days=1)


def test_the_shift_is_exact_across_a_daylight_saving_change() -> None:
    """Berlin enters summer time at 02:00 on 2025-03-30: the 01:50 fire shifted by 15
    minutes lands at 03:05 local that night (02:05 does not exist), 15 real minutes late
    like every other night."""
    offset = timedelta(minutes=15)
    spec = cron_fields_spec({"hour": 1, "minute": 50})

    def fires(trigger: BaseTrigger, count: int) -> list[datetime]:
        moment = _at(28, 12, month=3)
        found: list[datetime] = []
        for _ in range(count):
            following = next_fire_time(trigger, moment)
            assert following is not None
            moment = following
            found.append(moment.astimezone(UTC))
        return found

    plain = fires(build_trigger(spec, "Europe/Berlin"), 3)
    assert plain == [_at(29, 0, 50, month=3), _at(30, 0, 50, month=3), _at(30, 23, 50, month=3)]
    assert fires(shifted(build_trigger(spec, "Europe/Berlin"), offset), 3) == [
        fire + offset for fire in plain
    ]


def test_no_offset_keeps_the_trigger_itself() -> None:
    trigger = build_trigger(IntervalSpec(60), "UTC")
    assert shifted(trigger, timedelta(0)) is trigger


def test_an_every_schedule_with_splay_counts_from_its_last_shifted_fire(
    make_config: Callable[..., Config], tmp_path: Path
) -> None:
    """The recorded fire already carries the shift: a restart must not add it again."""
    config = make_config(
        {"often": {"schedule": {"every": "1h"}, "steps": [{"run": ["true"]}]}},
        fleet={"host_id": "web-07", "splay": "15m"},
    )
    store = prepare_store(config)
    try:
        procedure = config.procedures["often"]
        offset = host_splay(config, store.host)
        assert store.host == "web-07" and offset > timedelta(0)
        run_store.known_since(store, "often", schedule_key(config, procedure, store.host), _at(1))
        last = _at(1, 10) + offset
        run_store.record_finished_run(
            store, "often", Trigger.SCHEDULED, RunStatus.SUCCEEDED, last, "", scheduled_for=last
        )
        trigger = procedure_trigger(config, "often", procedure, store)
        assert next_fire_time(trigger, last) == last + timedelta(hours=1)
        assert next_fire_time(trigger, last + timedelta(minutes=90)) == last + timedelta(hours=2)
    finally:
        store.dispose()


def test_a_splay_is_part_of_the_schedule_key_and_none_leaves_the_key_as_before(
    make_config: Callable[..., Config],
) -> None:
    steps = {"schedule": {"hour": 3}, "steps": [{"run": ["true"]}]}
    plain = make_config({"p": steps})
    splayed = make_config({"p": steps}, fleet={"splay": "15m"})
    key = schedule_key(plain, plain.procedures["p"], "web-07")
    assert key == f"UTC|{plain.procedures['p'].schedule.model_dump_json()}"
    shifted_key = schedule_key(splayed, splayed.procedures["p"], "web-07")
    assert shifted_key.startswith(key + "|splay=") and shifted_key != key
