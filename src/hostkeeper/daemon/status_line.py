"""The one-line summary shown in `systemctl status` (STATUS=), from the status model's
procedures and maintenance: the same "last result", "failing" and windows as every
other view."""

from __future__ import annotations

from collections.abc import Sequence, Set

from hostkeeper.services.status_model import MaintenanceStatus, ProcedureStatus, WindowStatus

REASON_SHOWN = 40  # characters of a window's reason in the one line


def summary_line(
    procedures: Sequence[ProcedureStatus],
    active: Set[str],
    maintenance: MaintenanceStatus | None = None,
) -> str:
    """`running weekly | maintenance: run weekly #12 | next daily 2026-11-28 02:00 UTC |
    last weekly succeeded ...`."""
    parts = []
    if active:
        parts.append("running " + ", ".join(sorted(active)))
    if maintenance is not None and maintenance.active:
        text = "maintenance: " + ", ".join(window_label(w) for w in maintenance.windows)
        if maintenance.held_alerts:
            text += f" ({maintenance.held_alerts} alerts held)"
        parts.append(text)
    upcoming = [(p.next_run, p.procedure) for p in procedures if p.next_run is not None]
    if upcoming:
        when, name = min(upcoming)
        parts.append(f"next {name} {when.strftime('%Y-%m-%d %H:%M %Z')}")
    else:
        parts.append("nothing scheduled")
    ended = [
        (p.last_run, p) for p in procedures if p.last_run is not None and p.last_status != "running"
    ]
    if ended:
        started, newest = max(ended, key=lambda pair: pair[0])
        parts.append(
            f"last {newest.procedure} {newest.last_status} {started.strftime('%Y-%m-%d %H:%M UTC')}"
        )
    failing = sorted(p.procedure for p in procedures if p.failing)
    if failing:
        parts.append("failing: " + ", ".join(failing))
    return " | ".join(parts)


def window_label(window: WindowStatus) -> str:
    """`run weekly #12`, `planned patch-night #13`, `incident #14 db down`, `+ grace`."""
    if window.kind in ("run", "planned"):
        label = f"{window.kind} {window.name} #{window.id}"
    else:
        reason = window.reason or ""
        shown = reason if len(reason) <= REASON_SHOWN else reason[: REASON_SHOWN - 3] + "..."
        label = f"{window.kind} #{window.id}" + (f" {shown}" if shown else "")
    return label + (" (grace)" if window.in_grace else "")
