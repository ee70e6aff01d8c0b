"""`before:` preconditions of a procedure: is it safe to start?

Each kind of precondition (`require: NAME`) is a member of REGISTRY that provides what
`PreconditionKind` states: its NAME, its CONFIG model (a member of
`config.procedures.Precondition`) and `evaluate(precondition, store)`. The registry
checks every member against the contract when this module is imported. Adding a kind is
one class here, its config model, and one entry in `register(...)`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.checks import latest_results, latest_score
from hostkeeper.adapters.store.runs import firing_critical_alerts
from hostkeeper.checks.disk_free import usage
from hostkeeper.config.procedures import (
    DiskFreePrecondition,
    HealthyPrecondition,
    NoCriticalAlertsPrecondition,
    Precondition,
)
from hostkeeper.config.units import format_duration
from hostkeeper.core.contracts import check_config_model, check_member
from hostkeeper.core.health import CheckState


@dataclass(frozen=True)
class PreconditionResult:
    label: str
    met: bool
    detail: str


class PreconditionKind(Protocol):
    NAME: str
    """The kind, as written in `require:`."""
    CONFIG: type[Any]
    """Its config model, whose `require` literal is NAME."""

    def evaluate(self, precondition: Any, store: Store) -> PreconditionResult:
        """Whether `precondition` (its config) holds now, with a label and the reason."""
        ...


class DiskFree:
    NAME = "disk_free"
    CONFIG = DiskFreePrecondition

    def evaluate(self, precondition: DiskFreePrecondition, store: Store) -> PreconditionResult:
        label = f"disk_free {precondition.path} >= {precondition.min:g}%"
        try:
            stats = os.statvfs(precondition.path)
        except OSError as error:
            return PreconditionResult(
                label, False, f"cannot read {precondition.path}: {error.strerror}"
            )
        # Avail / (Used + Avail), like df and the disk_free check: root's reserve counts
        # as neither.
        free_percent = usage(stats)[2] or 0.0
        met = free_percent >= precondition.min
        return PreconditionResult(
            label,
            met,
            f"{free_percent:.1f}% free on {precondition.path} (need {precondition.min:g}%)",
        )


class NoCriticalAlerts:
    NAME = "no_critical_alerts"
    CONFIG = NoCriticalAlertsPrecondition

    def evaluate(
        self, precondition: NoCriticalAlertsPrecondition, store: Store
    ) -> PreconditionResult:
        rules = firing_critical_alerts(store)
        detail = (
            f"critical alerts firing: {', '.join(sorted(set(rules)))}"
            if rules
            else "no critical alert is firing"
        )
        return PreconditionResult(self.NAME, not rules, detail)


class Healthy:
    """The host is stable enough for maintenance: no check's newest result is critical
    and the newest health score reaches min_score, both measured within max_age (what
    the health_check step and `hostkeeper check` store)."""

    NAME = "healthy"
    CONFIG = HealthyPrecondition

    def evaluate(self, precondition: HealthyPrecondition, store: Store) -> PreconditionResult:
        label = f"healthy (score >= {precondition.min_score:g}, no critical check)"
        since = datetime.now(UTC) - precondition.max_age
        age = format_duration(precondition.max_age)
        results = [r for r in latest_results(store).values() if r.checked_at >= since]
        if not results:
            return PreconditionResult(
                label, False, f"no health check result in the last {age} (run health_check)"
            )
        critical = sorted(r.name for r in results if r.state is CheckState.CRITICAL)
        if critical:
            return PreconditionResult(label, False, f"critical checks: {', '.join(critical)}")
        score = latest_score(store)
        if score is None or score.computed_at < since or score.score is None:
            return PreconditionResult(label, False, f"no health score in the last {age}")
        shown = f"health score {score.score:.0f}"
        if score.score < precondition.min_score:
            return PreconditionResult(label, False, f"{shown}, below {precondition.min_score:g}")
        return PreconditionResult(
            label,
            True,
            f"{shown} (need {precondition.min_score:g}), none of {len(results)} checks critical",
        )


def register(members: Iterable[Any]) -> dict[str, PreconditionKind]:
    """The registry of `members` by NAME, each checked against PreconditionKind.

    Raises PluginContractError naming a member that lacks part of the contract or whose
    CONFIG is not the model of its NAME, and ValueError for a NAME given twice.
    """
    registry: dict[str, PreconditionKind] = {}
    for member in members:
        name = getattr(member, "NAME", type(member).__name__)
        check_member("precondition", name, member, PreconditionKind)
        check_config_model("precondition", name, member, discriminator="require")
        if name in registry:
            raise ValueError(f"precondition {name!r} is registered twice")
        registry[name] = member
    return registry


REGISTRY = register([DiskFree(), NoCriticalAlerts(), Healthy()])


def evaluate(precondition: Precondition, store: Store) -> PreconditionResult:
    kind = REGISTRY.get(precondition.require)
    if kind is None:
        raise TypeError(f"unknown precondition {precondition!r}")
    return kind.evaluate(precondition, store)
