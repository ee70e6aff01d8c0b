"""`restore_test: SET`: the disaster-recovery test of a set's newest archive.

The archive is verified, extracted into a fresh temporary directory under the state
directory and every manifest entry is checked there (present, regular file, size,
mode, sha256). The result is recorded and shown by every reader of the status model;
the directory is removed.
Whatever goes wrong (an unwritable state directory, an unforeseen error) is recorded as
a failed test with its reason, so a broken restore is never silent.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hostkeeper.adapters.archive import BackupError, RestoreResult, restore_archive
from hostkeeper.adapters.fs import make_private_directory
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import record_restore_test
from hostkeeper.config import Config
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.backup import backup_set, sync_archives
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "restore_test"


@dataclass
class RestoreTest:
    backup_set: str
    archive: str | None
    ok: bool
    files_checked: int
    seconds: float
    problems: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.backup_set,
            "archive": self.archive,
            "ok": self.ok,
            "files_checked": self.files_checked,
            "seconds": round(self.seconds, 3),
            "problems": self.problems,
        }


def restore_test(config: Config, store: Store, name: str, now: datetime) -> RestoreTest:
    backup_set(config, name)
    archives = sync_archives(config, store, name)
    if not archives:
        test = RestoreTest(name, None, False, 0, 0.0, [f"set {name!r} has no archive to test"])
        _record(store, test, now)
        return test
    newest = archives[-1].path
    started = time.monotonic()
    try:
        result = _restore_in_scratch(config, name, newest)
    except Exception as error:  # any failure is the test's result, recorded
        result = RestoreResult(
            newest, Path(config.paths.state_dir), False, problems=[_crash(error)]
        )
    test = RestoreTest(
        name,
        str(newest),
        result.ok,
        result.files_checked,
        time.monotonic() - started,
        result.problems,
    )
    _record(store, test, now)
    return test


def _restore_in_scratch(config: Config, name: str, archive: Path) -> RestoreResult:
    scratch_parent = Path(config.paths.state_dir) / "restore-tests"
    make_private_directory(scratch_parent)
    scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch_parent))
    try:
        return restore_archive(archive, scratch / "root")
    except BackupError as error:
        return RestoreResult(archive, scratch, False, problems=[str(error)])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _crash(error: Exception) -> str:
    """A reason an operator can act on, for a failure restore_archive did not foresee."""
    if isinstance(error, OSError) and error.filename:
        return f"restore test could not run: {error.filename}: {error.strerror or error}"
    return f"restore test crashed: {type(error).__name__}: {error}"


def _record(store: Store, test: RestoreTest, now: datetime) -> None:
    record_restore_test(
        store,
        backup_set=test.backup_set,
        archive=test.archive or "",
        at=now,
        ok=test.ok,
        files_checked=test.files_checked,
        seconds=test.seconds,
        detail="; ".join(test.problems[:20]) or None,
    )


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    name: str = argument
    if ctx.dry_run:
        return StepOutcome(StepStatus.SKIPPED, f"dry run: would restore-test set {name}")
    test = restore_test(ctx.config, ctx.store, name, ctx.now())
    summary = (
        f"{Path(test.archive).name if test.archive else name}: "
        f"{test.files_checked} file(s) restored and checked in {test.seconds:.1f}s"
    )
    if not test.ok:
        return StepOutcome(
            StepStatus.FAILED, summary, error="; ".join(test.problems[:5]), details=test.as_dict()
        )
    return StepOutcome(StepStatus.SUCCEEDED, summary, details=test.as_dict())
