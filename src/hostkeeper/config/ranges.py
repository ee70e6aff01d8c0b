"""Logical validation of values that are well-formed but can never work as intended."""

from __future__ import annotations

from datetime import timedelta

from hostkeeper.config.crossref import Problem
from hostkeeper.config.models import Config

# A collection round reads every metric group through psutil and writes a batch to the
# store; below a second it would spend a sizeable share of a core and fill the raw table
# (kept for `metrics.retention.raw`) at ten rows a second per metric. 1s is also the
# floor of `every:` and `alerts.evaluate_every`.
MIN_METRICS_INTERVAL = timedelta(seconds=1)


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
