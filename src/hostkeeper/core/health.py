"""Check states, check results and the health score: pure functions, no I/O.

The health score is the weighted mean of the checks' states, ok 100, warning 50,
critical 0; unknown checks are left out (they say nothing about the host, only that a
check could not run), and with nothing known the score is None, not 0 or 100. Weights
come from `health_score.weights`; a check not listed weighs 1, a weight of 0 leaves it
out of the score.

The overall state (and the Nagios exit code of `hostkeeper check`) is the worst state
in the order ok < unknown < warning < critical, as in Nagios' aggregating plugins: a
check that could not run must not hide a critical one, but it does keep an otherwise
healthy result from reading as ok.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class CheckState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


STATE_POINTS: Mapping[CheckState, float] = {
    CheckState.OK: 100.0,
    CheckState.WARNING: 50.0,
    CheckState.CRITICAL: 0.0,
}
_SEVERITY_ORDER: Mapping[CheckState, int] = {
    CheckState.OK: 0,
    CheckState.UNKNOWN: 1,
    CheckState.WARNING: 2,
    CheckState.CRITICAL: 3,
}
NAGIOS_EXIT_CODES: Mapping[CheckState, int] = {
    CheckState.OK: 0,
    CheckState.WARNING: 1,
    CheckState.CRITICAL: 2,
    CheckState.UNKNOWN: 3,
}


@dataclass(frozen=True)
class Measurement:
    """What one check saw: its state, the measured value (None if there is none) and why."""

    state: CheckState
    detail: str
    value: float | None = None
    unit: str | None = None

    @classmethod
    def unknown(cls, reason: str) -> Measurement:
        return cls(CheckState.UNKNOWN, reason)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome at one time, as stored and shown."""

    name: str
    type: str
    state: CheckState
    value: float | None
    unit: str | None
    detail: str
    duration: float  # seconds the check took
    checked_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "state": self.state.value,
            "value": self.value,
            "unit": self.unit,
            "detail": self.detail,
            "duration": round(self.duration, 4),
            "checked_at": self.checked_at.isoformat(),
        }


def health_score(
    states: Mapping[str, CheckState], weights: Mapping[str, float] | None = None
) -> float | None:
    """The weighted mean of the known states' points (0-100), or None when none is known.

    `states` maps check names to states; `weights` maps check names to weights (unlisted
    names weigh 1; a weight of 0 or less leaves the check out).
    """
    weights = weights or {}
    total_weight = 0.0
    total_points = 0.0
    for name, state in states.items():
        if state is CheckState.UNKNOWN:
            continue
        weight = weights.get(name, 1.0)
        if weight <= 0:
            continue
        total_weight += weight
        total_points += weight * STATE_POINTS[state]
    if total_weight == 0:
        return None
    return total_points / total_weight


def score_of(results: Iterable[CheckResult], weights: Mapping[str, float] | None) -> float | None:
    """`health_score` over check results."""
    return health_score({result.name: result.state for result in results}, weights)


def worst_state(states: Iterable[CheckState]) -> CheckState:
    """The worst of `states` (ok < unknown < warning < critical); unknown when empty."""
    worst: CheckState | None = None
    for state in states:
        if worst is None or _SEVERITY_ORDER[state] > _SEVERITY_ORDER[worst]:
            worst = state
    return CheckState.UNKNOWN if worst is None else worst


def nagios_exit_code(state: CheckState) -> int:
    """0 ok, 1 warning, 2 critical, 3 unknown."""
    return NAGIOS_EXIT_CODES[state]


def state_for_low(value: float, warning: float, critical: float) -> CheckState:
    """For values where less is worse (free space, days left): below a level trips it."""
    if value < critical:
        return CheckState.CRITICAL
    if value < warning:
        return CheckState.WARNING
    return CheckState.OK


def state_for_high(value: float, warning: float, critical: float) -> CheckState:
    """For values where more is worse (load, age): above a level trips it."""
    if value > critical:
        return CheckState.CRITICAL
    if value > warning:
        return CheckState.WARNING
    return CheckState.OK
