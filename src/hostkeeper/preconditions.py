"""`before:` preconditions of a procedure: is it safe to start?"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.runs import firing_critical_alerts
from hostkeeper.checks.disk_free import usage
from hostkeeper.config.procedures import (
    DiskFreePrecondition,
    NoCriticalAlertsPrecondition,
    Precondition,
)


@dataclass(frozen=True)
class PreconditionResult:
    label: str
    met: bool
    detail: str


def evaluate(precondition: Precondition, store: Store) -> PreconditionResult:
    if isinstance(precondition, DiskFreePrecondition):
        return _disk_free(precondition)
    if isinstance(precondition, NoCriticalAlertsPrecondition):
        rules = firing_critical_alerts(store)
        detail = (
            f"critical alerts firing: {', '.join(sorted(set(rules)))}"
            if rules
            else "no critical alert is firing"
        )
        return PreconditionResult("no_critical_alerts", not rules, detail)
    raise TypeError(f"unknown precondition {precondition!r}")


def _disk_free(precondition: DiskFreePrecondition) -> PreconditionResult:
    label = f"disk_free {precondition.path} >= {precondition.min:g}%"
    try:
        stats = os.statvfs(precondition.path)
    except OSError as error:
        return PreconditionResult(
            label, False, f"cannot read {precondition.path}: {error.strerror}"
        )
    # Avail / (Used + Avail), like df and the disk_free check: root's reserve counts as
    # neither.
    free_percent = usage(stats)[2] or 0.0
    met = free_percent >= precondition.min
    return PreconditionResult(
        label, met, f"{free_percent:.1f}% free on {precondition.path} (need {precondition.min:g}%)"
    )
