"""Checks of the configuration against this host (`config validate --strict`).

These are warnings, not errors: a backup source may appear later, a command may be
installed by the next deploy. `--strict` turns them into failures.

Directories hostkeeper makes itself on first use (state_dir, report_dir, backup_dir and
everything below them) are no problem while missing, as long as they can be created:
`config validate --strict` runs right after installing, before the daemon ever started.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from hostkeeper.config.crossref import Problem
from hostkeeper.config.logrotate_overlap import logrotate_overlaps
from hostkeeper.config.models import Config


def environment_problems(config: Config) -> list[Problem]:
    """What does not exist on this host though the file names it (`--strict` warnings)."""
    return [
        *_path_problems(config),
        *_source_problems(config),
        *_command_problems(config),
        *_unused_channels(config),
        *logrotate_overlaps(config),
    ]


def _path_problems(config: Config) -> Iterator[Problem]:
    created = created_on_demand(config)
    for key in ("state_dir", "report_dir", "backup_dir"):
        problem = _creatable_directory_problem(Path(getattr(config.paths, key)))
        if problem:
            yield ("paths", key), problem
    for index, policy in enumerate(config.cleanup):
        root = Path(policy.path)
        if _is_under(root, created):
            problem = _creatable_directory_problem(root)
        else:
            problem = None if root.is_dir() else f"{policy.path} is not a directory here"
        if problem:
            yield ("cleanup", index, "path"), problem


def _source_problems(config: Config) -> Iterator[Problem]:
    for index, backup in enumerate(config.backups):
        for position, source in enumerate(backup.sources):
            if not Path(source).exists():
                yield ("backups", index, "sources", position), f"{source} does not exist here"
    for index, check in enumerate(config.checks):
        if check.type == "certificate" and not Path(check.path).is_file():
            yield ("checks", index, "path"), f"{check.path} does not exist here"
    for position, certificate in enumerate(config.security.certificates):
        if not Path(certificate).is_file():
            yield ("security", "certificates", position), f"{certificate} does not exist here"


def _command_problems(config: Config) -> Iterator[Problem]:
    for name, procedure in config.procedures.items():
        for phase in ("steps", "after"):
            for index, step in enumerate(getattr(procedure, phase)):
                if step.name == "run" and not _executable(step.argument[0], step.cwd):
                    yield (
                        ("procedures", name, phase, index, "run"),
                        f"{step.argument[0]} is not an executable file here",
                    )


def _unused_channels(config: Config) -> Iterator[Problem]:
    used = {channel for rule in config.alerts.rules for channel in rule.channels}
    used.update(config.notify.channels)
    for index, channel in enumerate(config.alerts.channels):
        if channel.name not in used:
            yield ("alerts", "channels", index, "name"), f"channel {channel.name!r} is never used"


# The dashboard refuses a shorter token (web/server.py): guessable, and likely a mistake.
MIN_TOKEN_LENGTH = 16


def unusable_problems(config: Config) -> list[Problem]:
    """What can never work on this host, whatever `--strict` says: errors, not warnings.

    A token file that is missing or too short leaves the dashboard down at the next start
    or reload, while the file validated.
    """
    dashboard = config.dashboard
    if not dashboard.enabled or dashboard.token_file is None:
        return []
    problem = token_file_problem(dashboard.token_file)
    return [(("dashboard", "token_file"), problem)] if problem else []


def token_file_problem(path: str) -> str | None:
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return f"{path} does not exist"
    except PermissionError:
        return None  # run without the daemon's rights: the daemon may well read it
    except OSError as error:
        return f"{path} cannot be read: {error.strerror or error}"
    except UnicodeDecodeError:
        return f"{path} is not UTF-8 text"
    if len(token) < MIN_TOKEN_LENGTH:
        return (
            f"{path} holds a token of {len(token)} characters; "
            f"the dashboard needs at least {MIN_TOKEN_LENGTH}"
        )
    return None


def created_on_demand(config: Config) -> list[Path]:
    """The directories hostkeeper creates, with their parents, when it first writes there."""
    # Not log_dir: hostkeeper only reads and rotates what other programs write there.
    paths = config.paths
    return [Path(paths.state_dir), Path(paths.report_dir), Path(paths.backup_dir)]


def made_by_hostkeeper(config: Config, path: str | Path) -> bool:
    """Whether `path` lies in a directory hostkeeper creates itself when it first writes."""
    return _is_under(Path(path), created_on_demand(config))


def _is_under(path: Path, roots: list[Path]) -> bool:
    absolute = Path(os.path.abspath(path))
    return any(
        absolute == root or root in absolute.parents
        for root in (Path(os.path.abspath(r)) for r in roots)
    )


def _creatable_directory_problem(path: Path) -> str | None:
    """None when `path` is a directory or `mkdir -p` could make it; else the reason."""
    if path.is_dir():
        return None
    if os.path.lexists(path):
        return f"{path} is not a directory"
    ancestor = Path(os.path.abspath(path)).parent
    while not os.path.lexists(ancestor):
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{path} cannot be created: {ancestor} is not a directory"
    if os.statvfs(ancestor).f_flag & os.ST_RDONLY:
        return f"{path} cannot be created: {ancestor} is on a read-only filesystem"
    return None


def _executable(program: str, cwd: str | None) -> bool:
    if "/" not in program:
        return shutil.which(program) is not None
    path = Path(cwd or ".") / program
    return path.is_file() and os.access(path, os.X_OK)
