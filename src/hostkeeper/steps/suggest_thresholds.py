"""`suggest_thresholds [PERIOD]`: warning/critical levels for each check and rule, with evidence.

For every check with levels (disk_free, memory_available, load, file_age) and every
alert rule, the period's observations are summarised by their percentiles, levels are
suggested outside the normal range (core/thresholds.py explains how), and the evidence
shows how often the current and the suggested levels would have fired over the same
observations. Checks whose levels are policy rather than statistics (certificate) or
that have no levels (systemd_unit, http, tcp, process) get their history's state counts
only. The report goes to `report_dir/thresholds/suggestions_YYYYMMDD.json`; nothing in
the configuration is changed.

Observations: the raw metric samples where a check has a metric twin (disk_free <->
`disk.PATH.used_percent`, memory_available <-> `memory.percent`, load <-> `load.5m`), as
they are ten-second samples rather than one check result a day; the stored check results
otherwise; the stored health scores for `health_score` rules.

Kept whole: each kind of check has its own way to turn percentiles into levels, and they
share the evidence format.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import checks as check_store
from hostkeeper.config import Config
from hostkeeper.config.alerts import Rule
from hostkeeper.config.units import format_duration
from hostkeeper.core import thresholds as th
from hostkeeper.core.expressions import parse_comparison
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "suggest_thresholds"

DEFAULT_PERIOD = timedelta(days=7)
HEALTH_SCORE_DOMAIN = th.Domain(lowest=0.0, highest=100.0, min_spread=10.0, relative_spread=0.0)
LOAD_DOMAIN = th.Domain(lowest=0.0, min_spread=0.1, relative_spread=0.25)
AGE_DOMAIN = th.Domain(lowest=0.0, min_spread=60.0, relative_spread=0.25)
Z_DOMAIN = th.Domain(min_spread=0.5, relative_spread=0.0)
LEVELLED_CHECKS = {"disk_free", "memory_available", "load", "file_age"}
NOT_ENOUGH_DATA = "not enough data"  # the verdict below th.MIN_SPAN or th.MIN_OBSERVATIONS


@dataclass
class Observations:
    """A check's or rule's values over the period, where they came from, what is worse."""

    points: list[tuple[float, float]]
    source: str
    direction: th.Direction
    domain: th.Domain
    unit: str | None = None
    notes: list[str] = field(default_factory=list)


# -- checks --------------------------------------------------------------------------------


def _check_observations(
    store: Store, check: Any, since: datetime, until: datetime
) -> Observations | None:
    """Numeric observations of a levelled check: its metric twin's samples, else history."""
    twin = _metric_twin(check)
    if twin is not None:
        metric, convert, what = twin
        samples = check_store.metric_history(store, metric, since.timestamp(), until.timestamp())
        if len(samples) >= th.MIN_OBSERVATIONS:
            observed = _check_observations_from(check, [(ts, convert(v)) for ts, v in samples])
            observed.source = f"{len(samples)} samples of {metric} ({what})"
            return observed
    history = check_store.check_history(store, check.name, since, until)
    points = [(r.checked_at.timestamp(), r.value) for r in history if r.value is not None]
    if not points:
        return None
    observed = _check_observations_from(check, points)
    observed.source = f"{len(points)} stored results of check {check.name}"
    return observed


def _metric_twin(check: Any) -> tuple[str, Any, str] | None:
    if check.type == "disk_free":
        # Metric names as collected: `disk.<mount path>.used_percent`.
        return f"disk.{check.path}.used_percent", lambda v: 100.0 - v, "free = 100 - used"
    if check.type == "memory_available":
        return "memory.percent", lambda v: 100.0 - v, "available = 100 - used"
    if check.type == "load":
        cores = os.cpu_count() or 1
        return "load.5m", lambda v: v / cores, f"per CPU, {cores} CPUs"
    return None


def _check_observations_from(check: Any, points: list[tuple[float, float]]) -> Observations:
    if check.type in ("disk_free", "memory_available"):
        return Observations(points, "", th.Direction.BELOW, th.PERCENT, "%")
    if check.type == "load":
        return Observations(points, "", th.Direction.ABOVE, LOAD_DOMAIN, "per cpu")
    return Observations(points, "", th.Direction.ABOVE, AGE_DOMAIN, "s")  # file_age


def _current_levels(check: Any) -> th.Levels:
    if check.type == "file_age":
        return th.Levels(check.warning.total_seconds(), check.critical.total_seconds())
    return th.Levels(float(check.warning), float(check.critical))


def _config_spelling(check_type: str, value: float) -> str:
    if check_type in ("disk_free", "memory_available"):
        return f"{value:g}%"
    if check_type == "file_age":
        return format_duration(timedelta(seconds=value))
    return f"{value:g}"


def _level_evidence(observed: Observations, levels: th.Levels) -> dict[str, Any]:
    return {
        name: th.count_firing(observed.points, level, observed.direction).to_dict()
        for name, level in (("warning", levels.warning), ("critical", levels.critical))
    }


def _state_of(value: float, levels: th.Levels, direction: th.Direction) -> str:
    if direction.trips(value, levels.critical):
        return "critical"
    if direction.trips(value, levels.warning):
        return "warning"
    return "ok"


def _verdict(
    direction: th.Direction,
    current: th.Levels,
    suggested: th.Levels,
    current_evidence: dict[str, Any],
    suggested_evidence: dict[str, Any],
) -> str:
    if any(
        current_evidence[name]["episodes"] > suggested_evidence[name]["episodes"]
        for name in current_evidence
    ):
        return "loosen"
    if direction.stricter(suggested.warning, current.warning) or direction.stricter(
        suggested.critical, current.critical
    ):
        return "tighten"
    return "keep"


def check_item(
    store: Store, check: Any, since: datetime, until: datetime
) -> tuple[dict[str, Any], tuple[Observations, th.Levels | None] | None]:
    """The report entry of one check, and its observations and suggestion for its rules."""
    item: dict[str, Any] = {"kind": "check", "name": check.name, "type": check.type}
    if check.type not in LEVELLED_CHECKS:
        return _state_only_item(item, store, check, since, until), None
    current = _current_levels(check)
    item["current"] = {
        "warning": current.warning,
        "critical": current.critical,
        "config": {
            "warning": _config_spelling(check.type, current.warning),
            "critical": _config_spelling(check.type, current.critical),
        },
    }
    observed = _check_observations(store, check, since, until)
    if observed is None:
        item.update(suggested=None, verdict="no data", note="no observations in the period")
        return item, None
    distribution = th.describe(value for _, value in observed.points)
    item.update(
        source=observed.source,
        direction=observed.direction.value,
        unit=observed.unit,
        distribution=distribution.to_dict(),
        evidence={"current": _level_evidence(observed, current)},
    )
    missing = th.shortfall([ts for ts, _ in observed.points])
    rounding = th.round_duration_outwards if check.type == "file_age" else None
    suggested = th.suggest_levels(distribution, observed.direction, observed.domain, rounding)
    if missing is not None or suggested is None:
        item.update(suggested=None, verdict=NOT_ENOUGH_DATA, note=missing)
        return item, (observed, None)
    item["suggested"] = {
        "warning": suggested.warning,
        "critical": suggested.critical,
        "config": {
            "warning": _config_spelling(check.type, suggested.warning),
            "critical": _config_spelling(check.type, suggested.critical),
        },
    }
    item["evidence"]["suggested"] = _level_evidence(observed, suggested)
    item["verdict"] = _verdict(
        observed.direction,
        current,
        suggested,
        item["evidence"]["current"],
        item["evidence"]["suggested"],
    )
    return item, (observed, suggested)


def _state_only_item(
    item: dict[str, Any], store: Store, check: Any, since: datetime, until: datetime
) -> dict[str, Any]:
    history = check_store.check_history(store, check.name, since, until)
    counts = Counter(result.state.value for result in history)
    note = (
        "certificate levels are policy (days before expiry), not statistics"
        if check.type == "certificate"
        else f"{check.type} checks have no numeric levels to tune"
    )
    item.update(
        suggested=None,
        verdict="no suggestion",
        note=note,
        source=f"{len(history)} stored results of check {check.name}",
        evidence={"states": {state: counts.get(state, 0) for state in _STATES}},
    )
    if check.type == "certificate":
        item["current"] = {
            "warning": format_duration(check.warning),
            "critical": format_duration(check.critical),
        }
    return item


_STATES = ("ok", "warning", "critical", "unknown")


# -- rules ---------------------------------------------------------------------------------


def rule_item(
    store: Store,
    rule: Rule,
    since: datetime,
    until: datetime,
    checks: dict[str, tuple[Any, tuple[Observations, th.Levels | None] | None]],
) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": "rule", "name": rule.name, "severity": rule.severity.value}
    hold = rule.for_.total_seconds()
    if rule.check is not None:
        return _check_rule_item(item, store, rule, since, until, checks.get(rule.check), hold)
    if rule.when is not None:
        comparison = parse_comparison(rule.when)
        inclusive = comparison.comparator in ("<=", ">=")
        direction = th.Direction.BELOW if "<" in comparison.comparator else th.Direction.ABOVE
        observed = _subject_observations(store, comparison.subject, direction, since, until)
        item.update(type="when", current={"level": comparison.threshold, "rule": rule.when})

        def spell(level: float) -> str:
            return f"{comparison.subject} {comparison.comparator} {level:g}"

        return _levelled_rule_item(
            item, rule, observed, comparison.threshold, inclusive, hold, spell
        )
    assert rule.metric is not None and rule.above_baseline is not None
    item.update(
        type="metric",
        current={
            "level": rule.above_baseline,
            "metric": rule.metric,
            "rule": f"metric: {rule.metric}, above_baseline: {rule.above_baseline:g}",
        },
    )
    observed = _z_observations(store, rule.metric, since, until)
    metric = rule.metric
    return _levelled_rule_item(
        item,
        rule,
        observed,
        rule.above_baseline,
        False,
        hold,
        lambda level: f"metric: {metric}, above_baseline: {level:g}",
    )


def _subject_observations(
    store: Store, subject: str, direction: th.Direction, since: datetime, until: datetime
) -> Observations:
    if subject == "health_score":
        scores = check_store.score_history(store, since, until)
        points = [(s.computed_at.timestamp(), s.score) for s in scores if s.score is not None]
        source = f"{len(points)} stored health scores"
        return Observations(points, source, direction, HEALTH_SCORE_DOMAIN)
    points = check_store.metric_history(store, subject, since.timestamp(), until.timestamp())
    if "percent" in subject:
        domain = th.PERCENT
    elif all(value >= 0 for _, value in points):
        domain = th.NON_NEGATIVE
    else:
        domain = th.Domain()
    return Observations(points, f"{len(points)} samples of {subject}", direction, domain)


def _z_observations(store: Store, metric: str, since: datetime, until: datetime) -> Observations:
    points = check_store.metric_history(store, metric, since.timestamp(), until.timestamp())
    baseline = check_store.active_baseline(store, metric)
    notes = []
    if baseline is None and len(points) >= 2:
        distribution_mean = sum(v for _, v in points) / len(points)
        variance = sum((v - distribution_mean) ** 2 for _, v in points) / (len(points) - 1)
        baseline = (distribution_mean, variance**0.5)
        notes.append("no active baseline: z-scores use the period's own mean and stddev")
    if baseline is None or baseline[1] <= 0:
        notes.append("no usable baseline (stddev 0 or too few samples)")
        return Observations([], f"samples of {metric}", th.Direction.ABOVE, Z_DOMAIN, "z", notes)
    mean, stddev = baseline
    z_points = [(ts, (value - mean) / stddev) for ts, value in points]
    source = f"{len(points)} samples of {metric} as z-scores (mean {mean:.4g}, stddev {stddev:.4g})"
    return Observations(z_points, source, th.Direction.ABOVE, Z_DOMAIN, "z", notes)


def _levelled_rule_item(
    item: dict[str, Any],
    rule: Rule,
    observed: Observations,
    current_level: float,
    inclusive: bool,
    hold: float,
    spell: Any,
) -> dict[str, Any]:
    item.update(source=observed.source, direction=observed.direction.value)
    if observed.notes:
        item["note"] = "; ".join(observed.notes)
    if not observed.points:
        item.update(suggested=None, verdict="no data")
        item["note"] = item.get("note") or "no observations in the period"
        return item

    def evidence(level: float) -> dict[str, Any]:
        firing = th.count_firing(
            observed.points, level, observed.direction, inclusive=inclusive, hold=hold
        )
        return {"level": firing.to_dict()}

    distribution = th.describe(value for _, value in observed.points)
    item["distribution"] = distribution.to_dict()
    item["evidence"] = {"current": evidence(current_level), "hold_seconds": hold}
    missing = th.shortfall([ts for ts, _ in observed.points])
    levels = th.suggest_levels(distribution, observed.direction, observed.domain)
    if missing is not None or levels is None:
        item.update(suggested=None, verdict=NOT_ENOUGH_DATA)
        item["note"] = "; ".join(filter(None, [item.get("note"), missing]))
        return item
    level = levels.level_for(rule.severity.value)
    item["suggested"] = {
        "level": level,
        "warning": levels.warning,
        "critical": levels.critical,
        "config": spell(level),
    }
    item["evidence"]["suggested"] = evidence(level)
    current_episodes = item["evidence"]["current"]["level"]["episodes"]
    if current_episodes > item["evidence"]["suggested"]["level"]["episodes"]:
        item["verdict"] = "loosen"
    elif observed.direction.stricter(level, current_level):
        item["verdict"] = "tighten"
    else:
        item["verdict"] = "keep"
    return item


def _check_rule_item(
    item: dict[str, Any],
    store: Store,
    rule: Rule,
    since: datetime,
    until: datetime,
    check_entry: tuple[Any, tuple[Observations, th.Levels | None] | None] | None,
    hold: float,
) -> dict[str, Any]:
    states = [state.value for state in rule.states]
    item.update(type="check", current={"check": rule.check, "states": states})
    check, analysed = check_entry if check_entry else (None, None)
    if check is not None and analysed is not None:
        observed, suggested = analysed
        current = _current_levels(check)
        current_states = [
            (ts, _state_of(v, current, observed.direction)) for ts, v in observed.points
        ]
        item["source"] = observed.source
        item["evidence"] = {
            "current": {"level": th.count_states(current_states, states, hold=hold).to_dict()},
            "hold_seconds": hold,
        }
        if suggested is not None:
            suggested_states = [
                (ts, _state_of(v, suggested, observed.direction)) for ts, v in observed.points
            ]
            item["evidence"]["suggested"] = {
                "level": th.count_states(suggested_states, states, hold=hold).to_dict()
            }
        item.update(suggested=None, verdict="see check", note=f"levels of check {rule.check}")
        return item
    history = check_store.check_history(store, rule.check or "", since, until)
    points = [(r.checked_at.timestamp(), r.state.value) for r in history]
    item.update(
        source=f"{len(points)} stored results of check {rule.check}",
        evidence={
            "current": {"level": th.count_states(points, states, hold=hold).to_dict()},
            "hold_seconds": hold,
        },
        suggested=None,
        verdict="see check",
        note=f"the rule follows check {rule.check}, which has no levels to suggest",
    )
    return item


# -- the report ----------------------------------------------------------------------------


def build_report(config: Config, store: Store, now: datetime, period: timedelta) -> dict[str, Any]:
    """The suggestions for every check and rule over the `period` before `now`."""
    since = now - period
    items = []
    analysed: dict[str, tuple[Any, tuple[Observations, th.Levels | None] | None]] = {}
    for check in config.checks:
        item, observations = check_item(store, check, since, now)
        analysed[check.name] = (check, observations)
        items.append(item)
    for rule in config.alerts.rules:
        items.append(rule_item(store, rule, since, now, analysed))
    verdicts = Counter(item.get("verdict", "") for item in items)
    return {
        "generated_at": now.isoformat(),
        "host": store.host,
        "period": format_duration(period),
        "since": since.isoformat(),
        "until": now.isoformat(),
        "method": (
            "Tukey fences on the period's quartiles (warning 1.5, critical 3 spreads beyond "
            "p75, or below p25 when lower is worse), rounded outwards; episodes count the "
            "alerts a level would have raised, honouring each rule's `for`"
        ),
        "summary": {"items": len(items), **dict(sorted(verdicts.items()))},
        "items": items,
    }


def report_path(config: Config, now: datetime) -> Path:
    local = now.astimezone(ZoneInfo(config.timezone))
    return Path(config.paths.report_dir) / "thresholds" / f"suggestions_{local:%Y%m%d}.json"


def write_report(config: Config, report: dict[str, Any]) -> Path:
    path = report_path(config, datetime.fromisoformat(report["generated_at"]))
    atomic_write(path, (json.dumps(report, indent=2) + "\n").encode())
    return path


def summarize(report: dict[str, Any]) -> str:
    summary = report["summary"]
    verdicts = ", ".join(f"{n} {v}" for v, n in summary.items() if v != "items" and n)
    return f"{summary['items']} checks and rules over {report['period']}: {verdicts or 'none'}"


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    period: timedelta = argument or DEFAULT_PERIOD
    report = build_report(ctx.config, ctx.store, ctx.now(), period)
    ctx.check_cancelled()
    if ctx.dry_run:
        path = report_path(ctx.config, ctx.now())
        return StepOutcome(
            StepStatus.SUCCEEDED,
            f"dry run, {path} not written: {summarize(report)}",
            details={"summary": report["summary"]},
        )
    path = write_report(ctx.config, report)
    return StepOutcome(
        StepStatus.SUCCEEDED,
        f"{summarize(report)}; report {path}",
        details={"path": str(path), "summary": report["summary"]},
    )
