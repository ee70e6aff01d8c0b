"""Maintenance windows as operators and procedures use them: a run's window, planned
occurrences from the configuration, `maintenance start|stop|list`, and the windows in
force for alert evaluation (docs/maintenance.md).

Every window is a row in the store, planned occurrences included (recorded when they
start, or when they are to be announced), so the daemon, the CLI and a step all see the
same windows, alerts can name the window they began in, and a restart forgets nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.windows import NewWindow, WindowRow
from hostkeeper.config import Config
from hostkeeper.config.maintenance import PlannedWindow
from hostkeeper.core.planned_windows import Occurrence, next_occurrence, relevant_occurrences
from hostkeeper.core.triggers import build_trigger
from hostkeeper.core.windows import HoldPolicy, WindowKind

# `maintenance stop` ends these; a run's window ends with its run, an incident with
# `incident close`.
STOPPABLE = (WindowKind.ADHOC, WindowKind.PLANNED)


class MaintenanceError(ValueError):
    """An operator's request that cannot be done as asked (the message says why)."""


# -- windows in force --------------------------------------------------------------------------


def hold_policy(config: Config, store: Store, now: datetime) -> HoldPolicy:
    """The windows holding alerts at `now` and the longest hold, after bringing the store
    up to date (planned occurrences recorded, windows of finished runs closed)."""
    refresh(config, store, now)
    holding = in_force(config, window_store.holding_windows(store, now))
    return HoldPolicy(tuple(row.window for row in holding), config.maintenance.max_hold)


def in_force(config: Config, rows: Sequence[WindowRow]) -> list[WindowRow]:
    """`rows` without the windows of runs of procedures the configuration no longer has:
    a procedure removed from it takes its windows along, like everything else it had."""
    return [row for row in rows if row.kind is not WindowKind.RUN or row.name in config.procedures]


def refresh(config: Config, store: Store, now: datetime) -> None:
    sync_planned(config, store, now)
    close_finished_run_windows(store)


def grace_of(config: Config, grace: timedelta | None) -> timedelta:
    return config.maintenance.grace if grace is None else grace


# -- procedure runs ----------------------------------------------------------------------------


def open_run_window(
    config: Config, store: Store, procedure: str, run_id: int, now: datetime
) -> int | None:
    """The window of a run that is about to execute its steps, attached to the open
    incident if there is one; None when the procedure opens none."""
    settings = config.procedures[procedure].maintenance
    if not settings.window:
        return None
    incident = newest_open_incident(store, now)
    return window_store.open_window(
        store,
        NewWindow(
            kind=WindowKind.RUN,
            starts_at=now,
            grace=grace_of(config, settings.grace),
            rules=settings.rules,
            name=procedure,
            reason=f"run #{run_id} of {procedure}",
            run_id=run_id,
            incident_id=incident.id if incident is not None else None,
        ),
    )


def close_run_window(store: Store, window_id: int, now: datetime) -> None:
    window_store.close_window(store, window_id, now)


def close_finished_run_windows(store: Store) -> list[WindowRow]:
    """Close the windows of runs that ended without closing theirs (a crash), at the
    run's end."""
    closed = []
    for row, ended in window_store.finished_run_windows(store):
        closed.append(window_store.close_window(store, row.id, ended or row.starts_at))
    return closed


def newest_open_incident(store: Store, now: datetime) -> WindowRow | None:
    incidents = [
        row
        for row in window_store.unclosed_windows(store, [WindowKind.INCIDENT])
        if row.starts_at <= now
    ]
    return incidents[-1] if incidents else None


# -- planned windows ---------------------------------------------------------------------------


def planned_occurrences(config: Config, planned: PlannedWindow, now: datetime) -> list[Occurrence]:
    trigger = build_trigger(planned.schedule.trigger_spec(), config.timezone, now)
    grace = grace_of(config, planned.grace)
    return relevant_occurrences(trigger, planned.duration, grace, planned.announce, now)


def sync_planned(config: Config, store: Store, now: datetime) -> list[int]:
    """Record every planned occurrence that holds alerts now or is to be announced, and
    drop recorded future occurrences the configuration no longer has; an occurrence in
    progress whose window left the configuration closes now. Returns the new rows' ids."""
    wanted: set[tuple[str, datetime]] = set()
    created = []
    for planned in config.maintenance.windows:
        for occurrence in planned_occurrences(config, planned, now):
            wanted.add((planned.name, occurrence.start))
            window_id, new = window_store.ensure_window(
                store,
                NewWindow(
                    kind=WindowKind.PLANNED,
                    starts_at=occurrence.start,
                    ends_at=occurrence.end,
                    grace=grace_of(config, planned.grace),
                    rules=planned.rules,
                    name=planned.name,
                    reason=planned.reason,
                ),
            )
            if new:
                created.append(window_id)
    configured = {planned.name for planned in config.maintenance.windows}
    for row in _current_planned(store, now):
        if (row.name or "", row.starts_at) in wanted:
            continue
        if row.starts_at > now:
            window_store.cancel_future_window(store, row.id)
        elif row.name not in configured and (row.ends_at is None or row.ends_at > now):
            window_store.close_window(store, row.id, now, "configuration")
    return created


def _current_planned(store: Store, now: datetime) -> list[WindowRow]:
    """Recorded planned occurrences that hold alerts now or lie ahead, not closed."""
    rows = [*window_store.holding_windows(store, now), *window_store.future_windows(store, now)]
    return [row for row in rows if row.kind is WindowKind.PLANNED and row.closed_at is None]


@dataclass(frozen=True)
class Upcoming:
    """The next occurrence of a planned window."""

    name: str
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    rules: list[str] | None
    announce: timedelta | None


def upcoming_planned(config: Config, now: datetime) -> list[Upcoming]:
    """The next occurrence of every planned window, soonest first."""
    found = []
    for planned in config.maintenance.windows:
        trigger = build_trigger(planned.schedule.trigger_spec(), config.timezone, now)
        occurrence = next_occurrence(trigger, planned.duration, now)
        if occurrence is not None:
            found.append(
                Upcoming(
                    planned.name,
                    occurrence.start,
                    occurrence.end,
                    planned.reason,
                    planned.rules,
                    planned.announce,
                )
            )
    return sorted(found, key=lambda upcoming: upcoming.starts_at)


# -- ad hoc windows ----------------------------------------------------------------------------


def start_window(
    config: Config,
    store: Store,
    now: datetime,
    *,
    duration: timedelta,
    reason: str | None,
    opened_by: str,
    rules: Sequence[str] | None = None,
    grace: timedelta | None = None,
) -> WindowRow:
    """`maintenance start`: a window from now for `duration`."""
    if duration <= timedelta(0):
        raise MaintenanceError("--for must be longer than 0s")
    known = {rule.name for rule in config.alerts.rules}
    unknown = [rule for rule in rules or () if rule not in known]
    if unknown:
        raise MaintenanceError(
            f"no rule named {', '.join(map(repr, unknown))}; rules: {', '.join(sorted(known))}"
        )
    window_id = window_store.open_window(
        store,
        NewWindow(
            kind=WindowKind.ADHOC,
            starts_at=now,
            ends_at=now + duration,
            grace=grace_of(config, grace),
            rules=rules,
            reason=reason,
            opened_by=opened_by,
        ),
    )
    return window_store.get_window(store, window_id)


def stop_windows(
    store: Store, now: datetime, closed_by: str, window_id: int | None = None
) -> list[WindowRow]:
    """`maintenance stop [ID]`: end window ID, or every open ad hoc and planned window.

    Raises MaintenanceError for a window that is not one `maintenance stop` ends, or one
    that has ended already; WindowNotFound for an unknown id."""
    if window_id is not None:
        row = window_store.get_window(store, window_id)
        if row.kind not in STOPPABLE:
            how = "its run ends it" if row.kind is WindowKind.RUN else "use `incident close`"
            raise MaintenanceError(f"window #{row.id} is a {row.kind.value} window: {how}")
        if not row.window.open_at(now):
            raise MaintenanceError(f"window #{row.id} is not open")
        targets = [row]
    else:
        targets = [
            row
            for row in window_store.holding_windows(store, now)
            if row.kind in STOPPABLE and row.window.open_at(now)
        ]
    return [window_store.close_window(store, row.id, now, closed_by) for row in targets]


# -- listing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    holding: list[WindowRow]  # open, or in their grace
    upcoming: list[Upcoming]  # the next occurrence of each planned window
    recent: list[WindowRow]  # the newest windows that stopped holding


def list_windows(config: Config, store: Store, now: datetime, limit: int = 10) -> Listing:
    refresh(config, store, now)
    holding = in_force(config, window_store.holding_windows(store, now))
    shown = {row.id for row in holding}
    recent = [
        row
        for row in window_store.recent_windows(store, limit + len(shown))
        if row.id not in shown and row.starts_at <= now
    ][:limit]
    return Listing(holding, upcoming_planned(config, now), recent)


def describe(row: WindowRow) -> str:
    """`run weekly (#12)`, `planned patch-night (#13)`, `adhoc: kernel update (#14)`."""
    if row.kind is WindowKind.RUN:
        return f"run {row.name} (#{row.id})"
    if row.kind is WindowKind.PLANNED:
        return f"planned {row.name} (#{row.id})"
    text = f"{row.kind.value}: {row.reason}" if row.reason else row.kind.value
    return f"{text} (#{row.id})"


def scope(rules: Sequence[str] | None) -> str:
    return "every rule" if rules is None else ", ".join(rules) or "no rule"
