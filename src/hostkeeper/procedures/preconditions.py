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
from typing import Any, Protocol

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.runs import firing_critical_alerts
from hostkeeper.checks.disk_free import usage
from hostkeeper.config.procedures import (
    DiskFreePrecondition,
    NoCriticalAlertsPrecondition,
    Precondition,
)
from hostkeeper.core.contracts import check_config_model, check_member


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


REGISTRY = register([DiskFree(), NoCriticalAlerts()])


def evaluate(precondition: Precondition, store: Store) -> PreconditionResult:
    kind = REGISTRY.get(precondition.require)
    if kind is None:
        raise TypeError(f"unknown precondition {precondition!r}")
    return kind.evaluate(precondition, store)
