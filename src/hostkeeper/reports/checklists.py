"""The checklists section of the weekly and monthly reports: the runs of procedures with
a checklist in the report's period, each item with its state and evidence (the
`checklist` macro renders them, the same way as the dashboard)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hostkeeper.services.status_model import ChecklistStatus

MAX_CHECKLISTS = 20  # runs shown in one report, newest first


def checklist_summaries(checklists: Sequence[ChecklistStatus]) -> list[dict[str, Any]]:
    """What a report's JSON summary says of each checklist: the run and its counts,
    with the items not done."""
    return [
        {
            "run_id": checklist.run_id,
            "procedure": checklist.procedure,
            "run_status": checklist.run_status,
            "started_at": checklist.started_at.isoformat(),
            "counts": checklist.counts,
            "not_done": [
                {"name": item.name, "state": item.state}
                for item in checklist.items
                if item.state != "done"
            ],
        }
        for checklist in checklists
    ]
