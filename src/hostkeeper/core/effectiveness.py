"""Alert effectiveness: which rules earn their notifications, and which are noise.

Per rule over a period: alerts fired, notifications delivered, repeats (escalations),
false positives (marked by an operator), flaps (fired, then resolved within the rule's
`for` without anyone acknowledging it; counted separately from marked false positives),
mean time to acknowledge, mean time to resolve, alerts that `for` filtered out (pending,
then cancelled), and the noisiest rules.

Alerts that began during a maintenance window are counted apart (`during_maintenance`,
and of those `notified_after_maintenance`, the ones still firing when it ended): the
work caused them, so they are neither false positives nor flaps, and they count in no
rate, mean time or `fired` figure; their deliveries still count as notifications sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

# A rule without `for` fires on first sight; an alert of such a rule that resolves this
# quickly, unacknowledged, is still a flap.
DEFAULT_FLAP_WINDOW = timedelta(minutes=5)
NOISIEST = 5


@dataclass(frozen=True)
class AlertFacts:
    """What the report needs to know about one alert."""

    rule: str
    pending_since: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    false_positive: bool
    cancelled: bool = False  # pending, cleared before `for`
    notifications_sent: int = 0  # deliveries that succeeded, every channel and kind
    repeats: int = 0  # repeat notifications decided in the period
    during_maintenance: bool = False  # began while a maintenance window held its rule
    notified: bool = False  # a firing notification went out (for maintenance alerts)


@dataclass(frozen=True)
class RuleEffectiveness:
    rule: str
    fired: int = 0
    notifications_sent: int = 0
    repeats: int = 0
    false_positives: int = 0
    false_positive_rate: float | None = None
    flaps: int = 0
    flap_rate: float | None = None
    acknowledged: int = 0
    mean_time_to_acknowledge_seconds: float | None = None
    resolved: int = 0
    mean_time_to_resolve_seconds: float | None = None
    cancelled_by_for: int = 0
    still_firing: int = 0
    during_maintenance: int = 0
    notified_after_maintenance: int = 0

    @property
    def noise(self) -> int:
        return self.false_positives + self.flaps


@dataclass(frozen=True)
class EffectivenessReport:
    start: datetime
    end: datetime
    rules: tuple[RuleEffectiveness, ...]
    noisiest: tuple[str, ...] = field(default_factory=tuple)

    def totals(self) -> dict[str, int]:
        return {
            "fired": sum(r.fired for r in self.rules),
            "notifications_sent": sum(r.notifications_sent for r in self.rules),
            "repeats": sum(r.repeats for r in self.rules),
            "false_positives": sum(r.false_positives for r in self.rules),
            "flaps": sum(r.flaps for r in self.rules),
            "cancelled_by_for": sum(r.cancelled_by_for for r in self.rules),
            "during_maintenance": sum(r.during_maintenance for r in self.rules),
            "notified_after_maintenance": sum(r.notified_after_maintenance for r in self.rules),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "totals": self.totals(),
            "noisiest": list(self.noisiest),
            "rules": [asdict(rule) for rule in self.rules],
        }


def flap_window(for_: timedelta) -> timedelta:
    return for_ if for_ > timedelta(0) else DEFAULT_FLAP_WINDOW


def is_flap(alert: AlertFacts, window: timedelta) -> bool:
    """Fired, resolved within `window` of firing, never acknowledged before it resolved."""
    if alert.fired_at is None or alert.resolved_at is None or alert.false_positive:
        return False
    acked_in_time = alert.acknowledged_at is not None and alert.acknowledged_at <= alert.resolved_at
    return not acked_in_time and alert.resolved_at - alert.fired_at <= window


def summarize(
    alerts: Iterable[AlertFacts],
    rule_windows: Mapping[str, timedelta],
    start: datetime,
    end: datetime,
) -> EffectivenessReport:
    """The report for alerts active in [start, end).

    `rule_windows` maps each configured rule to its `for`; every configured rule gets a
    row, even without alerts, and rules that no longer exist still get theirs.
    An alert counts as fired (and towards the rates) when it fired inside the period.
    """
    by_rule: dict[str, list[AlertFacts]] = {name: [] for name in rule_windows}
    for alert in alerts:
        by_rule.setdefault(alert.rule, []).append(alert)
    rows = tuple(
        _rule_row(name, facts, flap_window(rule_windows.get(name, timedelta(0))), start, end)
        for name, facts in sorted(by_rule.items())
    )
    return EffectivenessReport(start, end, rows, _noisiest(rows))


def _rule_row(
    name: str, alerts: Sequence[AlertFacts], window: timedelta, start: datetime, end: datetime
) -> RuleEffectiveness:
    in_period = [a for a in alerts if a.fired_at is not None and start <= a.fired_at < end]
    maintenance = [a for a in in_period if a.during_maintenance]
    fired = [a for a in in_period if not a.during_maintenance]
    acknowledged = [a for a in fired if a.acknowledged_at is not None]
    resolved = [a for a in fired if a.resolved_at is not None]
    false_positives = sum(1 for a in fired if a.false_positive)
    flaps = sum(1 for a in fired if is_flap(a, window))
    return RuleEffectiveness(
        rule=name,
        fired=len(fired),
        notifications_sent=sum(a.notifications_sent for a in alerts),
        repeats=sum(a.repeats for a in alerts),
        false_positives=false_positives,
        false_positive_rate=_rate(false_positives, len(fired)),
        flaps=flaps,
        flap_rate=_rate(flaps, len(fired)),
        acknowledged=len(acknowledged),
        mean_time_to_acknowledge_seconds=_mean_seconds(
            (a.acknowledged_at, a.fired_at) for a in acknowledged
        ),
        resolved=len(resolved),
        mean_time_to_resolve_seconds=_mean_seconds((a.resolved_at, a.fired_at) for a in resolved),
        cancelled_by_for=sum(
            1
            for a in alerts
            if a.cancelled and not a.during_maintenance and start <= a.pending_since < end
        ),
        still_firing=sum(1 for a in fired if a.resolved_at is None),
        during_maintenance=len(maintenance),
        notified_after_maintenance=sum(1 for a in maintenance if a.notified),
    )


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def _mean_seconds(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> float | None:
    spans = [(late - early).total_seconds() for late, early in pairs if late and early]
    return round(fmean(spans), 1) if spans else None


def _noisiest(rows: Sequence[RuleEffectiveness]) -> tuple[str, ...]:
    """Rules ranked by notifications delivered, then false positives + flaps, then fired."""
    noisy = [r for r in rows if r.notifications_sent or r.fired]
    noisy.sort(key=lambda r: (-r.notifications_sent, -r.noise, -r.fired, r.rule))
    return tuple(r.rule for r in noisy[:NOISIEST])
