"""The JSON API under /api/: status, schedule, runs, alerts, backups, maintenance, fleet.

Every endpoint but `runs` is a part of the status model, printed with the same
serialisation as `hostkeeper --json status` (`fleet`: as `hostkeeper --json fleet`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.runs import list_runs
from hostkeeper.services.run_records import run_as_json
from hostkeeper.services.status_model import FleetStatus, HostStatus, as_json
from hostkeeper.web.params import int_parameter, name_parameter

MAX_RUNS = 500


def dispatch(
    endpoint: str,
    query: dict[str, list[str]],
    store: Store,
    status: Callable[[], HostStatus],
    fleet: Callable[[], FleetStatus] | None = None,
) -> Any:
    """The response body for `endpoint`, or None when there is no such endpoint.

    Raises params.BadParameter for a malformed query parameter.
    """
    if endpoint == "runs":
        procedure = name_parameter(query, "procedure")
        limit = int_parameter(query, "limit", default=20, minimum=1, maximum=MAX_RUNS)
        return [run_as_json(run) for run in list_runs(store, procedure, limit)]
    if endpoint == "status":
        return as_json(status())
    if endpoint == "schedule":
        return as_json(status().procedures)
    if endpoint == "alerts":
        return as_json(status().alerts)
    if endpoint == "backups":
        return as_json(status().backups)
    if endpoint == "maintenance":
        return as_json(status().maintenance)
    if endpoint == "fleet" and fleet is not None:
        return as_json(fleet())
    return None
