"""APScheduler triggers built from the pure trigger specs of `core.schedules`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hostkeeper.core.schedules import AnyOfSpec, CronSpec, IntervalSpec, TriggerSpec


def build_trigger(spec: TriggerSpec, timezone: str, anchor: datetime | None = None) -> BaseTrigger:
    """An APScheduler trigger for `spec`, evaluated in `timezone`.

    `anchor` is where an interval starts counting (default: now).
    """
    zone = ZoneInfo(timezone)
    if isinstance(spec, CronSpec):
        return _cron(spec, zone)
    if isinstance(spec, AnyOfSpec):
        return OrTrigger([_cron(part, zone) for part in spec.parts])
    if isinstance(spec, IntervalSpec):
        return IntervalTrigger(seconds=spec.seconds, timezone=zone, start_date=anchor)
    raise TypeError(f"unknown trigger spec {spec!r}")


def _cron(spec: CronSpec, zone: ZoneInfo) -> CronTrigger:
    try:
        return CronTrigger(timezone=zone, **dict(spec.fields))
    except ValueError as error:
        raise ValueError(f"invalid cron fields {dict(spec.fields)}: {error}") from None


def never_fires_problem(trigger: BaseTrigger, now: datetime | None = None) -> str | None:
    """Why `trigger` will never fire after `now` (`{month: 2, day: 30}`, a past
    `year:`), or None. A procedure on such a schedule would silently never run."""
    moment = now or datetime.now(UTC)
    if trigger.get_next_fire_time(None, moment) is not None:
        return None
    return f"this schedule never fires: no date after {moment:%Y-%m-%d} matches every field"


def next_fire_time(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first fire time strictly after `after`."""
    moment = after + timedelta(microseconds=1)
    result: datetime | None = trigger.get_next_fire_time(None, moment)
    return result


def previous_fire_time(trigger: BaseTrigger, now: datetime, since: datetime) -> datetime | None:
    """The last fire time in (since, now], found by stepping forward from `since`."""
    latest = None
    moment = next_fire_time(trigger, since)
    steps = 0
    while moment is not None and moment <= now and steps < 100_000:
        latest = moment
        moment = next_fire_time(trigger, moment)
        steps += 1
    return latest
