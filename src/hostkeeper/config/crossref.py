"""Logical validation: names that must refer to things defined elsewhere in the file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from hostkeeper.config.issues import Location
from hostkeeper.config.models import Config
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
    }
    for location, names in lists.items():
        counts = Counter(names)
        for index, name in enumerate(names):
            if counts[name] > 1 and names.index(name) != index:
                yield (*location, index, "name"), f"duplicate name {name!r}"


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
