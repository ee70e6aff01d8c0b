"""`hostkeeper rollback`: put the configuration back from a backup, or change nothing.

The archive (the newest of the config set that verifies, or the one named) is
restored into a staging directory and checked against its manifest. Each file then
replaces its original path atomically (temp name in the same directory, fsync,
rename), the current file being kept aside as `NAME.pre-rollback-STAMP` (a hard link,
so the original path is never missing). The restored hostkeeper configuration must
validate; if it does not, every replaced file is put back and new ones are removed.
Only then is the daemon reloaded.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from hostkeeper.adapters.archive import (
    ArchiveFile,
    BackupError,
    list_archives,
    restore_archive,
    verify_archive,
)
from hostkeeper.config import ConfigError, load_config

DEFAULT_SET = "config"


@dataclass
class RollbackTarget:
    """Where rollback looks, readable even from a configuration that no longer loads."""

    config_file: Path
    backup_dir: Path
    state_dir: Path
    backup_set: str


def target_from_file(config_file: Path, backup_set: str | None = None) -> RollbackTarget:
    """Paths from the configuration, leniently: a broken file is the reason to roll back."""
    backup_dir, state_dir = "/var/backups/hostkeeper", "/var/lib/hostkeeper"
    sets: list[dict[str, Any]] = []
    try:
        loaded = load_config(config_file)
        backup_dir = loaded.config.paths.backup_dir
        state_dir = loaded.config.paths.state_dir
        sets = [{"name": b.name, "sources": b.sources} for b in loaded.config.backups]
    except ConfigError:
        raw = _raw_yaml(config_file)
        section = raw.get("paths")
        paths: dict[str, Any] = section if isinstance(section, dict) else {}
        backup_dir = str(paths.get("backup_dir") or backup_dir)
        state_dir = str(paths.get("state_dir") or state_dir)
        if isinstance(raw.get("backups"), list):
            sets = [item for item in raw["backups"] if isinstance(item, dict)]
    return RollbackTarget(
        config_file, Path(backup_dir), Path(state_dir), backup_set or _config_set(config_file, sets)
    )


def _raw_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _config_set(config_file: Path, sets: list[dict[str, Any]]) -> str:
    """`config` if defined, else the set whose sources hold the configuration file."""
    names = [str(item.get("name")) for item in sets]
    if DEFAULT_SET in names or not sets:
        return DEFAULT_SET
    resolved = config_file.absolute()
    for item in sets:
        for source in item.get("sources") or []:
            source_path = Path(str(source))
            if resolved == source_path or source_path in resolved.parents:
                return str(item.get("name"))
    return DEFAULT_SET


@dataclass
class RollbackOutcome:
    archive: str | None = None
    replaced: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    kept_aside: list[str] = field(default_factory=list)
    valid: bool = False
    undone: bool = False
    reload: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.valid and not self.errors

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self)) | {"ok": self.ok}


def choose_archive(target: RollbackTarget, archive: str | None) -> tuple[Path | None, list[str]]:
    """The named archive (a path or a file name in the set), or the newest that verifies."""
    directory = target.backup_dir / target.backup_set
    if archive:
        candidate = Path(archive)
        if candidate.exists():
            return candidate, []
        named = directory / archive
        return (named, []) if named.exists() else (None, [f"no archive {archive!r}"])
    problems: list[str] = []
    candidates: list[ArchiveFile] = list_archives(directory, target.backup_set)
    for item in reversed(candidates):
        result = verify_archive(item.path)
        if result.ok:
            return item.path, problems
        problems.append(f"{item.name} does not verify ({result.detail}); trying an older one")
    problems.append(f"no verified archive of set {target.backup_set!r} in {directory}")
    return None, problems


def rollback(
    target: RollbackTarget,
    *,
    archive: str | None = None,
    now: datetime | None = None,
    reload: Callable[[], str] | None = None,
) -> RollbackOutcome:
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    outcome = RollbackOutcome()
    path, notes = choose_archive(target, archive)
    if path is None:
        outcome.errors.extend(notes)
        return outcome
    outcome.archive = str(path)
    # Private scratch space: under the state directory when it exists, else the system's.
    parent = target.state_dir if target.state_dir.is_dir() else None
    staging = Path(tempfile.mkdtemp(prefix=f"rollback-{stamp}-", dir=parent)) / "files"
    try:
        try:
            restored = restore_archive(path, staging)
        except BackupError as error:
            outcome.errors.append(str(error))
            return outcome
        if not restored.ok or restored.manifest is None:
            outcome.errors.extend(restored.problems or ["the archive has no manifest"])
            return outcome
        _put_in_place(restored.manifest, staging, stamp, outcome)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
    if outcome.errors:
        _undo(outcome)
        return outcome
    try:
        load_config(target.config_file)
        outcome.valid = True
    except ConfigError as error:
        outcome.errors.extend(f"restored configuration is invalid: {i}" for i in error.issues)
        _undo(outcome)
        return outcome
    if reload is not None:
        outcome.reload = reload()
    return outcome


def _put_in_place(
    manifest: dict[str, Any], staging: Path, stamp: str, outcome: RollbackOutcome
) -> None:
    for directory in sorted(manifest.get("directories", []), key=lambda d: d["path"]):
        original = Path("/" + directory["path"])
        if not original.exists():
            original.mkdir(parents=True, mode=directory["mode"])
    for entry in manifest.get("files", []):
        original = Path("/" + entry["path"])
        try:
            _replace_one(staging / entry["path"], original, entry["mode"], stamp, outcome)
        except OSError as error:
            outcome.errors.append(f"{original}: {error.strerror or error}")
            return


def _replace_one(
    staged: Path, original: Path, mode: int, stamp: str, outcome: RollbackOutcome
) -> None:
    original.parent.mkdir(parents=True, exist_ok=True)
    temp = original.with_name(f".{original.name}.rollback.tmp")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with open(staged, "rb") as source:
            while data := source.read(1 << 20):
                os.write(fd, data)
        try:
            current = os.lstat(original)
        except FileNotFoundError:
            current = None
        if current is not None and os.geteuid() == 0:
            with contextlib.suppress(OSError):
                os.fchown(fd, current.st_uid, current.st_gid)
        os.fchmod(fd, mode)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    if current is not None:
        if not stat.S_ISREG(current.st_mode):
            temp.unlink(missing_ok=True)
            raise OSError(0, "exists and is not a regular file; left alone")
        aside = original.with_name(f"{original.name}.pre-rollback-{stamp}")
        os.link(original, aside, follow_symlinks=False)
        outcome.kept_aside.append(str(aside))
        os.replace(temp, original)
        outcome.replaced.append(str(original))
    else:
        os.replace(temp, original)
        outcome.created.append(str(original))
    directory = os.open(original.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _undo(outcome: RollbackOutcome) -> None:
    """Put every replaced file back from its kept-aside copy; remove created ones."""
    for original, aside in zip(outcome.replaced, outcome.kept_aside, strict=False):
        os.replace(aside, original)
    for created in outcome.created:
        Path(created).unlink(missing_ok=True)
    outcome.kept_aside = outcome.kept_aside[len(outcome.replaced) :]
    for leftover in outcome.kept_aside:
        Path(leftover).unlink(missing_ok=True)
    outcome.kept_aside = []
    outcome.undone = True
