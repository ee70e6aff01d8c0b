"""Observing rules: `when:` on the score or a metric, `check:` states, baselines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hostkeeper.alerting.rules import metrics_read, observe
from hostkeeper.alerting.sources import BaselineView, CheckView, MetricValue, Snapshot
from hostkeeper.config.alerts import Rule

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(minutes=5)


def rule(**fields: Any) -> Rule:
    return Rule.model_validate({"name": "r", **fields})


@pytest.mark.parametrize(
    ("when", "score", "holds"),
    [("health_score < 50", 42.0, True), ("health_score < 50", 50.0, False)],
)
def test_when_on_the_health_score(when: str, score: float, holds: bool) -> None:
    observation = observe(rule(when=when), Snapshot(score=score, score_at=NOW), NOW, MAX_AGE)
    assert observation.holds is holds
    assert observation.value == score
    assert observation.summary == f"health_score is {score:g} ({when})"


def test_when_without_a_score_is_no_data() -> None:
    observation = observe(rule(when="health_score < 50"), Snapshot(), NOW, MAX_AGE)
    assert observation.holds is None
    assert "no health score" in (observation.summary or "")


def test_when_on_a_metric_uses_its_newest_sample_while_it_is_fresh() -> None:
    snapshot = Snapshot(metrics={"load.5m": MetricValue(4.5, NOW - timedelta(seconds=20))})
    observation = observe(rule(when="load.5m >= 4"), snapshot, NOW, MAX_AGE)
    assert observation.holds is True and observation.value == 4.5
    stale = Snapshot(metrics={"load.5m": MetricValue(4.5, NOW - timedelta(minutes=6))})
    assert observe(rule(when="load.5m >= 4"), stale, NOW, MAX_AGE).holds is None


def test_check_rule_holds_while_the_check_is_in_one_of_its_states() -> None:
    r = rule(check="root_disk", states=["critical"])
    critical = Snapshot(checks={"root_disk": CheckView("critical", 3.0, "3% free", NOW)})
    warning = Snapshot(checks={"root_disk": CheckView("warning", 15.0, "15% free", NOW)})
    first = observe(r, critical, NOW, MAX_AGE)
    assert first.holds is True and first.summary == "check root_disk is critical: 3% free"
    assert observe(r, warning, NOW, MAX_AGE).holds is False
    assert observe(r, Snapshot(), NOW, MAX_AGE).holds is None


def test_check_rule_default_states_are_warning_and_critical() -> None:
    r = rule(check="root_disk")
    for state, holds in (("ok", False), ("warning", True), ("critical", True), ("unknown", False)):
        snapshot = Snapshot(checks={"root_disk": CheckView(state, None, None, NOW)})
        assert observe(r, snapshot, NOW, MAX_AGE).holds is holds


def test_baseline_rule_compares_the_z_score() -> None:
    r = rule(metric="cpu.percent", above_baseline=3.0)
    baseline = {"cpu.percent": BaselineView(mean=20.0, stddev=5.0, n=5000)}
    high = Snapshot(metrics={"cpu.percent": MetricValue(36.0, NOW)}, baseline=baseline)
    edge = Snapshot(metrics={"cpu.percent": MetricValue(35.0, NOW)}, baseline=baseline)
    observation = observe(r, high, NOW, MAX_AGE)
    assert observation.holds is True
    assert "3.2 standard deviations" in (observation.summary or "")
    assert observe(r, edge, NOW, MAX_AGE).holds is False  # exactly 3.0 is not above


@pytest.mark.parametrize(
    ("baseline", "why"),
    [
        ({}, "no active baseline"),
        ({"cpu.percent": BaselineView(20.0, 0.0, 10)}, "no spread"),
    ],
)
def test_baseline_rule_without_a_usable_baseline_is_no_data(
    baseline: dict[str, BaselineView], why: str
) -> None:
    r = rule(metric="cpu.percent", above_baseline=3.0)
    snapshot = Snapshot(metrics={"cpu.percent": MetricValue(99.0, NOW)}, baseline=baseline)
    observation = observe(r, snapshot, NOW, MAX_AGE)
    assert observation.holds is None and why in (observation.summary or "")


def test_rule_summary_replaces_the_default_text() -> None:
    r = rule(when="health_score < 50", summary="host unhealthy (score {value})")
    observation = observe(r, Snapshot(score=31.0, score_at=NOW), NOW, MAX_AGE)
    assert observation.summary == "host unhealthy (score 31)"


def test_metrics_read_by_each_kind_of_rule() -> None:
    assert metrics_read(rule(when="health_score < 50")) == set()
    assert metrics_read(rule(when="memory.percent > 90")) == {"memory.percent"}
    assert metrics_read(rule(metric="load.5m", above_baseline=2)) == {"load.5m"}
    assert metrics_read(rule(check="x")) == set()
