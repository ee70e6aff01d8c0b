"""`verify_backups [SET]`: re-hash the newest archive of each set (or of one set).

Verification re-hashes the whole archive against its `.sha256` sidecar and the hash
recorded at creation, then every member against the manifest. Results are recorded
per archive; any failure fails the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hostkeeper.adapters.archive import VerifyResult, parse_archive_name, verify_archive
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import archive_rows, record_archive, record_verification
from hostkeeper.config import Config
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.backup import backup_set, sync_archives
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "verify_backups"


@dataclass
class Verified:
    backup_set: str
    result: VerifyResult

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.backup_set,
            "archive": str(self.result.path),
            "ok": self.result.ok,
            "files": self.result.files,
            "problems": self.result.problems,
        }


def verify_path(store: Store, path: Path, now: datetime) -> Verified:
    """Verify one archive file and record the result (adopting it if unrecorded)."""
    parsed = parse_archive_name(path.name)
    name = parsed[0] if parsed else path.parent.name
    rows = archive_rows(store)
    row = rows.get(str(path))
    result = verify_archive(path, row["sha256"] if row and row["sha256"] else None)
    if row is None and parsed is not None and path.exists():
        record_archive(
            store,
            backup_set=name,
            path=str(path),
            created_at=parsed[1],
            size=path.stat().st_size,
            files=result.files,
            sha256=result.sha256,
        )
    elif row is not None and result.ok and not row["files"]:
        record_archive(
            store,
            backup_set=name,
            path=str(path),
            created_at=row["created_at"],
            size=row["size_bytes"],
            files=result.files,
            sha256=row["sha256"] or result.sha256,
        )
    record_verification(store, str(path), result.ok, result.detail, now)
    return Verified(name, result)


def verify(
    config: Config,
    store: Store,
    now: datetime,
    *,
    sets: list[str] | None = None,
    every_archive: bool = False,
    check: Any = None,
) -> list[Verified]:
    """The newest archive of each set (or every archive) verified and recorded."""
    names = sets if sets is not None else [b.name for b in config.backups]
    results = []
    for name in names:
        backup_set(config, name)
        archives = sync_archives(config, store, name)
        chosen = archives if every_archive else archives[-1:]
        for archive in chosen:
            if check:
                check()
            results.append(verify_path(store, archive.path, now))
    return results


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    sets = [argument] if argument else None
    results = verify(ctx.config, ctx.store, ctx.now(), sets=sets, check=ctx.check_cancelled)
    details = {"archives": [item.as_dict() for item in results]}
    empty = [
        b.name
        for b in ctx.config.backups
        if (sets is None or b.name in sets) and not any(r.backup_set == b.name for r in results)
    ]
    failed = [item for item in results if not item.result.ok]
    summary = f"{len(results) - len(failed)}/{len(results)} archive(s) verified"
    if empty:
        summary += f"; no archive yet for {', '.join(empty)}"
    if failed:
        error = "; ".join(f"{item.result.path.name}: {item.result.detail}" for item in failed)
        return StepOutcome(StepStatus.FAILED, summary, error=error, details=details)
    status = StepStatus.WARNING if empty else StepStatus.SUCCEEDED
    return StepOutcome(status, summary, details=details)
