"""/api/runs and the status views serve no secret, even from rows stored before the engine
redacted them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store import status as status_store
from hostkeeper.adapters.store.schema import notifications
from hostkeeper.config import Config
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.services.status import build_status, procedure_statuses
from hostkeeper.services.status_scope import scope_of
from hostkeeper.web import api

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
SECRETS = ("hunter2-pw", "t0ken-value", "u:p4ss", "bearer-abc")


def _insert_old_run(store: Store) -> list[str]:
    """A failed run as an older version stored it, secrets and all (the store's writers
    keep what they are given; the engine redacts before it records); returns its argv."""
    argv = ["/usr/bin/sync", "--password=hunter2-pw", "--token", "t0ken-value"]
    run_id = run_store.start_run(store, "p", Trigger.MANUAL, NOW)
    run_store.record_step(
        store,
        run_id,
        run_store.StepRecord(
            position=0,
            phase="steps",
            name="run",
            label="run: /usr/bin/sync",
            status=StepStatus.FAILED,
            started_at=NOW,
            finished_at=NOW + timedelta(seconds=1),
            summary="dry run: would run " + " ".join(argv),
            error="curl: Authorization: Bearer bearer-abc refused",
            output="connecting to https://u:p4ss@h/x",
            details={"argv": argv, "returncode": 1},
        ),
    )
    run_store.finish_run(
        store,
        run_id,
        RunStatus.FAILED,
        NOW + timedelta(seconds=1),
        "run: /usr/bin/sync: POST https://u:p4ss@h/x failed",
    )
    return argv


def test_runs_endpoint_redacts_old_rows(store: Store, make_config: Callable[..., Config]) -> None:
    _insert_old_run(store)
    config = make_config()
    served = api.dispatch(
        "runs", {}, store, lambda: build_status(store, config, now=NOW, next_runs={})
    )
    text = json.dumps(served, default=str)
    for secret in SECRETS:
        assert secret not in text
    [run] = served
    assert run["steps"][0]["details"]["argv"] == [
        "/usr/bin/sync",
        "--password=***",
        "--token",
        "***",
    ]


def test_status_views_redact_old_run_errors_and_delivery_errors(
    store: Store, make_config: Callable[..., Config]
) -> None:
    _insert_old_run(store)
    with store.write() as connection:
        connection.execute(
            insert(notifications).values(
                host=store.host,
                channel="hook",
                kind="alert",
                subject="s",
                state="failed",
                created_at=NOW,
                attempts=3,
                last_error="POST https://u:p4ss@h/x?token=t0ken-value: 500",
            )
        )
    config = make_config({"p": {"schedule": {"hour": 2, "minute": 0}, "steps": ["cleanup"]}})
    status = build_status(store, config, now=NOW, next_runs={})
    assert status.procedures[0].last_error is not None  # the old row is shown, redacted
    assert status.alerts.failed_deliveries[0].error is not None
    served = {
        endpoint: api.dispatch(endpoint, {}, store, lambda: status)
        for endpoint in ("status", "schedule", "alerts")
    }
    # STATUS= is built from the procedures' part alone
    scope = scope_of(config, store.host)
    notify = procedure_statuses(scope, status_store.procedure_run_facts(store), {})
    text = json.dumps(served, default=str) + repr(notify)
    for secret in SECRETS:
        assert secret not in text
