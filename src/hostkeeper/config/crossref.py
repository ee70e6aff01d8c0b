"""Logical validation: names that must refer to things defined elsewhere in the file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from hostkeeper.config.issues import Location
from hostkeeper.config.models import Config
from hostkeeper.config.procedures import Procedure
from hostkeeper.config.step_references import resolve_step
from hostkeeper.config.steps import SIGNATURES

Problem = tuple[Location, str]


def reference_problems(config: Config) -> list[Problem]:
    """Every broken cross reference in `config`, as (key path, message)."""
    problems: list[Problem] = []
    problems += _duplicates(config)
    sections = _names(config)
    channels = sections["alerts.channels"]
    checks = sections["checks"]
    for index, rule in enumerate(config.alerts.rules):
        for position, channel in enumerate(rule.channels):
            if channel not in channels:
                problems.append(
                    (
                        ("alerts", "rules", index, "channels", position),
                        f"no channel named {channel!r} in alerts.channels",
                    )
                )
        if rule.check is not None and rule.check not in checks:
            problems.append(
                (("alerts", "rules", index, "check"), f"no check named {rule.check!r} in checks")
            )
    for position, channel in enumerate(config.notify.channels):
        if channel not in channels:
            problems.append(
                (
                    ("notify", "channels", position),
                    f"no channel named {channel!r} in alerts.channels",
                )
            )
    for position, channel in enumerate(config.fleet.channels):
        if channel not in channels:
            problems.append(
                (
                    ("fleet", "channels", position),
                    f"no channel named {channel!r} in alerts.channels",
                )
            )
    for check in config.health_score.weights:
        if check not in checks:
            problems.append(
                (("health_score", "weights", check), f"no check named {check!r} in checks")
            )
    problems += _step_references(config, sections)
    for name, procedure in config.procedures.items():
        problems += _checklist_references(name, procedure, checks)
    problems += _window_rule_references(config, sections["alerts.rules"])
    return problems


def _names(config: Config) -> dict[str, set[str]]:
    return {
        "checks": {check.name for check in config.checks},
        "alerts.rules": {rule.name for rule in config.alerts.rules},
        "alerts.channels": {channel.name for channel in config.alerts.channels},
        "logs": {policy.name for policy in config.logs},
        "cleanup": {policy.name for policy in config.cleanup},
        "backups": {backup.name for backup in config.backups},
    }


def _duplicates(config: Config) -> Iterator[Problem]:
    lists: dict[Location, list[str]] = {
        ("checks",): [check.name for check in config.checks],
        ("alerts", "rules"): [rule.name for rule in config.alerts.rules],
        ("alerts", "channels"): [channel.name for channel in config.alerts.channels],
        ("logs",): [policy.name for policy in config.logs],
        ("cleanup",): [policy.name for policy in config.cleanup],
        ("backups",): [backup.name for backup in config.backups],
        ("maintenance", "windows"): [window.name for window in config.maintenance.windows],
    }
    for location, names in lists.items():
        counts = Counter(names)
        for index, name in enumerate(names):
            if counts[name] > 1 and names.index(name) != index:
                yield (*location, index, "name"), f"duplicate name {name!r}"


def _window_rule_references(config: Config, rules: set[str]) -> Iterator[Problem]:
    """Rules a maintenance window holds must exist (a misspelt one would hold nothing)."""
    scopes: list[tuple[Location, list[str] | None]] = [
        (("maintenance", "windows", index, "rules"), window.rules)
        for index, window in enumerate(config.maintenance.windows)
    ]
    scopes += [
        (("procedures", name, "maintenance", "rules"), procedure.maintenance.rules)
        for name, procedure in config.procedures.items()
    ]
    for location, names in scopes:
        for position, rule in enumerate(names or []):
            if rule not in rules:
                yield (*location, position), f"no rule named {rule!r} in alerts.rules"


def _step_references(config: Config, sections: dict[str, set[str]]) -> Iterator[Problem]:
    for procedure_name, procedure in config.procedures.items():
        for phase in ("steps", "after"):
            for index, step in enumerate(getattr(procedure, phase)):
                spec = SIGNATURES[step.name].argument
                if spec.reference is None:
                    continue
                for name in spec.names(step.argument):
                    if name not in sections[spec.reference]:
                        yield (
                            ("procedures", procedure_name, phase, index, step.name),
                            f"no entry named {name!r} in {spec.reference}",
                        )


def _checklist_references(name: str, procedure: Procedure, checks: set[str]) -> Iterator[Problem]:
    """Item names unique in the procedure; each proof names something that exists;
    `wait_for` names manual items."""
    seen: set[str] = set()
    kinds: list[str] = [precondition.require for precondition in procedure.before]
    for section, items in procedure.checklist.items():
        for index, item in enumerate(items):
            where = ("procedures", name, "checklist", section, index)
            if item.name in seen:
                yield (*where, item.name), f"duplicate checklist item {item.name!r}"
            seen.add(item.name)
            if item.step is not None:
                resolved = resolve_step(procedure, item.step)
                if isinstance(resolved, str):
                    yield (*where, "step"), resolved
            if item.precondition is not None and kinds.count(item.precondition) != 1:
                yield (
                    (*where, "precondition"),
                    f"no `before` precondition {item.precondition!r} in this procedure"
                    if item.precondition not in kinds
                    else f"the procedure has {kinds.count(item.precondition)} `before` "
                    f"preconditions {item.precondition!r}; an item is proved by one",
                )
            if item.check is not None and item.check not in checks:
                yield (*where, "check"), f"no check named {item.check!r} in checks"
    manual = procedure.manual_items()
    for phase in ("steps", "after"):
        for index, step in enumerate(getattr(procedure, phase)):
            for position, item_name in enumerate(step.wait_for or []):
                if item_name not in manual:
                    known = ", ".join(sorted(manual)) or "none"
                    yield (
                        ("procedures", name, phase, index, "wait_for", position),
                        f"no manual checklist item {item_name!r} in this procedure "
                        f"(manual items: {known})",
                    )
