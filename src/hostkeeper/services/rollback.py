"""`hostkeeper rollback`: put the configuration back from a backup, or change nothing.

The archive (the newest of the config set that verifies, or the one named) is
restored into a staging directory and checked against its manifest. Each file is
then compared with its original path: one with the same content (sha256), mode and
owner is left alone (not rewritten, not copied); one whose mode or owner differ gets
them back in place; one whose content differs is copied into a private directory
(state_dir/rollback/STAMP-xxxx/, 0700, copies 0600: configuration files hold secrets)
and replaced atomically (temp name in the same directory, fsync, rename). The
restored hostkeeper configuration must validate; if it does not, every changed file is
put back as it was and new ones are removed. Only then, and only if something changed,
is the daemon reloaded.
"""

from __future__ import annotations

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
    file_sha256,
    list_archives,
    restore_archive,
    verify_archive,
)
from hostkeeper.adapters.inplace import Attributes, PrivateCopies, replace_file, set_attributes
from hostkeeper.config import ConfigError, load_config

DEFAULT_SET = "config"
COPIES_DIR = "rollback"  # under state_dir: STAMP-xxxx/<absolute path> of each replaced file


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
class FileRollback:
    """What rollback did to one file of the archive."""

    path: str
    action: str  # unchanged | replaced | created | attributes | failed
    detail: str = ""
    kept_copy: str | None = None
    previous: Attributes | None = None  # for the undo

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "action": self.action,
            "detail": self.detail,
            "kept_copy": self.kept_copy,
        }


@dataclass
class RollbackOutcome:
    archive: str | None = None
    files: list[FileRollback] = field(default_factory=list)
    copies_dir: str | None = None
    valid: bool = False
    undone: bool = False
    reload: str | None = None
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # newer archives that did not verify

    @property
    def ok(self) -> bool:
        return self.valid and not self.errors

    @property
    def changed(self) -> bool:
        return any(item.action in CHANGES for item in self.files)

    def paths(self, action: str) -> list[str]:
        return [item.path for item in self.files if item.action == action]

    def as_dict(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "files": [item.as_dict() for item in self.files],
            "replaced": self.paths("replaced"),
            "created": self.paths("created"),
            "unchanged": self.paths("unchanged"),
            "kept_aside": [item.kept_copy for item in self.files if item.kept_copy],
            "copies_dir": self.copies_dir,
            "valid": self.valid,
            "undone": self.undone,
            "reload": self.reload,
            "errors": self.errors,
            "skipped": self.skipped,
            "ok": self.ok,
        }


CHANGES = ("replaced", "created", "attributes")


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
    """Put back every file of the archive that differs from it (content, mode, and
    owner when root and the archive recorded it), validate, reload; undo if invalid."""
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    outcome = RollbackOutcome()
    path, notes = choose_archive(target, archive)
    if path is None:
        outcome.errors.extend(notes)
        return outcome
    outcome.skipped = notes
    outcome.archive = str(path)
    # Private scratch space: under the state directory when it exists, else the system's.
    parent = target.state_dir if target.state_dir.is_dir() else None
    staging = Path(tempfile.mkdtemp(prefix=f"rollback-{stamp}-", dir=parent)) / "files"
    copies = PrivateCopies(target.state_dir / COPIES_DIR, stamp)
    try:
        try:
            restored = restore_archive(path, staging)
        except BackupError as error:
            outcome.errors.append(str(error))
            return outcome
        if not restored.ok or restored.manifest is None:
            outcome.errors.extend(restored.problems or ["the archive has no manifest"])
            return outcome
        _put_in_place(restored.manifest, staging, copies, outcome)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)
        outcome.copies_dir = str(copies.directory) if copies.directory else None
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
    if reload is not None and outcome.changed:
        outcome.reload = reload()
    return outcome


def _put_in_place(
    manifest: dict[str, Any], staging: Path, copies: PrivateCopies, outcome: RollbackOutcome
) -> None:
    for directory in sorted(manifest.get("directories", []), key=lambda d: d["path"]):
        original = Path("/" + directory["path"])
        if not original.exists():
            original.mkdir(parents=True, mode=directory["mode"])
    for entry in manifest.get("files", []):
        original = Path("/" + entry["path"])
        try:
            outcome.files.append(_roll_back_one(staging / entry["path"], original, entry, copies))
        except OSError as error:
            reason = error.strerror or str(error)
            outcome.files.append(FileRollback(str(original), "failed", reason))
            outcome.errors.append(f"{original}: {reason}")
            return


def _roll_back_one(
    staged: Path, original: Path, entry: dict[str, Any], copies: PrivateCopies
) -> FileRollback:
    """Compare `original` with the archive's entry and change only what differs."""
    try:
        current = os.lstat(original)
    except FileNotFoundError:
        current = None
    if current is not None and not stat.S_ISREG(current.st_mode):
        raise OSError(0, "exists and is not a regular file; left alone")
    # Owners are put back only by root and only from archives that recorded them.
    manage_owner = os.geteuid() == 0 and "uid" in entry and "gid" in entry
    fallback = Attributes.of(current) if current else Attributes(0, os.geteuid(), os.getegid())
    wanted = Attributes(
        entry["mode"],
        entry["uid"] if manage_owner else fallback.uid,
        entry["gid"] if manage_owner else fallback.gid,
    )
    if current is None:
        replace_file(original, staged, wanted, owner=manage_owner)
        return FileRollback(str(original), "created", wanted.describe())
    previous = Attributes.of(current)
    same_content = current.st_size == entry["size"] and file_sha256(original) == entry["sha256"]
    differences = [] if same_content else ["content"]
    if previous.mode != wanted.mode:
        differences.append(f"mode {previous.mode:o} -> {wanted.mode:o}")
    if manage_owner and (previous.uid, previous.gid) != (wanted.uid, wanted.gid):
        differences.append(f"owner {previous.uid}:{previous.gid} -> {wanted.uid}:{wanted.gid}")
    if not differences:
        return FileRollback(str(original), "unchanged", "same content, mode and owner")
    if same_content:
        set_attributes(original, wanted, owner=manage_owner)
        return FileRollback(str(original), "attributes", ", ".join(differences), None, previous)
    copy = copies.keep(original)
    try:
        replace_file(original, staged, wanted, owner=manage_owner)
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return FileRollback(str(original), "replaced", ", ".join(differences), str(copy), previous)


def _undo(outcome: RollbackOutcome) -> None:
    """Put every changed file back as it was (content from its private copy, mode and
    owner from before); remove created ones. The copies go once all is back."""
    complete = True
    for item in reversed(outcome.files):
        path = Path(item.path)
        try:
            if item.action == "created":
                path.unlink(missing_ok=True)
            elif item.action == "replaced" and item.kept_copy and item.previous:
                replace_file(path, Path(item.kept_copy), item.previous, owner=True)
            elif item.action == "attributes" and item.previous:
                set_attributes(path, item.previous, owner=True)
        except OSError as error:
            complete = False
            outcome.errors.append(f"undo of {path} failed: {error.strerror or error}")
    if complete and outcome.copies_dir:
        shutil.rmtree(outcome.copies_dir, ignore_errors=True)
        outcome.copies_dir = None
        for item in outcome.files:
            item.kept_copy = None
    outcome.undone = True
