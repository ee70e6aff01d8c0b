"""The one-line summary shown in `systemctl status` (STATUS=)."""

from __future__ import annotations

from collections.abc import Mapping, Set
from datetime import datetime

from hostkeeper.adapters.store.runs import RunRecord


def summary_line(
    next_runs: Mapping[str, datetime | None],
    latest: Mapping[str, RunRecord],
    active: Set[str],
) -> str:
    """`running weekly | next daily 2026-11-28 02:00 UTC | last weekly succeeded ...`."""
    parts = []
    if active:
        parts.append("running " + ", ".join(sorted(active)))
    upcoming = [(when, name) for name, when in next_runs.items() if when is not None]
    if upcoming:
        when, name = min(upcoming)
        parts.append(f"next {name} {when.strftime('%Y-%m-%d %H:%M %Z')}")
    else:
        parts.append("nothing scheduled")
    finished = [record for record in latest.values() if record.finished_at is not None]
    if finished:
        newest = max(finished, key=lambda record: record.started_at)
        parts.append(
            f"last {newest.procedure} {newest.status} "
            f"{newest.started_at.strftime('%Y-%m-%d %H:%M UTC')}"
        )
    failed = sorted(r.procedure for r in latest.values() if r.status in ("failed", "aborted"))
    if failed:
        parts.append("failing: " + ", ".join(failed))
    return " | ".join(parts)
