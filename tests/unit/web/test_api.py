"""/api/runs serves no secret, even from rows stored before the engine redacted them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.schema import runs, step_results
from hostkeeper.config import Config
from hostkeeper.web import api

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
SECRETS = ("hunter2-pw", "t0ken-value", "u:p4ss", "bearer-abc")


def test_runs_endpoint_redacts_old_rows(store: Store, make_config: Callable[..., Config]) -> None:
    argv = ["/usr/bin/sync", "--password=hunter2-pw", "--token", "t0ken-value"]
    with store.write() as connection:
        run_id = connection.execute(
            insert(runs).values(
                host=store.host,
                procedure="p",
                trigger="manual",
                status="failed",
                started_at=NOW,
                finished_at=NOW + timedelta(seconds=1),
                error="run: /usr/bin/sync: POST https://u:p4ss@h/x failed",
                dry_run=False,
            )
        ).inserted_primary_key[0]
        connection.execute(
            insert(step_results).values(
                run_id=run_id,
                position=0,
                phase="steps",
                name="run",
                label="run: /usr/bin/sync",
                status="failed",
                started_at=NOW,
                finished_at=NOW + timedelta(seconds=1),
                duration_seconds=1.0,
                summary="dry run: would run " + " ".join(argv),
                error="curl: Authorization: Bearer bearer-abc refused",
                output="connecting to https://u:p4ss@h/x",
                details=json.dumps({"argv": argv, "returncode": 1}),
            )
        )
    served = api.dispatch("runs", {}, store, make_config(), None, None)
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
