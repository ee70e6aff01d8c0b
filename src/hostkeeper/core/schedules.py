"""Translate the configuration's schedule forms into trigger specifications.

Three forms exist: APScheduler cron fields (`{hour: 2, minute: 0}`, `{day: 1st sat}`),
a crontab line (`{cron: "0 3 * * sun"}`) and an interval (`{every: 10m}`). A crontab line
follows crontab semantics, not APScheduler's: weekday 0 and 7 are Sunday, and when both
day-of-month and day-of-week are restricted the job runs when *either* matches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")

# Crontab numbers weekdays from Sunday (0, and 7 again); APScheduler 3 from Monday.
_CRONTAB_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class CronSpec:
    """Keyword fields for an APScheduler `CronTrigger` (all strings, unset fields absent)."""

    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IntervalSpec:
    seconds: float


@dataclass(frozen=True)
class AnyOfSpec:
    """Fires whenever any of its parts fires (crontab's day-of-month OR day-of-week)."""

    parts: tuple[CronSpec, ...]


TriggerSpec = CronSpec | IntervalSpec | AnyOfSpec


def cron_fields_spec(fields: Mapping[str, object]) -> CronSpec:
    """A spec from APScheduler-style cron fields; unknown field names raise ValueError.

    Like APScheduler, fields smaller than the largest one given default to their minimum,
    so `{hour: 2}` means 02:00:00 rather than every minute of hour 2.
    """
    unknown = set(fields) - set(CRON_FIELDS)
    if unknown:
        raise ValueError(f"unknown cron field(s): {', '.join(sorted(unknown))}")
    if not fields:
        raise ValueError("a schedule needs at least one cron field, `cron:` or `every:`")
    return CronSpec({name: str(value) for name, value in fields.items()})


def crontab_spec(expression: str) -> TriggerSpec:
    """A spec from a five-field crontab line or an `@daily`-style macro."""
    expression = expression.strip()
    if expression.startswith("@"):
        if expression not in _MACROS:
            raise ValueError(
                f"unsupported crontab macro {expression!r}; use one of {', '.join(_MACROS)}"
            )
        expression = _MACROS[expression]
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f"a crontab line has 5 fields (minute hour day month weekday), got {len(parts)}"
        )
    minute, hour, day, month, weekday = parts
    base = {"minute": minute, "hour": hour, "month": month, "second": "0"}
    day_restricted = not day.startswith("*")
    weekday_restricted = not weekday.startswith("*")
    if day_restricted and weekday_restricted:
        return AnyOfSpec(
            (
                CronSpec({**base, "day": day}),
                CronSpec({**base, "day_of_week": crontab_weekdays(weekday)}),
            )
        )
    fields = dict(base)
    if day != "*":
        fields["day"] = day
    if weekday != "*":
        fields["day_of_week"] = crontab_weekdays(weekday)
    return CronSpec(fields)


def crontab_weekdays(field_text: str) -> str:
    """Rewrite a crontab weekday field with day names, so no numbering can be misread.

    `0` and `7` are Sunday; ranges, steps and lists are expanded: `1-5` becomes
    `mon,tue,wed,thu,fri` and `*/2` becomes `sun,tue,thu,sat`.
    """
    days: set[int] = set()
    for element in field_text.lower().split(","):
        days.update(_weekday_element(element))
    if len(days) == 7:
        return "*"
    return ",".join(_CRONTAB_WEEKDAYS[day] for day in sorted(days))


def _weekday_element(element: str) -> set[int]:
    range_text, _, step_text = element.partition("/")
    step = _parse_int(step_text, "step") if step_text else 1
    if step < 1:
        raise ValueError(f"weekday step must be at least 1 in {element!r}")
    if range_text == "*":
        first, last = 0, 6
    elif "-" in range_text:
        first_text, last_text = range_text.split("-", 1)
        first, last = _weekday_number(first_text), _weekday_number(last_text)
        if last == 0 and last_text.strip() in ("7", "sun"):
            last = 7  # `5-7` and `fri-sun` run through Sunday
        if first > last:
            raise ValueError(f"weekday range {range_text!r} runs backwards")
    else:
        first = _weekday_number(range_text)
        last = first if not step_text else 6
    return {day % 7 for day in range(first, last + 1, step)}


def _weekday_number(text: str) -> int:
    text = text.strip()
    if text in _CRONTAB_WEEKDAYS:
        return _CRONTAB_WEEKDAYS.index(text)
    number = _parse_int(text, "weekday")
    if not 0 <= number <= 7:
        raise ValueError(f"weekday {number} is out of range 0-7 (0 and 7 are Sunday)")
    return number % 7


def _parse_int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number or a day name") from None
