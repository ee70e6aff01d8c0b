"""Readers never scan history they do not show.

Two SQLite stores hold the same current state, written through the store's writers; one
of them also holds 100,000 old runs and a long past of alerts, deliveries, file actions,
check results, archives, restore tests and silences (plain rows, older than anything a
reader shows, written before the current state). Everything the status model, the
dashboard and `/metrics` read must answer the same on both, with the same query plans,
no plan walking a whole history table, and the same number of SQLite virtual-machine
steps: a reader that looked at the old rows, even through an index, would take more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert

from hostkeeper.adapters.store import Store, maintenance, open_store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.checks import record_check_run
from hostkeeper.adapters.store.files import (
    FileActionCounts,
    record_archive,
    record_file_action,
    record_restore_test,
)
from hostkeeper.adapters.store.metrics import write_samples
from hostkeeper.adapters.store.migrate import migrate
from hostkeeper.adapters.store.schema import (
    alerts,
    backup_archives,
    check_results,
    file_actions,
    health_scores,
    notifications,
    restore_tests,
    runs,
    silences,
    step_results,
)
from hostkeeper.config import Config
from hostkeeper.core.health import CheckResult, CheckState
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.services.schedules import schedule_key
from hostkeeper.services.status import (
    DELIVERIES_LOOKED_AT,
    build_status,
    next_runs_from_config,
)
from hostkeeper.services.status_model import as_json
from hostkeeper.web import prometheus
from hostkeeper.web.dashboard import render_dashboard

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OLD_RUNS = 100_000
SMALLEST_OLD_TABLE = 2_000  # archives, restore tests, silences
HISTORY_TABLES = (
    "runs",
    "step_results",
    "alerts",
    "alert_events",
    "notifications",
    "file_actions",
    "backup_archives",
    "restore_tests",
    "check_results",
    "health_scores",
    "silences",
    "samples",
    "rollups",
    "metric_blocks",
)
FULL_SCAN = re.compile(rf"^SCAN ({'|'.join(HISTORY_TABLES)})\b")
PROCEDURES: dict[str, Any] = {
    "daily": {"schedule": {"hour": 2, "minute": 0}, "steps": ["cleanup"]},
    "often": {"schedule": {"every": "1h"}, "steps": ["cleanup"]},
}
CHECKS = [
    {"name": "disk", "type": "disk_free", "path": "/", "warning": "10%", "critical": "5%"},
    {"name": "load", "type": "load", "warning": 4.0, "critical": 8.0},
]
BACKUPS = [{"name": "config", "sources": ["/etc"]}, {"name": "logs", "sources": ["/var/log"]}]


@dataclass
class Reading:
    """What the readers answered, the statements they ran and the VM steps they took."""

    status: Any
    metrics: str
    page: str
    statements: list[tuple[str, Any]] = field(default_factory=list)
    steps: int = 0


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config(PROCEDURES, checks=CHECKS, backups=BACKUPS)


def _store(path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{path / 'hk.db'}", host="h")
    migrate(opened, path / "migrate.lock")
    yield opened
    opened.dispose()


@pytest.fixture
def young(tmp_path: Path) -> Iterator[Store]:
    (tmp_path / "young").mkdir()
    yield from _store(tmp_path / "young")


@pytest.fixture
def old(tmp_path: Path) -> Iterator[Store]:
    (tmp_path / "old").mkdir()
    yield from _store(tmp_path / "old")


def _old_history(store: Store) -> None:
    """A long past as plain rows, every row older than the week the status looks at."""
    start = NOW - timedelta(days=399)

    def at(n: int, count: int) -> datetime:
        return start + (NOW - timedelta(days=8) - start) * n / count

    host = store.host
    with store.write() as connection:
        connection.execute(
            insert(runs),
            [
                {
                    "host": host,
                    "procedure": ("daily", "often")[n % 2],
                    "trigger": "scheduled",
                    "status": ("succeeded", "failed", "missed", "skipped")[n % 4],
                    "scheduled_for": at(n, OLD_RUNS),
                    "started_at": at(n, OLD_RUNS),
                    "finished_at": at(n, OLD_RUNS) + timedelta(seconds=5),
                    "duration_seconds": 5.0,
                    "dry_run": n % 50 == 0,
                }
                for n in range(OLD_RUNS)
            ],
        )
        connection.execute(
            insert(step_results),
            [
                {
                    "run_id": n + 1,
                    "position": 0,
                    "phase": "steps",
                    "name": "cleanup",
                    "label": "cleanup",
                    "status": "failed" if n % 4 == 1 else "succeeded",
                    "started_at": at(n, OLD_RUNS),
                    "finished_at": at(n, OLD_RUNS) + timedelta(seconds=5),
                    "duration_seconds": 5.0,
                }
                for n in range(0, OLD_RUNS, 5)
            ],
        )
        connection.execute(
            insert(alerts),
            [
                {
                    "host": host,
                    "rule": f"rule-{n % 7}",
                    "severity": "warning",
                    "state": "resolved",
                    "pending_since": at(n, 20_000),
                    "fired_at": at(n, 20_000),
                    "resolved_at": at(n, 20_000) + timedelta(minutes=5),
                    "notifications": 1,
                    "false_positive": False,
                }
                for n in range(20_000)
            ],
        )
        connection.execute(
            insert(notifications),
            [
                {
                    "host": host,
                    "channel": ("mail", "hook")[n % 2],
                    "kind": "firing",
                    "alert_id": n + 1,
                    "subject": "old",
                    # failed ones would be shown: the newest failed deliveries are
                    "state": ("sent", "dropped")[n % 2],
                    "attempts": 1,
                    "created_at": at(n, 20_000),
                }
                for n in range(20_000)
            ],
        )
        connection.execute(
            insert(file_actions),
            [
                {"host": host, "kind": "rotate", "policy": "app", "at": at(n, 10_000)}
                | {"files_rotated": 1, "files_compressed": 1, "bytes_freed": 1000}
                for n in range(10_000)
            ],
        )
        connection.execute(
            insert(backup_archives),
            [
                {
                    "host": host,
                    "backup_set": ("config", "logs")[n % 2],
                    "path": f"/backups/old-{n}.tar.gz",
                    "created_at": at(n, SMALLEST_OLD_TABLE),
                    "size_bytes": 10,
                    "files": 1,
                    "sha256": "0" * 64,
                    "state": "pruned",
                }
                for n in range(SMALLEST_OLD_TABLE)
            ],
        )
        connection.execute(
            insert(restore_tests),
            [
                {
                    "host": host,
                    "backup_set": "config",  # tested since: the newest is shown
                    "archive": f"/backups/old-{n}.tar.gz",
                    "tested_at": at(n, SMALLEST_OLD_TABLE),
                    "ok": n % 3 != 0,
                    "files_checked": 1,
                }
                for n in range(SMALLEST_OLD_TABLE)
            ],
        )
        connection.execute(
            insert(check_results),
            [
                {
                    "host": host,
                    "check_name": ("disk", "load")[n % 2],
                    "check_type": ("disk_free", "load")[n % 2],
                    "state": "critical",
                    "value": 99.0,
                    "checked_at": at(n, 50_000),
                }
                for n in range(50_000)
            ],
        )
        connection.execute(
            insert(health_scores),
            [{"host": host, "score": 10.0, "computed_at": at(n, 20_000)} for n in range(20_000)],
        )
        connection.execute(
            insert(silences),
            [
                {
                    "host": host,
                    "rule": f"rule-{n % 7}",
                    "created_at": at(n, SMALLEST_OLD_TABLE),
                    "until": at(n, SMALLEST_OLD_TABLE) + timedelta(hours=2),
                }
                for n in range(SMALLEST_OLD_TABLE)
            ],
        )


def _current_state(store: Store, config: Config) -> None:
    """What a reader shows, through the store's writers: the last week."""
    for days, status in ((3, RunStatus.SUCCEEDED), (1, RunStatus.FAILED)):
        begun = NOW - timedelta(days=days)
        run_id = run_store.start_run(store, "daily", Trigger.SCHEDULED, begun, begun)
        step = StepStatus.FAILED if status is RunStatus.FAILED else StepStatus.SUCCEEDED
        run_store.record_step(
            store,
            run_id,
            run_store.StepRecord(0, "steps", "cleanup", "cleanup", step, begun, begun),
        )
        run_store.finish_run(store, run_id, status, begun + timedelta(seconds=9), "boom")
    fired = NOW - timedelta(hours=2)
    run_store.start_run(store, "often", Trigger.SCHEDULED, fired, scheduled_for=fired)
    key = schedule_key(config, config.procedures["often"], store.host)
    run_store.known_since(store, "often", key, NOW)
    with store.write() as connection:
        connection.execute(
            insert(alerts),
            [
                {
                    "host": store.host,
                    "rule": rule,
                    "severity": "critical",
                    "state": state,
                    "pending_since": NOW - timedelta(hours=hours),
                    "fired_at": NOW - timedelta(hours=1) if state == "firing" else None,
                    "notifications": 0,
                    "false_positive": False,
                }
                for rule, state, hours in (("disk_full", "firing", 3), ("load", "pending", 1))
            ],
        )
    for channel, state in (("mail", "sent"), ("hook", "failed"), ("mail", "queued")):
        queued = alert_store.queue_notification(store, channel, "firing", "s", {}, NOW)
        if state != "queued":
            alert_store.claim_notification(store, queued)
            alert_store.finish_attempt(store, queued, state, NOW, "refused")
    for _ in range(DELIVERIES_LOOKED_AT):  # fill the window the status looks at
        alert_store.queue_notification(
            store, "mail", "firing", "s", {}, NOW - timedelta(hours=1), state="dropped"
        )
    alert_store.add_silence(store, "load", NOW, NOW + timedelta(hours=4), "maintenance")
    record_file_action(
        store,
        kind="cleanup",
        policy="tmp",
        at=NOW - timedelta(days=1),
        counts=FileActionCounts(deleted=3, bytes_freed=300),
    )
    path = "/backups/config-new.tar.gz"
    record_archive(
        store,
        backup_set="config",
        path=path,
        created_at=NOW - timedelta(days=1),
        size=2048,
        files=4,
        sha256="1" * 64,
    )
    record_restore_test(
        store,
        backup_set="config",
        archive=path,
        at=NOW - timedelta(hours=20),
        ok=True,
        files_checked=4,
        seconds=0.5,
        detail=None,
    )
    for minutes in (30, 10):
        at = NOW - timedelta(minutes=minutes)
        results = [
            CheckResult("disk", "disk_free", CheckState.OK, 40.0, "%", "fine", 0.1, at),
            CheckResult("load", "load", CheckState.WARNING, 5.0, None, "busy", 0.1, at),
        ]
        record_check_run(store, results, score=80.0, computed_at=at)
    start = int((NOW - timedelta(hours=3)).timestamp())
    write_samples(
        store,
        [
            Sample(name, float(ts), 1.0 + ts % 7)
            for ts in range(start, int(NOW.timestamp()), 60)
            for name in ("cpu.percent", "memory.percent", "load.5m")
        ],
    )


def _read(store: Store, config: Config) -> Reading:
    """Everything `status`, the dashboard and `/metrics` read, in a fresh engine whose
    connections count SQLite's virtual-machine steps."""
    reader = open_store(str(store.engine.url), host=store.host)
    counted = [0]

    def count_step() -> int:
        counted[0] += 1
        return 0

    event.listen(
        reader.engine,
        "connect",
        lambda connection, _: connection.set_progress_handler(count_step, 1),
    )
    statements: list[tuple[str, Any]] = []
    event.listen(
        reader.engine,
        "before_cursor_execute",
        lambda _c, _cursor, sql, parameters, *_: statements.append((sql, parameters)),
    )
    try:
        next_runs = next_runs_from_config(config, reader, NOW)
        status = build_status(reader, config, now=NOW, next_runs=next_runs)
        page = render_dashboard(reader, status)
        metrics = prometheus.render(status)
    finally:
        reader.dispose()
    return Reading(as_json(status), metrics, page, statements, counted[0])


def _plans(store: Store, statements: list[tuple[str, Any]]) -> list[list[str]]:
    with store.read() as connection:
        cursor = connection.connection.cursor()
        try:
            return [
                [str(row[-1]) for row in cursor.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]
                for sql, parameters in statements
            ]
        finally:
            cursor.close()


def _without_row_ids(value: Any) -> Any:
    """The status as JSON without row ids (the old rows took the first ids)."""
    if isinstance(value, dict):
        return {key: _without_row_ids(item) for key, item in value.items() if key != "id"}
    if isinstance(value, list):
        return [_without_row_ids(item) for item in value]
    return value


def _both(young: Store, old: Store, config: Config) -> None:
    _old_history(old)
    for store in (young, old):
        _current_state(store, config)


def test_a_store_with_a_long_history_answers_like_a_young_one(
    young: Store, old: Store, config: Config
) -> None:
    _both(young, old, config)

    fresh, aged = _read(young, config), _read(old, config)

    assert _without_row_ids(aged.status) == _without_row_ids(fresh.status)
    assert aged.metrics == fresh.metrics
    procedures = {p["procedure"]: p for p in fresh.status["procedures"]}
    assert procedures["daily"]["failing"] and procedures["daily"]["last_error"] == "boom"
    assert procedures["often"]["last_status"] == "running"
    assert fresh.status["alerts"]["last_7_days"] == {"firing": 1, "pending": 1}
    assert {(n["channel"], n["state"]) for n in fresh.status["notifications"]} == {
        ("hook", "failed"),
        ("mail", "dropped"),
        ("mail", "queued"),
        ("mail", "sent"),
    }


def test_every_reader_query_steps_through_an_index_whatever_the_history(
    young: Store, old: Store, config: Config
) -> None:
    _both(young, old, config)

    fresh, aged = _read(young, config), _read(old, config)

    assert [sql for sql, _ in aged.statements] == [sql for sql, _ in fresh.statements]
    plans = _plans(old, aged.statements)
    assert plans == _plans(young, fresh.statements)
    assert [line for plan in plans for line in plan if FULL_SCAN.match(line)] == []
    # A reader that visited the old rows, through an index or not, would take at least
    # one step for each row of the smallest old table.
    assert aged.steps - fresh.steps < SMALLEST_OLD_TABLE, (fresh.steps, aged.steps)


def test_after_analyze_the_readers_still_leave_the_old_rows_alone(
    young: Store, old: Store, config: Config
) -> None:
    # ANALYZE keeps averages: on a one-host store `host = ?` matches every row and a
    # state a fraction of them, which tempts the planner into walking a table in order.
    _both(young, old, config)
    for store in (young, old):
        maintenance.analyze(store)

    fresh, aged = _read(young, config), _read(old, config)

    assert _without_row_ids(aged.status) == _without_row_ids(fresh.status)
    assert aged.steps - fresh.steps < SMALLEST_OLD_TABLE, (fresh.steps, aged.steps)
