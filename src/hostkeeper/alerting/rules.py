"""From a rule and a snapshot of the store to an Observation for the state machine.

- `when: SUBJECT OP NUMBER`: SUBJECT is `health_score` (the newest stored score) or a
  metric name (its newest sample, if younger than `max_age`).
- `check: NAME` + `states`: holds while the check's newest result is in `states`.
- `metric: NAME` + `above_baseline: Z`: holds while (value - mean) / stddev > Z against
  the active baseline. No baseline, no spread (stddev 0) or no fresh sample: no data.

"No data" (holds=None) neither starts, advances nor ends an alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hostkeeper.alerting.sources import Snapshot
from hostkeeper.config.alerts import Rule
from hostkeeper.core.alerts import Observation
from hostkeeper.core.expressions import parse_comparison

HEALTH_SCORE = "health_score"


def metrics_read(rule: Rule) -> set[str]:
    """Metric names whose newest value `rule` needs."""
    if rule.metric is not None:
        return {rule.metric}
    if rule.when is not None:
        subject = parse_comparison(rule.when).subject
        return set() if subject == HEALTH_SCORE else {subject}
    return set()


def observe(rule: Rule, snapshot: Snapshot, now: datetime, max_age: timedelta) -> Observation:
    if rule.when is not None:
        observation = _comparison(rule.when, snapshot, now, max_age)
    elif rule.check is not None:
        observation = _check(rule, snapshot)
    else:
        observation = _baseline(rule, snapshot, now, max_age)
    if rule.summary and observation.holds is not None:
        text = rule.summary.replace(
            "{value}", "" if observation.value is None else f"{observation.value:g}"
        )
        observation = Observation(observation.holds, observation.value, text)
    return observation


def _comparison(text: str, snapshot: Snapshot, now: datetime, max_age: timedelta) -> Observation:
    comparison = parse_comparison(text)
    if comparison.subject == HEALTH_SCORE:
        if snapshot.score is None:
            why = "no health score stored" if snapshot.score_at is None else "every check unknown"
            return Observation(None, None, f"{comparison}: {why}")
        value = snapshot.score
    else:
        sample = snapshot.metrics.get(comparison.subject)
        if sample is None or now - sample.at > max_age:
            return Observation(None, None, f"{comparison}: no recent sample")
        value = sample.value
    holds = comparison.holds(value)
    return Observation(holds, value, f"{comparison.subject} is {value:g} ({comparison})")


def _check(rule: Rule, snapshot: Snapshot) -> Observation:
    assert rule.check is not None
    result = snapshot.checks.get(rule.check)
    if result is None:
        return Observation(None, None, f"check {rule.check} has no result yet")
    holds = result.state in {state.value for state in rule.states}
    detail = f": {result.detail}" if result.detail else ""
    return Observation(holds, result.value, f"check {rule.check} is {result.state}{detail}")


def _baseline(rule: Rule, snapshot: Snapshot, now: datetime, max_age: timedelta) -> Observation:
    assert rule.metric is not None and rule.above_baseline is not None
    sample = snapshot.metrics.get(rule.metric)
    if sample is None or now - sample.at > max_age:
        return Observation(None, None, f"{rule.metric}: no recent sample")
    baseline = snapshot.baseline.get(rule.metric)
    if baseline is None or baseline.mean is None:
        return Observation(None, sample.value, f"{rule.metric}: no active baseline")
    if not baseline.stddev:
        return Observation(None, sample.value, f"{rule.metric}: baseline has no spread")
    z = (sample.value - baseline.mean) / baseline.stddev
    return Observation(
        z > rule.above_baseline,
        sample.value,
        f"{rule.metric} is {sample.value:g}, {z:.1f} standard deviations from its baseline "
        f"mean {baseline.mean:g} (alert above {rule.above_baseline:g})",
    )
