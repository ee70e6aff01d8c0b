"""Logical validation of values that are well-formed but can never work as intended."""

from __future__ import annotations

from datetime import timedelta

from hostkeeper.config.crossref import Problem
from hostkeeper.config.models import Config
from hostkeeper.core.fleet import HOST_SILENT_RULE

# A collection round reads every metric group through psutil and writes a batch to the
# store; below a second it would spend a sizeable share of a core and fill the raw table
# (kept for `metrics.retention.raw`) at ten rows a second per metric. 1s is also the
# floor of `every:` and `alerts.evaluate_every`.
MIN_METRICS_INTERVAL = timedelta(seconds=1)
MIN_HEARTBEAT = timedelta(seconds=1)
# A host is silent only after missing at least this many heartbeats: one late write (a
# busy database, a slow disk) must not page anyone.
SILENT_AFTER_BEATS = 3


def range_problems(config: Config) -> list[Problem]:
    """Values that validate one by one but cannot work, as (key path, message)."""
    problems: list[Problem] = []
    if config.metrics.interval < MIN_METRICS_INTERVAL:
        problems.append((("metrics", "interval"), "metrics.interval must be at least 1s"))
    for index, check in enumerate(config.checks):
        if check.timeout <= timedelta(0):
            problems.append((("checks", index, "timeout"), "a timeout must be longer than 0s"))
    for index, channel in enumerate(config.alerts.channels):
        if channel.timeout <= timedelta(0):
            problems.append(
                (("alerts", "channels", index, "timeout"), "a timeout must be longer than 0s")
            )
    problems += _fleet_problems(config)
    for name, procedure in config.procedures.items():
        for phase in ("steps", "after"):
            for index, step in enumerate(getattr(procedure, phase)):
                if step.timeout is not None and step.timeout <= timedelta(0):
                    problems.append(
                        (
                            ("procedures", name, phase, index, "timeout"),
                            "a timeout must be longer than 0s",
                        )
                    )
    return problems


def _fleet_problems(config: Config) -> list[Problem]:
    fleet = config.fleet
    problems: list[Problem] = []
    if fleet.heartbeat_every < MIN_HEARTBEAT:
        problems.append((("fleet", "heartbeat_every"), "fleet.heartbeat_every must be at least 1s"))
    elif fleet.silent_after < SILENT_AFTER_BEATS * fleet.heartbeat_every:
        problems.append(
            (
                ("fleet", "silent_after"),
                f"fleet.silent_after must be at least {SILENT_AFTER_BEATS} x "
                "fleet.heartbeat_every, or one late heartbeat makes a host silent",
            )
        )
    if fleet.watch and not config.database.url.startswith("postgresql"):
        problems.append(
            (
                ("fleet", "watch"),
                "fleet.watch needs a PostgreSQL database.url: the hosts to watch share it",
            )
        )
    if any(rule.name == HOST_SILENT_RULE for rule in config.alerts.rules):
        index = [rule.name for rule in config.alerts.rules].index(HOST_SILENT_RULE)
        problems.append(
            (
                ("alerts", "rules", index, "name"),
                f"{HOST_SILENT_RULE!r} is the built-in rule of fleet.watch; choose another name",
            )
        )
    return problems
