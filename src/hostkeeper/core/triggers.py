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


class OffsetTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 has no type hints
    """Fires `offset` after every fire of `inner` (a host's fleet.splay shift).

    The shift is added in UTC, so a run is always exactly `offset` later, also across a
    daylight saving change of the schedule's zone."""

    def __init__(self, inner: BaseTrigger, offset: timedelta) -> None:
        self.inner = inner
        self.offset = offset

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # In UTC: an aware time minus a timedelta is wall-clock arithmetic in its zone.
        previous = None
        if previous_fire_time is not None:
            previous = previous_fire_time.astimezone(UTC) - self.offset
        fire: datetime | None = self.inner.get_next_fire_time(
            previous, now.astimezone(UTC) - self.offset
        )
        return None if fire is None else fire.astimezone(UTC) + self.offset

    def __str__(self) -> str:
        return f"{self.inner} + {self.offset}"


def shifted(trigger: BaseTrigger, offset: timedelta) -> BaseTrigger:
    """`trigger` fired `offset` later; `trigger` itself when there is no offset."""
    return OffsetTrigger(trigger, offset) if offset else trigger


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
