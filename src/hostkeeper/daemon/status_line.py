"""The one-line summary shown in `systemctl status` (STATUS=), from the status model's
procedures: the same "last result" and "failing" as every other view."""

from __future__ import annotations

from collections.abc import Sequence, Set

from hostkeeper.services.status_model import ProcedureStatus


def summary_line(procedures: Sequence[ProcedureStatus], active: Set[str]) -> str:
    """`running weekly | next daily 2026-11-28 02:00 UTC | last weekly succeeded ...`."""
    parts = []
    if active:
        parts.append("running " + ", ".join(sorted(active)))
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
