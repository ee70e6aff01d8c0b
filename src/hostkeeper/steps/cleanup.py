"""`cleanup [NAME]`: apply cleanup policies (compress old files, delete older ones).

The sweep (adapters.sweep) never follows a symlink, never leaves the policy's `path`
and never crosses into another filesystem; the rule (core.cleanup) is pure; this module
applies it directory by directory, stat'ing each file right before judging and acting
on it, and records freed bytes and counts per policy and run.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hostkeeper.adapters.compress import CompressJob, compress_many, remove_compressed_sources
from hostkeeper.adapters.fs import (
    Candidate,
    FileEntry,
    UnsafeRoot,
    WalkProblems,
    delete_entry,
    file_entry,
    open_files,
    open_relative_directory,
    open_root,
    walk_files,
)
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import FileActionCounts, record_file_action
from hostkeeper.adapters.sweep import default_workers, lstat_at, sweep, unlink_at
from hostkeeper.config import Config
from hostkeeper.config.environment import made_by_hostkeeper
from hostkeeper.config.files import CleanupPolicy
from hostkeeper.core.cleanup import (
    CleanupAction,
    CleanupKind,
    CleanupPlan,
    CleanupRule,
    NameClass,
)
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome
from hostkeeper.steps.file_locks import DEFAULT_WAIT_SECONDS, files_lock_path, waiting_lock

NAME = "cleanup"

GZIP_LEVEL = 6


@dataclass
class CleanupOutcome:
    policy: str
    path: str
    plan: CleanupPlan[FileEntry] | None = None  # kept by dry runs, to print
    planned: int = 0  # files the policy acted on (or would have)
    deleted: int = 0
    compressed: int = 0
    bytes_freed: int = 0
    bytes_grown: int = 0  # by compressing files too small to shrink
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not acted on, why
    errors: list[str] = field(default_factory=list)
    missing: bool = False  # the policy's path does not exist

    def counts(self) -> FileActionCounts:
        return FileActionCounts(
            compressed=self.compressed,
            deleted=self.deleted,
            bytes_freed=self.bytes_freed,
            errors=len(self.errors),
        )

    def as_dict(self, actions: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "policy": self.policy,
            "path": self.path,
            "deleted": self.deleted,
            "compressed": self.compressed,
            "bytes_freed": self.bytes_freed,
            "bytes_grown": self.bytes_grown,
            "missing": self.missing,
            "skipped": [list(item) for item in self.skipped[:100]],
            "errors": self.errors[:100],
        }
        if actions and self.plan is not None:
            data["actions"] = [
                {"action": a.kind.value, "path": a.relpath, "bytes": a.bytes, "why": a.reason}
                for a in self.plan.actions
            ]
        return data


def _rule(policy: CleanupPolicy, now: datetime) -> CleanupRule:
    return CleanupRule.of(
        match=policy.match,
        compress_after=policy.compress_after,
        delete_after=policy.delete_after,
        now=now,
    )


def plan_policy(policy: CleanupPolicy, root_fd: int, now: datetime) -> tuple[Any, WalkProblems]:
    """The whole plan of one policy, walking everything first (tests of plans made
    ahead of acting)."""
    rule = _rule(policy, now)
    problems = WalkProblems()
    inventory = walk_files(
        root_fd,
        include=lambda name: rule.classify(name) is not None,
        recursive=policy.recursive,
        problems=problems,
    )
    return rule.plan(inventory), problems


@dataclass
class _DirectoryResult:
    """What one directory's sweep did (made on a sweep thread, merged on the caller's)."""

    planned: list[CleanupAction[FileEntry]] = field(default_factory=list)
    to_compress: list[CleanupAction[FileEntry]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    acted: int = 0
    deleted: int = 0
    freed: int = 0


def _sweep_directory(
    rule: CleanupRule,
    dry_run: bool,
    dir_fd: int,
    directory: str,
    candidates: list[Candidate[NameClass]],
) -> _DirectoryResult:
    """Judge and delete one directory's files.

    Each file is stat'ed right before the rule (the pure rule `plan_cleanup` applies to
    a whole inventory) decides on it, and a deletion follows that stat at once.
    Compressions are only collected: they run after the sweep and re-check each file.
    """
    done = _DirectoryResult()
    prefix = directory + "/" if directory else ""
    decide, compress = rule.decide, CleanupKind.COMPRESS
    acted = deleted = freed = 0
    for _ino, name, covered in candidates:
        info = lstat_at(dir_fd, name)
        if isinstance(info, str):
            done.skipped.append((prefix + name, info))
            continue
        kind = decide(covered, info.st_mtime)
        if kind is None:
            continue
        acted += 1
        if dry_run or kind is compress:
            entry = file_entry(info, prefix, name, directory)
            (done.planned if dry_run else done.to_compress).append(rule.action(kind, entry))
            continue
        try:
            reason = unlink_at(dir_fd, name)
        except OSError as error:
            done.errors.append(f"{prefix + name}: {error.strerror}")
            continue
        if reason:
            done.skipped.append((prefix + name, reason))
        else:
            deleted += 1
            freed += info.st_size
    done.acted, done.deleted, done.freed = acted, deleted, freed
    return done


def _clean_policy(
    policy: CleanupPolicy,
    root_fd: int,
    now: datetime,
    outcome: CleanupOutcome,
    dry_run: bool,
    check: Any,
) -> None:
    """Sweep the policy's tree (directories on parallel threads), then compress."""
    rule = _rule(policy, now)
    planned: list[CleanupAction[FileEntry]] = []  # dry runs keep every action to print
    to_compress: list[CleanupAction[FileEntry]] = []
    problems: list[tuple[str, str]] = []
    results = sweep(
        root_fd,
        rule.classify,
        functools.partial(_sweep_directory, rule, dry_run),
        recursive=policy.recursive,
        workers=default_workers(),
        skipped=problems,
        check=check,
    )
    for result in results:
        planned += result.planned
        to_compress += result.to_compress
        outcome.skipped += result.skipped
        outcome.errors += result.errors
        outcome.planned += result.acted
        outcome.deleted += result.deleted
        outcome.bytes_freed += result.freed
    if dry_run:
        planned.sort(key=lambda action: action.item.relpath)
        outcome.plan = CleanupPlan(planned)
    outcome.skipped += problems
    if to_compress:
        _apply(root_fd, CleanupPlan(to_compress), outcome, check)


def _delete(dir_fd: int, action: CleanupAction[FileEntry], outcome: CleanupOutcome) -> None:
    try:
        reason = delete_entry(dir_fd, action.item)
    except OSError as error:
        outcome.errors.append(f"{action.relpath}: {error.strerror}")
        return
    if reason:
        outcome.skipped.append((action.relpath, reason))
    else:
        outcome.deleted += 1
        outcome.bytes_freed += action.item.size


def clean(
    config: Config,
    store: Store,
    *,
    names: list[str] | None = None,
    dry_run: bool = False,
    now: datetime,
    run_id: int | None = None,
    check: Any = None,
    log: Any = None,
    lock_wait: float = DEFAULT_WAIT_SECONDS,
) -> list[CleanupOutcome]:
    """Apply (or with dry_run only plan) the named policies, all without names.

    Raises LockHeld when another rotation or cleanup holds the lock past `lock_wait`.
    """
    policies = [p for p in config.cleanup if names is None or p.name in names]
    outcomes = []
    with contextlib.ExitStack() as stack:
        if not dry_run:
            stack.enter_context(waiting_lock(files_lock_path(config), lock_wait, check))
        for policy in policies:
            outcome = CleanupOutcome(policy.name, policy.path)
            if not os.path.lexists(policy.path):
                # Nothing to clean. Under hostkeeper's own directories that is a fresh
                # install (the first report makes it); elsewhere the application is not
                # installed here: worth a warning, not a failed weekly run.
                if made_by_hostkeeper(config, policy.path):
                    outcome.skipped.append((policy.path, "not created yet; nothing to clean"))
                else:
                    outcome.missing = True
                    outcome.skipped.append((policy.path, "does not exist; nothing to clean"))
                outcomes.append(outcome)
                continue
            try:
                root_fd = open_root(policy.path)
            except UnsafeRoot as error:
                outcome.errors.append(str(error))
                outcomes.append(outcome)
                continue
            try:
                _clean_policy(policy, root_fd, now, outcome, dry_run, check)
            finally:
                os.close(root_fd)
            if not dry_run:
                record_file_action(
                    store,
                    kind="cleanup",
                    policy=policy.name,
                    at=now,
                    counts=outcome.counts(),
                    run_id=run_id,
                    detail=outcome.as_dict(actions=False),
                )
            if log is not None:
                log.info(
                    "cleanup",
                    policy=policy.name,
                    dry_run=dry_run,
                    actions=outcome.planned,
                    deleted=outcome.deleted,
                    compressed=outcome.compressed,
                    bytes_freed=outcome.bytes_freed,
                    errors=len(outcome.errors),
                )
            outcomes.append(outcome)
    return outcomes


def _apply(root_fd: int, plan: CleanupPlan[FileEntry], outcome: CleanupOutcome, check: Any) -> None:
    by_directory: dict[str, list[CleanupAction[FileEntry]]] = defaultdict(list)
    for action in plan.actions:
        by_directory[action.item.directory].append(action)
    fds: list[int] = []
    jobs: list[CompressJob] = []
    try:
        for directory, actions in by_directory.items():
            if check:
                check()
            try:
                dir_fd = open_relative_directory(root_fd, directory)
            except OSError as error:
                for action in actions:
                    outcome.skipped.append((action.relpath, f"directory: {error.strerror}"))
                continue
            fds.append(dir_fd)
            for action in actions:
                if action.kind is CleanupKind.COMPRESS:
                    jobs.append(CompressJob(dir_fd, action.item.name, action.item, action.bytes))
                    continue
                _delete(dir_fd, action, outcome)
        _compress(jobs, outcome, check)
    finally:
        for fd in fds:
            os.close(fd)


def _compress(jobs: list[CompressJob], outcome: CleanupOutcome, check: Any) -> None:
    if not jobs:
        return
    busy = open_files()
    ready = []
    for job in jobs:
        entry = job.expected
        if entry is not None and (entry.dev, entry.ino) in busy:
            outcome.skipped.append((entry.relpath, "open by a process; not compressed"))
        else:
            ready.append(job)
    done, failed = compress_many(ready, level=GZIP_LEVEL, check=check)
    for _name, error in failed:
        outcome.skipped.append((_name, error))
    kept = {name for name, _reason in remove_compressed_sources(done)}
    for result in done:
        if result.name in kept:
            outcome.skipped.append((result.name, "changed after compression; kept"))
            continue
        outcome.compressed += 1
        outcome.bytes_freed += result.bytes_freed
        outcome.bytes_grown += result.bytes_grown


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    outcomes = clean(
        ctx.config,
        ctx.store,
        names=[argument] if argument else None,
        dry_run=ctx.dry_run,
        now=ctx.now(),
        run_id=ctx.run_id,
        check=ctx.check_cancelled,
        log=ctx.log,
    )
    details = {"policies": [outcome.as_dict(actions=ctx.dry_run) for outcome in outcomes]}
    if ctx.dry_run:
        planned = sum(len(o.plan.actions) for o in outcomes if o.plan)
        return StepOutcome(StepStatus.SKIPPED, f"dry run: {planned} action(s)", details=details)
    summary = (
        f"deleted {sum(o.deleted for o in outcomes)}, compressed "
        f"{sum(o.compressed for o in outcomes)}, freed "
        f"{sum(o.bytes_freed for o in outcomes) / 1_048_576:.1f} MB"
    )
    errors = [error for outcome in outcomes for error in outcome.errors]
    if errors:
        return StepOutcome(StepStatus.FAILED, summary, error="; ".join(errors[:5]), details=details)
    missing = [outcome.path for outcome in outcomes if outcome.missing]
    if missing:
        summary += f"; missing: {', '.join(missing)}"
        return StepOutcome(StepStatus.WARNING, summary, details=details)
    return StepOutcome(StepStatus.SUCCEEDED, summary, details=details)
