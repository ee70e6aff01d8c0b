"""Maintenance windows and the alerts they hold: values in, decisions out, `now` passed in.

A window spans [start, end): `end` is the earlier of its planned end and the moment it
was closed (a run that finished, `maintenance stop`, an incident closed); a window with
neither is open until closed. After its end it keeps holding for its `grace`, because
what a procedure disturbed takes a while to settle (a restarted service, a lagging check).

An alert whose condition starts while a window holds its rule is marked with that window
and held: it goes pending, fires and resolves as usual, but no firing notification goes
out while any window holds its rule, and never longer than `max_hold` after it fired, so
a real outage during a long window still reaches someone. If it still fires when the
hold ends, it is notified then, saying it began during maintenance; if it resolved
first, nothing was sent. An alert that began before a window opened is not held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_MAX_HOLD = timedelta(minutes=30)


class WindowKind(StrEnum):
    RUN = "run"  # a procedure run, for its duration
    PLANNED = "planned"  # one occurrence of a window declared in the configuration
    ADHOC = "adhoc"  # `hostkeeper maintenance start --for ...`
    INCIDENT = "incident"  # `hostkeeper incident open ...`


def hold_until(
    planned_end: datetime | None, closed_at: datetime | None, grace: timedelta
) -> datetime | None:
    """When a window stops holding alerts: its end plus its grace; None while it has no end."""
    ends = [moment for moment in (planned_end, closed_at) if moment is not None]
    return min(ends) + grace if ends else None


@dataclass(frozen=True)
class Window:
    """One maintenance window; `rules` None means it holds every rule."""

    id: int
    kind: WindowKind
    start: datetime
    planned_end: datetime | None = None
    closed_at: datetime | None = None
    grace: timedelta = timedelta(0)
    rules: frozenset[str] | None = None

    @property
    def end(self) -> datetime | None:
        ends = [moment for moment in (self.planned_end, self.closed_at) if moment is not None]
        return min(ends) if ends else None

    @property
    def hold_until(self) -> datetime | None:
        return hold_until(self.planned_end, self.closed_at, self.grace)

    def covers(self, rule: str) -> bool:
        return self.rules is None or rule in self.rules

    def open_at(self, now: datetime) -> bool:
        """Inside [start, end): the window itself, without its grace."""
        end = self.end
        return self.start <= now and (end is None or now < end)

    def holding_at(self, now: datetime) -> bool:
        """Inside [start, end + grace): alerts starting now are held."""
        until = self.hold_until
        return self.start <= now and (until is None or now < until)

    def in_grace(self, now: datetime) -> bool:
        return self.holding_at(now) and not self.open_at(now)


def _holding_longest(window: Window) -> tuple[bool, datetime]:
    until = window.hold_until
    return (until is None, until or window.start)


@dataclass(frozen=True)
class HoldPolicy:
    """The windows in force and how long an alert may be held at most."""

    windows: tuple[Window, ...] = field(default_factory=tuple)
    max_hold: timedelta = DEFAULT_MAX_HOLD

    def window_for(self, rule: str, now: datetime) -> Window | None:
        """The window holding `rule` at `now`, the one holding longest if several; None."""
        holding = [w for w in self.windows if w.covers(rule) and w.holding_at(now)]
        return max(holding, key=_holding_longest, default=None)

    def held(
        self, rule: str, began_in: int | None, fired_at: datetime | None, now: datetime
    ) -> bool:
        """Whether an alert of `rule` marked with window `began_in` (None: it began outside
        maintenance) is kept from notifying at `now`: while a window holds the rule, and at
        most `max_hold` after it fired."""
        if began_in is None or self.window_for(rule, now) is None:
            return False
        return fired_at is None or now - fired_at < self.max_hold

    def release_reason(self, rule: str, now: datetime) -> str:
        """Why a held alert of `rule` is notified at `now` (it still fires)."""
        if self.window_for(rule, now) is None:
            return "maintenance over"
        return f"held for the maximum of {_minutes(self.max_hold)}"


NO_HOLDS = HoldPolicy()


def _minutes(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def holding(windows: Iterable[Window], now: datetime) -> list[Window]:
    """The windows holding alerts at `now` (open, or in their grace), oldest first."""
    return sorted((w for w in windows if w.holding_at(now)), key=lambda w: (w.start, w.id))
