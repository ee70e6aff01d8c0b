"""`baseline: update|validate|rollback` through the real engine and a real SQLite store."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import baselines as baseline_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.metrics import write_samples
from hostkeeper.adapters.store.schema import metric_blocks, samples, series
from hostkeeper.config import Config
from hostkeeper.core.baselines import BaselineStatus
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import RunStatus, StepStatus
from hostkeeper.procedures.engine import Engine
from hostkeeper.steps import baseline as baseline_task

METRICS = ["cpu.percent", "load.5m"]


def seed(store: Store, metric: str, values: Sequence[float], step: float = 10.0) -> None:
    """Samples ending a few seconds ago, `step` seconds apart."""
    end = time.time() - 5
    start = end - step * (len(values) - 1)
    write_samples(store, [Sample(metric, start + i * step, v) for i, v in enumerate(values)])


def around(mean: float, count: int) -> list[float]:
    return [round(mean + ((i * 37) % 21 - 10) / 10, 1) for i in range(count)]


@pytest.fixture
def settings() -> dict[str, Any]:
    return {"min_samples": 100, "metrics": METRICS, "drift_threshold": "25%", "keep_versions": 3}


@pytest.fixture
def run_steps(
    make_config: Callable[..., Config], store: Store, settings: dict[str, Any]
) -> Callable[..., tuple[Any, list[run_store.StepRecord]]]:
    def run(*steps: Any, dry_run: bool = False) -> tuple[Any, list[run_store.StepRecord]]:
        config = make_config(
            {"p": {"schedule": {"hour": 2}, "steps": list(steps)}}, baselines=settings
        )
        report = Engine(lambda: config, store).run("p", dry_run=dry_run)
        (record,) = run_store.list_runs(store, "p", limit=1)
        return report, record.steps

    return run


def _statuses(store: Store) -> dict[int, BaselineStatus]:
    return {v.version: v.status for v in baseline_store.list_versions(store)}


def test_first_update_and_validate_make_an_active_baseline(store: Store, run_steps: Any) -> None:
    cpu = around(30.0, 300)
    seed(store, "cpu.percent", cpu)
    seed(store, "load.5m", around(2.0, 300))
    report, steps = run_steps({"baseline": "update"}, {"baseline": "validate"})
    assert report.status is RunStatus.SUCCEEDED
    assert [s.status for s in steps] == [StepStatus.SUCCEEDED, StepStatus.SUCCEEDED]
    assert "v1 written as candidate" in (steps[0].summary or "")
    assert "v1 validated" in (steps[1].summary or "")
    assert _statuses(store) == {1: BaselineStatus.ACTIVE}
    active = baseline_store.active_baseline(store)
    assert set(active) == set(METRICS)
    assert active["cpu.percent"].n == 300
    assert active["cpu.percent"].mean == pytest.approx(statistics.fmean(cpu))
    cuts = statistics.quantiles(sorted(cpu), n=100, method="inclusive")
    assert active["cpu.percent"].p95 == pytest.approx(cuts[94])
    assert steps[0].details is not None
    assert steps[0].details["stats"]["load.5m"]["n"] == 300


def test_too_few_samples_warn_and_write_no_version(store: Store, run_steps: Any) -> None:
    seed(store, "cpu.percent", around(30.0, 99))
    report, [step] = run_steps({"baseline": "update"})
    assert step.status is StepStatus.WARNING
    assert report.status is RunStatus.WARNING
    assert "not updated" in (step.summary or "")
    assert "cpu.percent (99)" in (step.summary or "")
    assert "load.5m (0)" in (step.summary or "")
    assert baseline_store.list_versions(store) == []


def test_a_short_metric_keeps_its_active_statistics(store: Store, run_steps: Any) -> None:
    seed(store, "cpu.percent", around(30.0, 150))
    seed(store, "load.5m", around(2.0, 150))
    run_steps({"baseline": "update"}, {"baseline": "validate"})
    first = baseline_store.active_baseline(store)
    with store.write() as connection:  # load.5m's history is gone (e.g. retention)
        load_id = select(series.c.id).where(series.c.name == "load.5m").scalar_subquery()
        # plain rows and sealed blocks alike: the seeded span may cross a block window
        connection.execute(delete(samples).where(samples.c.series_id == load_id))
        connection.execute(delete(metric_blocks).where(metric_blocks.c.series_id == load_id))
    seed(store, "cpu.percent", around(31.0, 150))
    _, [update, validate] = run_steps({"baseline": "update"}, {"baseline": "validate"})
    assert update.status is StepStatus.WARNING
    assert "load.5m (0)" in (update.summary or "")
    assert validate.status is StepStatus.SUCCEEDED
    second = baseline_store.active_baseline(store)
    assert second["load.5m"] == first["load.5m"]
    assert second["cpu.percent"].n == 300
    version = baseline_store.get_version(store, 2)
    assert version is not None
    assert version.note == "carried over from v1: load.5m"


def test_drift_rejects_the_candidate_and_keeps_the_active_version(
    store: Store, run_steps: Any
) -> None:
    seed(store, "cpu.percent", around(20.0, 200))
    seed(store, "load.5m", around(2.0, 200))
    run_steps({"baseline": "update"}, {"baseline": "validate"})
    # A busy week: cpu.percent's mean more than doubles.
    seed(store, "cpu.percent", around(80.0, 2000))
    report, [update, validate] = run_steps({"baseline": "update"}, {"baseline": "validate"})
    assert update.status is StepStatus.SUCCEEDED
    assert validate.status is StepStatus.FAILED
    assert report.status is RunStatus.FAILED
    assert "baseline v2 rejected: cpu.percent: mean moved" in (validate.error or "")
    assert "v1 stays active" in (validate.error or "")
    assert _statuses(store) == {1: BaselineStatus.ACTIVE, 2: BaselineStatus.REJECTED}
    assert baseline_store.active_baseline(store)["cpu.percent"].mean == pytest.approx(20.0, abs=1)
    drift = validate.details["metrics"][0]
    assert drift["metric"] == "cpu.percent"
    assert drift["drift_percent"] > 25


def test_validate_fails_below_min_samples(
    store: Store, make_config: Callable[..., Config], settings: dict[str, Any]
) -> None:
    seed(store, "cpu.percent", around(30.0, 150))
    seed(store, "load.5m", around(2.0, 150))
    config = make_config(baselines=settings)
    assert baseline_task.update(config, store, datetime.now(UTC)).status is StepStatus.SUCCEEDED
    stricter = make_config(baselines=settings | {"min_samples": 1000})
    outcome = baseline_task.validate(stricter, store)
    assert outcome.status is StepStatus.FAILED
    assert "150 samples, fewer than min_samples 1000" in (outcome.error or "")
    assert "no version is active" in (outcome.error or "")
    assert _statuses(store) == {1: BaselineStatus.REJECTED}


def test_validate_without_a_candidate_succeeds_and_says_so(
    store: Store, make_config: Callable[..., Config]
) -> None:
    outcome = baseline_task.validate(make_config(), store)
    assert outcome.status is StepStatus.SUCCEEDED
    assert "no candidate" in (outcome.summary or "")


def test_rollback_reactivates_the_previous_version(store: Store, run_steps: Any) -> None:
    seed(store, "cpu.percent", around(20.0, 200))
    seed(store, "load.5m", around(2.0, 200))
    run_steps({"baseline": "update"}, {"baseline": "validate"})
    seed(store, "cpu.percent", around(21.0, 200))
    run_steps({"baseline": "update"}, {"baseline": "validate"})
    assert _statuses(store) == {1: BaselineStatus.SUPERSEDED, 2: BaselineStatus.ACTIVE}
    _, [step] = run_steps({"baseline": "rollback"})
    assert step.status is StepStatus.SUCCEEDED
    assert step.summary == "baseline v1 is active again (v2 rolled back)"
    assert _statuses(store) == {1: BaselineStatus.ACTIVE, 2: BaselineStatus.ROLLED_BACK}
    _, [again] = run_steps({"baseline": "rollback"})
    assert again.status is StepStatus.FAILED
    assert "no earlier version" in (again.error or "")


def test_versions_beyond_keep_versions_are_pruned_oldest_first(
    store: Store, run_steps: Any
) -> None:
    seed(store, "cpu.percent", around(20.0, 200))
    seed(store, "load.5m", around(2.0, 200))
    run_steps({"baseline": "update"}, {"baseline": "validate"})  # v1 active
    for _ in range(4):
        run_steps({"baseline": "update"})  # candidates v2..v5, never validated
    assert sorted(_statuses(store)) == [1, 4, 5]  # keep_versions 3; v1 is active
    assert _statuses(store)[1] is BaselineStatus.ACTIVE


def test_dry_run_changes_nothing(store: Store, run_steps: Any) -> None:
    seed(store, "cpu.percent", around(20.0, 200))
    seed(store, "load.5m", around(2.0, 200))
    _, [update] = run_steps({"baseline": "update"}, dry_run=True)
    assert update.status is StepStatus.SKIPPED
    assert baseline_store.list_versions(store) == []


def test_backup_previous_exports_the_active_version(
    store: Store, make_config: Callable[..., Config], settings: dict[str, Any], tmp_path: Path
) -> None:
    seed(store, "cpu.percent", around(20.0, 200))
    seed(store, "load.5m", around(2.0, 200))
    config = make_config(baselines=settings)
    now = datetime.now(UTC)
    first = baseline_task.update(config, store, now, backup_previous=True)
    assert first.details is not None and "backup" not in first.details  # nothing before it
    baseline_task.validate(config, store)
    second = baseline_task.update(config, store, now, backup_previous=True)
    assert second.status is StepStatus.SUCCEEDED
    path = Path(second.details["backup"])  # type: ignore[index]
    assert path.parent == tmp_path / "state" / "baselines"
    assert path.name.startswith("baseline-v1-")
    document = json.loads(path.read_text())
    assert document["status"] == "active"
    assert document["stats"] == {
        metric: stats.as_dict() for metric, stats in baseline_store.version_stats(store, 1).items()
    }
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    assert f"exported to {path}" in (second.summary or "")
