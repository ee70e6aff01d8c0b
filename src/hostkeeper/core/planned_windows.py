"""The occurrences of a planned (recurring) maintenance window that matter at a moment.

A planned window fires on its schedule and lasts `duration`. At `now`, an occurrence
matters when it holds alerts (started, and its end plus grace not yet passed) or when it
starts within its announcement horizon (`announce: 24h`: told ahead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hostkeeper.core.triggers import next_fire_time

# However often a window recurs, this many occurrences at most are considered at once.
MAX_OCCURRENCES = 100


@dataclass(frozen=True)
class Occurrence:
    start: datetime
    end: datetime

    def holding_at(self, now: datetime, grace: timedelta) -> bool:
        return self.start <= now < self.end + grace


def relevant_occurrences(
    trigger: Any,
    duration: timedelta,
    grace: timedelta,
    announce: timedelta | None,
    now: datetime,
) -> list[Occurrence]:
    """Occurrences holding alerts at `now`, then those starting in (now, now + announce],
    oldest first. `trigger` is an APScheduler trigger (core.triggers)."""
    horizon = now + (announce or timedelta(0))
    # An occurrence that fired at exactly now - duration - grace stops holding at now.
    moment = next_fire_time(trigger, now - duration - grace)
    found: list[Occurrence] = []
    while moment is not None and moment <= horizon and len(found) < MAX_OCCURRENCES:
        found.append(Occurrence(moment, moment + duration))
        moment = next_fire_time(trigger, moment)
    return found


def next_occurrence(trigger: Any, duration: timedelta, now: datetime) -> Occurrence | None:
    """The first occurrence starting after `now`."""
    moment = next_fire_time(trigger, now)
    return None if moment is None else Occurrence(moment, moment + duration)
