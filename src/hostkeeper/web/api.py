"""The JSON API under /api/: status, schedule, runs, alerts, backups."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.runs import list_runs
from hostkeeper.config import Config
from hostkeeper.web.params import int_parameter, name_parameter
from hostkeeper.web.snapshot import take_snapshot

NextRuns = Callable[[], Mapping[str, datetime | None]] | None
MAX_RUNS = 500


def dispatch(
    endpoint: str,
    query: dict[str, list[str]],
    store: Store,
    config: Config,
    next_runs: NextRuns,
    daemon_state: Mapping[str, Any] | None,
) -> Any:
    """The response body for `endpoint`, or None when there is no such endpoint.

    Raises params.BadParameter for a malformed query parameter.
    """
    if endpoint == "runs":
        procedure = name_parameter(query, "procedure")
        limit = int_parameter(query, "limit", default=20, minimum=1, maximum=MAX_RUNS)
        return [
            {
                **{k: v for k, v in vars(run).items() if k != "steps"},
                "steps": [
                    vars(step)
                    | {"status": step.status.value, "duration_seconds": step.duration_seconds}
                    for step in run.steps
                ],
            }
            for run in list_runs(store, procedure, limit)
        ]
    if endpoint not in ("status", "schedule", "alerts", "backups"):
        return None
    snapshot = take_snapshot(store, config, next_runs)
    if endpoint == "schedule":
        return snapshot.procedures
    if endpoint == "alerts":
        return {"firing": snapshot.firing, "last_7_days": snapshot.alert_counts}
    if endpoint == "backups":
        return snapshot.backups
    return {
        "host": snapshot.host,
        "generated_at": snapshot.generated_at,
        "daemon": dict(daemon_state) if daemon_state else None,
        "health_score": snapshot.health_score,
        "checks": snapshot.checks,
        "firing_alerts": snapshot.firing,
        "procedures": snapshot.procedures,
        "backups": snapshot.backups,
    }
