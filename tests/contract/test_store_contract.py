"""The store behaves the same on SQLite and PostgreSQL: runs, hosts, maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, text

from hostkeeper.adapters.store import Store, maintenance, open_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.migrate import current_revision
from hostkeeper.adapters.store.schema import SCHEMA_REVISION, alerts, silences
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _record_run(store: Store, procedure: str, status: RunStatus, at: datetime) -> int:
    run_id = run_store.start_run(store, procedure, Trigger.SCHEDULED, at, scheduled_for=at)
    run_store.record_step(
        store,
        run_id,
        run_store.StepRecord(
            0,
            "steps",
            "run",
            "run: true",
            StepStatus.SUCCEEDED,
            at,
            at + timedelta(seconds=2),
            summary="ok",
            output="hello",
        ),
    )
    run_store.finish_run(store, run_id, status, at + timedelta(seconds=3))
    return run_id


def test_migrations_reach_the_current_revision(store: Store) -> None:
    assert current_revision(store) == SCHEMA_REVISION


def test_runs_round_trip_with_steps_and_aware_times(store: Store) -> None:
    run_id = _record_run(store, "daily", RunStatus.SUCCEEDED, NOW)
    [record] = run_store.list_runs(store, "daily")
    assert record.id == run_id
    assert record.status == "succeeded"
    assert record.started_at == NOW
    assert record.duration_seconds == 3.0
    assert [step.output for step in record.steps] == ["hello"]
    assert record.steps[0].status is StepStatus.SUCCEEDED


def test_latest_runs_and_last_scheduled_time(store: Store) -> None:
    _record_run(store, "daily", RunStatus.FAILED, NOW - timedelta(days=1))
    _record_run(store, "daily", RunStatus.SUCCEEDED, NOW)
    _record_run(store, "weekly", RunStatus.SUCCEEDED, NOW - timedelta(days=3))
    latest = run_store.latest_runs(store)
    assert latest["daily"].status == "succeeded"
    assert latest["weekly"].started_at == NOW - timedelta(days=3)
    assert run_store.last_scheduled_time(store, "daily") == NOW


def test_hosts_sharing_one_database_keep_their_runs_apart(store: Store, store_url: str) -> None:
    other = open_store(store_url, host="host-b")
    try:
        _record_run(store, "daily", RunStatus.SUCCEEDED, NOW)
        _record_run(other, "daily", RunStatus.FAILED, NOW)
        assert [r.status for r in run_store.list_runs(store)] == ["succeeded"]
        assert [r.status for r in run_store.list_runs(other)] == ["failed"]
        assert [r.host for r in run_store.list_runs(store, host="host-b")] == ["host-b"]
        assert run_store.latest_runs(other)["daily"].status == "failed"
    finally:
        other.dispose()


def test_unfinished_runs_are_closed_as_aborted(store: Store) -> None:
    run_id = run_store.start_run(store, "daily", Trigger.MANUAL, NOW)
    assert [r.id for r in run_store.unfinished_runs(store)] == [run_id]
    run_store.mark_abandoned(store, run_id, NOW, "stopped")
    assert run_store.unfinished_runs(store) == []
    assert run_store.list_runs(store)[0].status == "aborted"


def test_known_since_restarts_when_the_schedule_changes(store: Store) -> None:
    first = run_store.known_since(store, "daily", "cron A", NOW)
    again = run_store.known_since(store, "daily", "cron A", NOW + timedelta(hours=1))
    changed = run_store.known_since(store, "daily", "cron B", NOW + timedelta(hours=2))
    assert first == again == NOW
    assert changed == NOW + timedelta(hours=2)


def test_firing_critical_alerts_are_per_host(store: Store) -> None:
    with store.write() as connection:
        for host, severity in (
            ("host-a", "critical"),
            ("host-a", "warning"),
            ("host-b", "critical"),
        ):
            connection.execute(
                insert(alerts).values(
                    host=host,
                    rule=f"{host}-{severity}",
                    severity=severity,
                    state="firing",
                    pending_since=NOW,
                    notifications=0,
                    false_positive=False,
                )
            )
    assert run_store.firing_critical_alerts(store) == ["host-a-critical"]


def test_firing_critical_alerts_leave_out_rules_silenced_now(store: Store) -> None:
    hour = timedelta(hours=1)
    # rule -> silences (host, until, lifted_at) on it
    cases: dict[str, list[tuple[str, datetime, datetime | None]]] = {
        "silenced": [("host-a", NOW + hour, None)],
        "expired": [("host-a", NOW - hour, None)],
        "lifted": [("host-a", NOW + hour, NOW - hour)],
        "other-host-silence": [("host-b", NOW + hour, None)],
        "plain": [],
    }
    with store.write() as connection:
        for rule, rule_silences in cases.items():
            connection.execute(
                insert(alerts).values(
                    host="host-a",
                    rule=rule,
                    severity="critical",
                    state="firing",
                    pending_since=NOW,
                    notifications=0,
                    false_positive=False,
                )
            )
            for host, until, lifted_at in rule_silences:
                connection.execute(
                    insert(silences).values(
                        host=host,
                        rule=rule,
                        created_at=NOW - 2 * hour,
                        until=until,
                        lifted_at=lifted_at,
                    )
                )
    firing = run_store.firing_critical_alerts(store, NOW)
    assert sorted(firing) == ["expired", "lifted", "other-host-silence", "plain"]
    # Once the silence runs out, the rule counts again.
    assert "silenced" in run_store.firing_critical_alerts(store, NOW + 2 * hour)


def test_every_maintenance_operation_succeeds(store: Store, tmp_path: Path) -> None:
    _record_run(store, "daily", RunStatus.SUCCEEDED, NOW)
    for operation in (
        maintenance.optimize,
        maintenance.analyze,
        maintenance.reindex,
        maintenance.vacuum,
    ):
        result = operation(store)
        assert result.ok, result.summary
    assert maintenance.check(store).ok
    assert maintenance.check(store, full=True).ok
    stats = maintenance.stats(store)
    assert stats.details["tables"]["runs"]["rows"] == 1
    assert stats.details["tables"]["step_results"]["rows"] == 1
    assert stats.details["schema_revision"] == SCHEMA_REVISION
    assert stats.details["database_bytes"] > 0
    assert maintenance.run_migrations(store, tmp_path).summary.startswith("schema already")


def test_vacuum_reports_reclaimed_bytes(store: Store) -> None:
    with store.write() as connection:
        connection.execute(text("CREATE TABLE filler (payload TEXT)"))
        for _ in range(200):
            connection.execute(text("INSERT INTO filler VALUES (:p)"), {"p": "x" * 8000})
    with store.write() as connection:
        connection.execute(text("DROP TABLE filler"))
    result = maintenance.vacuum(store)
    assert result.ok
    if store.is_sqlite:
        assert result.details["bytes_reclaimed"] > 1_000_000
        assert result.details["bytes_after"] < result.details["bytes_before"]
    else:
        # Plain VACUUM keeps freed pages for reuse rather than returning them to the OS.
        assert result.details["bytes_reclaimed"] >= 0


def test_slow_queries_catch_a_deliberately_slow_statement(store_url: str, tmp_path: Path) -> None:
    slow = open_store(store_url, host="host-a", slow_query=0.05)
    try:
        from hostkeeper.adapters.store.migrate import migrate

        migrate(slow, tmp_path / "m.lock")
        statement = (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
            "SELECT count(*) FROM c"
            if slow.is_sqlite
            else "SELECT pg_sleep(0.2)"
        )
        with slow.read() as connection:
            for _ in range(2):
                connection.execute(text(statement))
            connection.execute(text("SELECT 1"))
        report = maintenance.slow_query_report(slow)
        shapes = {entry["shape"]: entry for entry in report.details["statements"]}
        matching = [
            entry for shape, entry in shapes.items() if "pg_sleep" in shape or "RECURSIVE" in shape
        ]
        assert len(matching) == 1
        assert matching[0]["count"] == 2
        assert matching[0]["max_ms"] >= 50
        assert not any(shape == "SELECT ?" for shape in shapes)
    finally:
        slow.dispose()


def test_index_usage_shows_every_hot_query_uses_an_index(store: Store) -> None:
    result = maintenance.index_usage(store)
    assert result.ok, result.summary
    assert all(query["plan"] for query in result.details["queries"])


def test_database_backup_is_an_integrity_checked_copy(store: Store, tmp_path: Path) -> None:
    _record_run(store, "daily", RunStatus.SUCCEEDED, NOW)
    result = maintenance.backup(store, tmp_path / "backups")
    if not store.is_sqlite:
        assert not result.ok and "pg_dump" in result.summary
        return
    assert result.ok
    copy = Path(result.details["path"])
    import sqlite3

    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # A self-contained file: rollback journal, nothing left beside it.
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name]


def test_slow_queries_are_flushed_as_a_writer_and_kept_when_a_flush_fails(
    store_url: str, tmp_path: Path
) -> None:
    """The flush takes the write lock up front (a read turning into a write fails at once
    on SQLite when another writer committed meanwhile), and what it could not write is
    written by the next flush."""
    slow = open_store(store_url, host="host-a", slow_query=0.0)
    try:
        from hostkeeper.adapters.store.migrate import migrate

        migrate(slow, tmp_path / "m.lock")
        begins: list[str] = []
        event.listen(
            slow.engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: (
                begins.append(statement) if statement.startswith("BEGIN") else None
            ),
        )
        with slow.read() as connection:
            connection.execute(text("SELECT 42"))
        slow.flush_slow_queries()
        if slow.is_sqlite:
            assert "BEGIN IMMEDIATE" in begins
        with slow.write() as connection:  # the next flush cannot write
            connection.execute(text("ALTER TABLE slow_queries RENAME TO slow_queries_away"))
        with slow.read() as connection:
            connection.execute(text("SELECT 43"))
        slow.flush_slow_queries()  # fails, logged, kept
        with slow.write() as connection:
            connection.execute(text("ALTER TABLE slow_queries_away RENAME TO slow_queries"))
        slow.flush_slow_queries()
        shapes = {e["shape"] for e in maintenance.slow_query_report(slow).details["statements"]}
        assert "SELECT ?" in shapes
        assert sum(1 for shape in shapes if shape == "SELECT ?") == 1
        counts = {
            e["shape"]: e["count"]
            for e in maintenance.slow_query_report(slow).details["statements"]
        }
        assert counts["SELECT ?"] >= 2  # SELECT 42 and SELECT 43, neither lost
    finally:
        slow.dispose()
