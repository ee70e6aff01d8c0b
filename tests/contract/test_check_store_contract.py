"""Check results, health scores and the histories behind threshold suggestions, on every
store backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import checks as check_store
from hostkeeper.adapters.store.database import inserted_id
from hostkeeper.adapters.store.schema import (
    baseline_stats,
    baseline_versions,
    check_results,
    samples,
    series,
)
from hostkeeper.core.health import CheckResult, CheckState

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _result(name: str, state: CheckState, at: datetime, value: float | None = 1.0) -> CheckResult:
    return CheckResult(name, "disk_free", state, value, "%", f"{name} is {state}", 0.25, at)


def _as_host(store: Store, host: str) -> Store:
    return Store(store.engine, host=host)


def test_latest_results_gives_the_newest_result_of_each_check(store: Store) -> None:
    older = NOW - timedelta(hours=1)
    check_store.record_check_run(
        store, [_result("disk", CheckState.OK, older), _result("api", CheckState.OK, older)]
    )
    check_store.record_check_run(store, [_result("disk", CheckState.CRITICAL, NOW, 4.5)])
    latest = check_store.latest_results(store)
    assert set(latest) == {"disk", "api"}
    assert latest["disk"] == _result("disk", CheckState.CRITICAL, NOW, 4.5)
    assert latest["api"].state is CheckState.OK
    assert latest["api"].checked_at == older


def test_latest_results_can_be_limited_to_named_checks(store: Store) -> None:
    check_store.record_check_run(
        store, [_result("disk", CheckState.OK, NOW), _result("removed", CheckState.OK, NOW)]
    )
    assert set(check_store.latest_results(store, names=["disk", "absent"])) == {"disk"}
    assert check_store.latest_results(store, names=[]) == {}


def test_results_and_scores_are_per_host(store: Store) -> None:
    other = _as_host(store, "host-b")
    check_store.record_check_run(other, [_result("disk", CheckState.CRITICAL, NOW)], score=0.0)
    assert check_store.latest_results(store) == {}
    assert check_store.latest_score(store) is None
    assert check_store.latest_results(store, host="host-b")["disk"].state is CheckState.CRITICAL
    score = check_store.latest_score(store, host="host-b")
    assert score == check_store.ScoreRecord(0.0, NOW)


def test_latest_score_is_the_newest_and_may_be_none_when_nothing_was_known(
    store: Store,
) -> None:
    assert check_store.latest_score(store) is None
    check_store.record_check_run(store, [_result("a", CheckState.OK, NOW)], score=100.0)
    later = NOW + timedelta(minutes=5)
    check_store.record_check_run(store, [_result("a", CheckState.UNKNOWN, later)], score=None)
    assert check_store.latest_score(store) == check_store.ScoreRecord(None, later)


def test_a_run_without_score_stores_results_only(store: Store) -> None:
    check_store.record_check_run(
        store, [_result("a", CheckState.WARNING, NOW)], score=50.0, with_score=False
    )
    assert check_store.latest_score(store) is None
    assert check_store.latest_results(store)["a"].state is CheckState.WARNING


def test_results_are_written_in_one_transaction_with_all_fields(store: Store) -> None:
    results = [_result(f"c{i}", CheckState.OK, NOW, float(i)) for i in range(5)]
    check_store.record_check_run(store, results, score=100.0)
    with store.read() as connection:
        rows = connection.execute(select(check_results).order_by(check_results.c.id)).all()
    assert [(r.check_name, r.value, r.unit, r.duration_seconds) for r in rows] == [
        (f"c{i}", float(i), "%", 0.25) for i in range(5)
    ]
    assert {r.host for r in rows} == {store.host}


def test_history_and_score_history_are_oldest_first_within_the_range(store: Store) -> None:
    for hours in (5, 3, 1):
        at = NOW - timedelta(hours=hours)
        check_store.record_check_run(
            store, [_result("disk", CheckState.OK, at, float(hours))], score=float(hours)
        )
    since = NOW - timedelta(hours=4)
    history = check_store.check_history(store, "disk", since, NOW)
    assert [r.value for r in history] == [3.0, 1.0]
    scores = check_store.score_history(store, since)
    assert [s.score for s in scores] == [3.0, 1.0]
    assert check_store.check_history(store, "disk", since, NOW - timedelta(hours=2)) == history[:1]


def test_prune_removes_results_and_scores_older_than_the_cutoff(store: Store) -> None:
    old = NOW - timedelta(days=800)
    check_store.record_check_run(store, [_result("disk", CheckState.OK, old)], score=100.0)
    check_store.record_check_run(store, [_result("disk", CheckState.OK, NOW)], score=100.0)
    other = _as_host(store, "host-b")
    check_store.record_check_run(other, [_result("disk", CheckState.OK, old)], score=100.0)
    assert check_store.prune_check_history(store, NOW - timedelta(days=730)) == 2
    assert [r.checked_at for r in check_store.check_history(store, "disk", old)] == [NOW]
    assert len(check_store.check_history(other, "disk", old)) == 1


def _series_with(store: Store, host: str, name: str, points: list[tuple[float, float]]) -> None:
    with store.write() as connection:
        series_id = inserted_id(connection.execute(insert(series).values(host=host, name=name)))
        connection.execute(
            insert(samples), [{"series_id": series_id, "ts": t, "value": v} for t, v in points]
        )


def test_metric_history_reads_this_hosts_samples_in_time_order(store: Store) -> None:
    _series_with(store, store.host, "load.5m", [(30.0, 3.0), (10.0, 1.0), (20.0, 2.0)])
    _series_with(store, "host-b", "load.5m", [(15.0, 99.0)])
    _series_with(store, store.host, "cpu.percent", [(15.0, 50.0)])
    assert check_store.metric_history(store, "load.5m", 0.0) == [
        (10.0, 1.0),
        (20.0, 2.0),
        (30.0, 3.0),
    ]
    assert check_store.metric_history(store, "load.5m", 15.0, 25.0) == [(20.0, 2.0)]
    assert check_store.metric_history(store, "absent", 0.0) == []


def test_active_baseline_is_the_newest_active_versions_statistics(store: Store) -> None:
    assert check_store.active_baseline(store, "cpu.percent") is None
    with store.write() as connection:
        for version, status, mean in (
            (1, "superseded", 10.0),
            (2, "active", 20.0),
            (3, "candidate", 30.0),
        ):
            version_id = inserted_id(
                connection.execute(
                    insert(baseline_versions).values(
                        host=store.host,
                        version=version,
                        created_at=NOW,
                        window_start=NOW - timedelta(days=7),
                        window_end=NOW,
                        status=status,
                    )
                )
            )
            connection.execute(
                insert(baseline_stats).values(
                    version_id=version_id, metric="cpu.percent", n=100, mean=mean, stddev=2.0
                )
            )
    assert check_store.active_baseline(store, "cpu.percent") == (20.0, 2.0)
    assert check_store.active_baseline(store, "memory.percent") is None
