"""Checks of the configuration against this host (`config validate --strict`).

These are warnings, not errors: a backup source may appear later, a command may be
installed by the next deploy. `--strict` turns them into failures.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hostkeeper.config.crossref import Problem
from hostkeeper.config.logrotate_overlap import logrotate_overlaps
from hostkeeper.config.models import Config


def environment_problems(config: Config) -> list[Problem]:
    problems: list[Problem] = []
    for index, policy in enumerate(config.cleanup):
        if not Path(policy.path).is_dir():
            problems.append((("cleanup", index, "path"), f"{policy.path} is not a directory here"))
    for index, backup in enumerate(config.backups):
        for position, source in enumerate(backup.sources):
            if not Path(source).exists():
                problems.append(
                    (("backups", index, "sources", position), f"{source} does not exist here")
                )
    for index, check in enumerate(config.checks):
        if check.type == "certificate" and not Path(check.path).is_file():
            problems.append((("checks", index, "path"), f"{check.path} does not exist here"))
    for position, certificate in enumerate(config.security.certificates):
        if not Path(certificate).is_file():
            problems.append(
                (("security", "certificates", position), f"{certificate} does not exist here")
            )
    for name, procedure in config.procedures.items():
        for phase in ("steps", "after"):
            for index, step in enumerate(getattr(procedure, phase)):
                if step.name == "run" and not _executable(step.argument[0], step.cwd):
                    problems.append(
                        (
                            ("procedures", name, phase, index, "run"),
                            f"{step.argument[0]} is not an executable file here",
                        )
                    )
    used = {channel for rule in config.alerts.rules for channel in rule.channels}
    used.update(config.notify.channels)
    for index, channel in enumerate(config.alerts.channels):
        if channel.name not in used:
            problems.append(
                (("alerts", "channels", index, "name"), f"channel {channel.name!r} is never used")
            )
    problems.extend(logrotate_overlaps(config))
    return problems


def _executable(program: str, cwd: str | None) -> bool:
    if "/" not in program:
        return shutil.which(program) is not None
    path = Path(cwd or ".") / program
    return path.is_file() and os.access(path, os.X_OK)
