"""database.retention deletes old history in small transactions on SQLite and PostgreSQL,
and keeps whatever is still current: open alerts, queued notifications, archives on
disk, the newest run of a procedure and the newest restore test of a backup set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store.database import inserted_id
from hostkeeper.adapters.store.history_retention import BOUNDED_BY, prune_history
from hostkeeper.adapters.store.schema import (
    alert_events,
    alerts,
    backup_archives,
    dependency_audits,
    dependency_findings,
    file_actions,
    notifications,
    restore_tests,
    runs,
    silences,
    slow_queries,
    step_results,
)

NOW = datetime(2027, 6, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=500)
RECENT = NOW - timedelta(days=10)
CUTOFF = NOW - timedelta(days=400)


def _run(store: Store, procedure: str, at: datetime, host: str | None = None) -> int:
    with store.write() as connection:
        run_id = connection.execute(
            insert(runs).values(
                host=host or store.host,
                procedure=procedure,
                trigger="scheduled",
                status="ok",
                started_at=at,
                finished_at=at + timedelta(minutes=1),
                dry_run=False,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        connection.execute(
            insert(step_results).values(
                run_id=run_id,
                position=0,
                phase="steps",
                name="rotate_logs",
                label="rotate_logs",
                status="ok",
                started_at=at,
            )
        )
    return int(run_id)


def _alert(store: Store, state: str, at: datetime) -> int:
    with store.write() as connection:
        alert_id = connection.execute(
            insert(alerts).values(
                host=store.host,
                rule="disk",
                severity="warning",
                state=state,
                pending_since=at,
                resolved_at=at if state == "resolved" else None,
                notifications=0,
                false_positive=False,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        connection.execute(insert(alert_events).values(alert_id=alert_id, kind=state, at=at))
        for delivery in ("sent", "queued"):
            connection.execute(
                insert(notifications).values(
                    host=store.host,
                    channel="log",
                    kind="alert",
                    alert_id=alert_id,
                    subject="disk",
                    state=delivery,
                    attempts=1,
                    created_at=at,
                )
            )
    return int(alert_id)


def _rows(store: Store, table: object) -> int:
    with store.read() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def _fill_other_tables(store: Store, at: datetime) -> None:
    with store.write() as connection:
        connection.execute(
            insert(file_actions).values(host=store.host, kind="cleanup", policy="tmp", at=at)
        )
        for state in ("present", "pruned"):
            connection.execute(
                insert(backup_archives).values(
                    host=store.host,
                    backup_set="etc",
                    path=f"/b/{state}-{at.timestamp()}.tar.gz",
                    created_at=at,
                    size_bytes=1,
                    files=1,
                    sha256="0" * 64,
                    state=state,
                )
            )
        connection.execute(
            insert(restore_tests).values(
                host=store.host,
                backup_set="etc",
                archive="a",
                tested_at=at,
                ok=True,
                files_checked=1,
            )
        )
        connection.execute(
            insert(silences).values(
                host=store.host, rule="disk", created_at=at, until=at + timedelta(hours=1)
            )
        )
        connection.execute(
            insert(slow_queries).values(
                host=store.host,
                shape_hash=f"{at.timestamp()}",
                shape="SELECT 1",
                count=1,
                total_seconds=1.0,
                max_seconds=1.0,
                first_seen=at,
                last_seen=at,
            )
        )


def test_old_history_goes_and_what_is_current_stays(store: Store, store_url: str) -> None:
    other = open_store(store_url, host="host-b")
    try:
        only_old_run = _run(store, "yearly", OLD)
        for day in range(5):
            _run(store, "daily", OLD + timedelta(days=day))
        _run(store, "daily", RECENT)
        other_old = _run(other, "daily", OLD)
        _alert(store, "resolved", OLD)
        firing = _alert(store, "firing", OLD)
        recent = _alert(store, "resolved", RECENT)
        _fill_other_tables(store, OLD)
        _fill_other_tables(store, RECENT)
        cutoffs = {key: CUTOFF for key in BOUNDED_BY}
        cutoffs["slow_queries"] = NOW - timedelta(days=90)
        deleted = prune_history(store, cutoffs, batch=2).deleted  # several batches a table
        assert deleted == {
            "runs": 5,
            "maintenance_windows": 0,
            "alerts": 1,
            "notifications": 2,  # the sent ones of the old alerts; queued ones stay
            "file_actions": 1,
            "backup_archives": 1,
            "restore_tests": 1,
            "silences": 1,
            "dependency_audits": 0,
            "dependency_findings": 0,
            "slow_queries": 1,
        }
        with store.read() as connection:
            kept_runs = set(connection.execute(select(runs.c.id)).scalars())
            kept_alerts = set(connection.execute(select(alerts.c.id)).scalars())
            states = sorted(connection.execute(select(backup_archives.c.state)).scalars())
        assert {only_old_run, other_old} <= kept_runs and len(kept_runs) == 3
        assert kept_alerts == {firing, recent}
        assert _rows(store, step_results) == 3  # cascaded with their runs
        assert _rows(store, alert_events) == 2
        assert _rows(store, notifications) == 4
        assert states == ["present", "present", "pruned"]
        assert _rows(store, restore_tests) == 1
        assert prune_history(store, cutoffs).deleted == dict.fromkeys(deleted, 0)
    finally:
        other.dispose()


def test_a_key_left_out_is_not_pruned(store: Store) -> None:
    for day in range(3):
        _run(store, "daily", OLD + timedelta(days=day))
    assert prune_history(store, {"alerts": CUTOFF}).deleted == {"alerts": 0}
    assert _rows(store, runs) == 3


def _audit(store: Store, at: datetime) -> int:
    with store.write() as connection:
        result = connection.execute(
            insert(dependency_audits).values(
                host=store.host, audited_at=at, counts="{}", warnings="[]", report=None
            )
        )
        return inserted_id(result)


def _finding(store: Store, package: str, resolved_at: datetime | None) -> int:
    with store.write() as connection:
        result = connection.execute(
            insert(dependency_findings).values(
                host=store.host,
                kind="vulnerability",
                environment="/opt/hostkeeper",
                package=package,
                advisory="PYSEC-0000-1",
                aliases="[]",
                severity="high",
                installed="1.0",
                summary="test",
                first_seen=OLD,
                last_seen=resolved_at or NOW,
                resolved_at=resolved_at,
            )
        )
        return inserted_id(result)


def test_old_audits_and_resolved_findings_go_open_findings_and_the_newest_audit_stay(
    store: Store,
) -> None:
    _audit(store, OLD)
    newest_but_old = _audit(store, OLD + timedelta(days=1))
    _finding(store, "resolved-long-ago", OLD)
    recent = _finding(store, "resolved-recently", RECENT)
    still_open = _finding(store, "still-vulnerable", None)

    deleted = prune_history(store, {"dependency_audits": CUTOFF}).deleted

    assert deleted == {"dependency_audits": 1, "dependency_findings": 1}
    with store.read() as connection:
        audits = set(connection.execute(select(dependency_audits.c.id)).scalars())
        findings = set(connection.execute(select(dependency_findings.c.id)).scalars())
    assert audits == {newest_but_old}  # the newest audit stays, however old
    assert findings == {recent, still_open}


def test_a_stopping_daemon_ends_the_pass_between_transactions(store: Store) -> None:
    for day in range(6):
        _run(store, "daily", OLD + timedelta(days=day))
    _run(store, "daily", RECENT)
    asked: list[int] = []

    def stopping() -> bool:
        asked.append(1)
        return len(asked) > 1  # stop after the first transaction of runs

    pruned = prune_history(store, {"runs": CUTOFF, "alerts": CUTOFF}, batch=2, stopping=stopping)
    deleted = pruned.deleted
    assert deleted == {"runs": 2}  # one batch, then the pass ended; alerts not started
    assert prune_history(store, {"runs": CUTOFF}).deleted["runs"] == 4  # the next pass goes on
