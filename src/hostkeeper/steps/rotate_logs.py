"""`rotate_logs [NAME]`: rotate the configured logs (what logrotate does, more carefully).

Per policy: find the live logs, plan (core.rotation) from their sizes, the store's
rotation state and the generations beside them, then apply under the files lock:
remove leftovers of an interrupted run, shift the generations, rename the live log
(`create`) or copy and truncate it (`copytruncate`), run `after_rotate` once, compress
generations that no process still has open, and delete those beyond `keep`. The
rotation state is written for a log only after its rotation succeeded.

Kept whole: plan, rename or copytruncate, compress and prune run under one files lock
and share its descriptors.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import signal
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hostkeeper.adapters.commands import run_command
from hostkeeper.adapters.compress import CompressJob, compress_many, remove_compressed_sources
from hostkeeper.adapters.daemon_state import read_state
from hostkeeper.adapters.fs import TEMP_SUFFIX, UnsafeRoot, fsync_directory, open_files, open_root
from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import (
    FileActionCounts,
    last_rotations,
    record_file_action,
    record_rotations,
)
from hostkeeper.config import Config
from hostkeeper.config.files import LogPolicy, RotateMode
from hostkeeper.core.rotation import (
    LogPlan,
    LogState,
    generation_base,
    group_generations,
    plan_log,
)
from hostkeeper.core.runs import StepStatus
from hostkeeper.steps.context import StepContext, StepOutcome
from hostkeeper.steps.file_locks import DEFAULT_WAIT_SECONDS, files_lock_path, waiting_lock

NAME = "rotate_logs"

AFTER_ROTATE_TIMEOUT = 120.0
# After the reload, writers get this long to reopen before a rotated file they still
# hold open is left uncompressed (it is compressed by a later run instead).
REOPEN_WAIT_SECONDS = 5.0
GZIP_LEVEL = 6


@dataclass
class LogOutcome:
    plan: LogPlan
    rotated: bool = False
    compressed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # still open by a writer
    bytes_freed: int = 0
    bytes_grown: int = 0  # by compressing files too small to shrink
    errors: list[str] = field(default_factory=list)


@dataclass
class PolicyOutcome:
    policy: str
    logs: list[LogOutcome] = field(default_factory=list)
    after_rotate: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def all_errors(self) -> list[str]:
        return self.errors + [e for log in self.logs for e in log.errors]

    def counts(self) -> FileActionCounts:
        return FileActionCounts(
            rotated=sum(log.rotated for log in self.logs),
            compressed=sum(len(log.compressed) for log in self.logs),
            deleted=sum(len(log.deleted) for log in self.logs),
            bytes_freed=sum(log.bytes_freed for log in self.logs),
            errors=len(self.all_errors),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "after_rotate": self.after_rotate,
            "errors": self.all_errors,
            "logs": [
                {
                    "path": log.plan.path,
                    "rotate": log.plan.rotate,
                    "reason": log.plan.reason,
                    "size": log.plan.size,
                    "rotate_to": log.plan.rotate_to,
                    "renames": [list(pair) for pair in log.plan.renames],
                    "compress": list(log.plan.compress),
                    "delete": list(log.plan.discard + log.plan.delete),
                    "rotated": log.rotated,
                    "compressed": log.compressed,
                    "deleted": log.deleted,
                    "bytes_freed": log.bytes_freed,
                    "bytes_grown": log.bytes_grown,
                    "deferred": log.deferred,
                    "errors": log.errors,
                }
                for log in self.logs
            ],
        }


# -- finding the logs ------------------------------------------------------------------


def live_logs(policy: LogPolicy) -> tuple[list[str], list[str]]:
    """(live log paths, problems) for a policy's `paths` globs.

    Symlinks are refused; rotated generations and temp files matched by a broad glob
    (`*`) are not logs of their own.
    """
    problems: list[str] = []
    candidates: list[str] = []
    for pattern in policy.paths:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches and not policy.missing_ok:
            problems.append(f"{pattern}: no such file")
        for path in matches:
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                if not policy.missing_ok:
                    problems.append(f"{path}: no such file")
                continue
            if stat.S_ISLNK(info.st_mode):
                problems.append(f"{path}: is a symlink, not rotated")
            elif stat.S_ISREG(info.st_mode) and path not in candidates:
                candidates.append(path)
    candidates = _in_safe_directories(candidates, problems)
    names = {(os.path.dirname(path), Path(path).name) for path in candidates}
    live = []
    for path in candidates:
        directory, name = os.path.dirname(path), Path(path).name
        if name.endswith((".gz", TEMP_SUFFIX, ".tmp")):
            continue
        base = generation_base(name, policy.naming)
        if base is not None and (directory, base) in names:
            continue  # a generation of another matched log
        live.append(path)
    return live, problems


def _in_safe_directories(paths: list[str], problems: list[str]) -> list[str]:
    """The paths whose directory the rotation can open (`open_root`: not a symlink, a
    directory); one problem per refused directory, not one per log in it. A dry run
    calls this too, so it plans exactly the logs that a real run rotates."""
    refused: dict[str, str] = {}
    for directory in dict.fromkeys(os.path.dirname(path) for path in paths):
        try:
            os.close(open_root(directory or "."))
        except UnsafeRoot as error:
            refused[directory] = str(error)
    for directory, reason in refused.items():
        count = sum(1 for path in paths if os.path.dirname(path) == directory)
        problems.append(f"{reason}; its {count} log(s) are not rotated")
    return [path for path in paths if os.path.dirname(path) not in refused]


def log_states(policy: LogPolicy, paths: list[str], store: Store) -> list[LogState]:
    last = last_rotations(store, policy.name)
    listings: dict[str, dict[str, tuple[str, ...]]] = {}
    states = []
    for path in paths:
        directory = os.path.dirname(path) or "."
        if directory not in listings:
            listings[directory] = group_generations(_regular_files(directory), policy.naming)
        try:
            size = os.lstat(path).st_size
        except FileNotFoundError:
            continue
        absolute = os.path.abspath(path)
        generations = listings[directory].get(os.path.basename(path), ())
        states.append(LogState(absolute, size, last.get(absolute), generations))
    return states


def _regular_files(directory: str) -> tuple[str, ...]:
    """Names of the regular files in `directory` (a generation is never a link or dir)."""
    try:
        with os.scandir(directory) as entries:
            return tuple(e.name for e in entries if e.is_file(follow_symlinks=False))
    except OSError:
        return ()


# -- applying --------------------------------------------------------------------------


def rotate(
    config: Config,
    store: Store,
    *,
    names: list[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
    now: datetime,
    run_id: int | None = None,
    check: Any = None,
    log: Any = None,
    lock_wait: float = DEFAULT_WAIT_SECONDS,
    reload_self: Callable[[], str] | None = None,
) -> list[PolicyOutcome]:
    """Rotate the named policies (all without names); dry_run only plans.

    Raises LockHeld when another rotation or cleanup holds the lock past `lock_wait`.
    """
    zone = ZoneInfo(config.timezone)
    policies = [p for p in config.logs if names is None or p.name in names]
    outcomes: list[PolicyOutcome] = []
    with contextlib.ExitStack() as stack:
        if not dry_run:
            stack.enter_context(waiting_lock(files_lock_path(config), lock_wait, check))
        for policy in policies:
            outcome = PolicyOutcome(policy.name)
            paths, outcome.errors = live_logs(policy)
            plans = [
                plan_log(policy, s, now, zone, force) for s in log_states(policy, paths, store)
            ]
            outcome.logs = [LogOutcome(plan) for plan in plans]
            if not dry_run:
                _apply_policy(config, store, policy, outcome, now, check, reload_self)
                record_file_action(
                    store,
                    kind="rotate",
                    policy=policy.name,
                    at=now,
                    counts=outcome.counts(),
                    run_id=run_id,
                    detail=outcome.as_dict(),
                )
            if log is not None:
                log.info(
                    "rotation",
                    policy=policy.name,
                    dry_run=dry_run,
                    rotated=[o.plan.path for o in outcome.logs if o.plan.rotate],
                    errors=outcome.all_errors,
                )
            outcomes.append(outcome)
    return outcomes


def _apply_policy(
    config: Config,
    store: Store,
    policy: LogPolicy,
    outcome: PolicyOutcome,
    now: datetime,
    check: Any,
    reload_self: Callable[[], str] | None,
) -> None:
    rotated: list[LogOutcome] = []
    fds: dict[str, int] = {}
    try:
        for item in outcome.logs:
            if check:
                check()
            directory = os.path.dirname(item.plan.path)
            try:
                if directory not in fds:
                    fds[directory] = open_root(directory)
                    _remove_leftovers(fds[directory], outcome.logs, policy.naming)
                _rotate_one(policy, item, fds[directory])
            except (OSError, UnsafeRoot) as error:
                text = error.strerror if isinstance(error, OSError) else None
                item.errors.append(f"{item.plan.path}: {text or error}")
                continue
            if item.rotated:
                rotated.append(item)
        for fd in fds.values():
            fsync_directory(fd)  # the renames are durable before anyone is told
    finally:
        for fd in fds.values():
            os.close(fd)
    if rotated and policy.after_rotate != "none":
        outcome.after_rotate = _after_rotate(config, policy, reload_self)
        if outcome.after_rotate.startswith("failed"):
            outcome.errors.append(f"after_rotate {outcome.after_rotate}")
    record_rotations(store, policy.name, [(i.plan.path, i.plan.size) for i in rotated], now)
    _compress_and_prune(policy, outcome.logs, wait=bool(rotated), check=check)


def _remove_leftovers(dir_fd: int, logs: list[LogOutcome], naming: str) -> None:
    """Temp files an interrupted run left for this policy's logs in one directory:
    `NAME.gz.tmp` of a generation, `.NAME.tmp` of a copytruncate copy."""
    log_names = {os.path.basename(item.plan.path) for item in logs}
    for name in os.listdir(dir_fd):
        if name.endswith(TEMP_SUFFIX):
            inner = name[: -len(TEMP_SUFFIX)]
        elif name.startswith(".") and name.endswith(".tmp"):
            inner = name[1:-4]
        else:
            continue
        if generation_base(inner, naming) in log_names:
            _unlink_regular(dir_fd, name)


def _rotate_one(policy: LogPolicy, item: LogOutcome, fd: int) -> None:
    """Duplicates, the shift and the rename (or copy and truncate) of one log."""
    plan = item.plan
    log_name = os.path.basename(plan.path)
    for name in plan.discard:
        _unlink_regular(fd, name)
    if not plan.rotate or plan.rotate_to is None:
        return
    if policy.mode is RotateMode.COPYTRUNCATE:  # refused before any generation moves
        _refuse_hard_links(log_name, os.stat(log_name, dir_fd=fd, follow_symlinks=False))
    for old, new in plan.renames:
        _rename_no_replace(fd, old, new)
    if policy.mode is RotateMode.COPYTRUNCATE:
        _copy_truncate(fd, log_name, plan.rotate_to)
    else:
        _rename_and_create(fd, log_name, plan.rotate_to)
    item.rotated = True


def _unlink_regular(dir_fd: int, name: str) -> bool:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    os.unlink(name, dir_fd=dir_fd)
    return True


def _rename_no_replace(dir_fd: int, old: str, new: str) -> None:
    try:
        os.stat(new, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(old, new, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    raise OSError(errno.EEXIST, f"{new} already exists; not overwritten")


def _rename_and_create(dir_fd: int, log_name: str, rotate_to: str) -> None:
    info = os.stat(log_name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, f"{log_name} is not a regular file")
    _rename_no_replace(dir_fd, log_name, rotate_to)
    try:
        fd = os.open(
            log_name,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            stat.S_IMODE(info.st_mode),
            dir_fd=dir_fd,
        )
    except FileExistsError:
        return  # the writer already opened a new one
    try:
        if os.geteuid() == 0:
            with contextlib.suppress(OSError):
                os.fchown(fd, info.st_uid, info.st_gid)
        os.fchmod(fd, stat.S_IMODE(info.st_mode))
    finally:
        os.close(fd)


def _refuse_hard_links(log_name: str, info: os.stat_result) -> None:
    """Another name of the same file may live outside the log directory: truncating it
    would empty a file the policy does not own."""
    if info.st_nlink > 1:
        raise OSError(
            errno.EMLINK,
            f"{log_name} has {info.st_nlink} hard links; copytruncate does not truncate a "
            "file with other names (remove the extra links, or use mode: create)",
        )


def _copy_truncate(dir_fd: int, log_name: str, rotate_to: str) -> None:
    """Copy the live log to `rotate_to` (temp, fsync, rename), then truncate it.

    Lines written between the end of the copy and the truncation are lost: that is why
    copytruncate is opt-in.
    """
    source = os.open(log_name, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    temp = f".{rotate_to}.tmp"
    try:
        info = os.fstat(source)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"{log_name} is not a regular file")
        _refuse_hard_links(log_name, info)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)
        target = os.open(
            temp,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            stat.S_IMODE(info.st_mode),
            dir_fd=dir_fd,
        )
        try:
            while data := os.read(source, 1 << 20):
                view = memoryview(data)
                while view:
                    view = view[os.write(target, view) :]
            os.fsync(target)
        finally:
            os.close(target)
        _rename_no_replace(dir_fd, temp, rotate_to)
        os.ftruncate(source, 0)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    finally:
        os.close(source)


def _after_rotate(config: Config, policy: LogPolicy, reload_self: Callable[[], str] | None) -> str:
    if policy.after_rotate == "reload":
        return reload_daemon(config, reload_self)
    argv = list(policy.after_rotate)
    result = run_command(argv, timeout=AFTER_ROTATE_TIMEOUT)
    if result.ok:
        return f"ran {argv[0]}"
    return f"failed: {argv[0]} {result.describe_failure()}"


def reload_daemon(config: Config, reload_self: Callable[[], str] | None = None) -> str:
    """Ask the running daemon to reload; a description.

    `reload_self` is given when this step runs inside the daemon (StepContext.reload_daemon):
    the daemon reloads itself without a signal. Otherwise the daemon recorded in
    state_dir/daemon.json gets a SIGHUP.
    """
    if reload_self is not None:
        return reload_self()
    state = read_state(config.paths.state_dir)
    if not state or not state.get("running"):
        return "no running daemon to reload"
    pid = int(state["pid"])
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError as error:
        return f"failed: cannot signal pid {pid}: {error.strerror}"
    return f"reloaded the daemon (pid {pid})"


# Complexity ceiling exception (C901): descriptors held across compress and prune so a rename race
# cannot redirect them.
def _compress_and_prune(  # noqa: C901
    policy: LogPolicy, logs: list[LogOutcome], *, wait: bool, check: Any
) -> None:
    fds: dict[str, int] = {}
    try:
        jobs: list[tuple[LogOutcome, CompressJob, os.stat_result]] = []
        for item in logs:
            if item.plan.rotate and not item.rotated:
                continue  # its rotation failed: the planned names do not exist
            directory = os.path.dirname(item.plan.path)
            if directory not in fds:
                try:
                    fds[directory] = open_root(directory)
                except UnsafeRoot as error:
                    item.errors.append(str(error))
                    continue
            fd = fds[directory]
            for name in item.plan.compress:
                try:
                    info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    jobs.append((item, CompressJob(fd, name, size=info.st_size), info))
        jobs = _without_open_files(jobs, wait)
        done, failed = compress_many(
            [job for _item, job, _info in jobs], level=GZIP_LEVEL, check=check
        )
        owners = {(job.dir_fd, job.name): item for item, job, _info in jobs}
        by_name = {job.name: item for item, job, _info in jobs}
        for name, problem in failed:
            by_name[name].errors.append(problem)
        kept = {name for name, _reason in remove_compressed_sources(done)}
        for result in done:
            item = owners[(result.dir_fd, result.name)]
            if result.name not in kept:
                item.compressed.append(result.name)
                item.bytes_freed += result.bytes_freed
                item.bytes_grown += result.bytes_grown
        for item in logs:
            fd_or_none = fds.get(os.path.dirname(item.plan.path))
            if fd_or_none is None or (item.plan.rotate and not item.rotated):
                continue
            for name in item.plan.delete:
                with contextlib.suppress(FileNotFoundError):
                    size = os.stat(name, dir_fd=fd_or_none, follow_symlinks=False).st_size
                    if _unlink_regular(fd_or_none, name):
                        item.deleted.append(name)
                        item.bytes_freed += size
        for fd in fds.values():
            fsync_directory(fd)
    finally:
        for fd in fds.values():
            os.close(fd)


def _without_open_files(
    jobs: list[tuple[LogOutcome, CompressJob, os.stat_result]], wait: bool
) -> list[tuple[LogOutcome, CompressJob, os.stat_result]]:
    """Drop jobs whose file a process still holds open (after waiting a little for
    writers to reopen after a reload); those are compressed by a later run."""
    if not jobs:
        return jobs
    deadline = time.monotonic() + (REOPEN_WAIT_SECONDS if wait else 0.0)
    while True:
        busy = open_files()
        held = [job for job in jobs if (job[2].st_dev, job[2].st_ino) in busy]
        if not held or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    for item, job, _info in held:
        item.deferred.append(job.name)
    return [job for job in jobs if job not in held]


# -- the step --------------------------------------------------------------------------


def summarize(outcomes: list[PolicyOutcome]) -> str:
    rotated = sum(o.counts().rotated for o in outcomes)
    compressed = sum(o.counts().compressed for o in outcomes)
    deleted = sum(o.counts().deleted for o in outcomes)
    text = f"rotated {rotated} log(s), compressed {compressed}, deleted {deleted}"
    deferred = sum(len(log.deferred) for o in outcomes for log in o.logs)
    if deferred:
        text += f", {deferred} left uncompressed while still open"
    return text


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    names = [argument] if argument else None
    outcomes = rotate(
        ctx.config,
        ctx.store,
        names=names,
        dry_run=ctx.dry_run,
        now=ctx.now(),
        run_id=ctx.run_id,
        check=ctx.check_cancelled,
        log=ctx.log,
        reload_self=ctx.reload_daemon,
    )
    details = {"policies": [outcome.as_dict() for outcome in outcomes]}
    if ctx.dry_run:
        due = sum(log.plan.rotate for o in outcomes for log in o.logs)
        return StepOutcome(StepStatus.SKIPPED, f"dry run: {due} log(s) due", details=details)
    errors = [error for outcome in outcomes for error in outcome.all_errors]
    if errors:
        return StepOutcome(
            StepStatus.FAILED, summarize(outcomes), error="; ".join(errors[:5]), details=details
        )
    return StepOutcome(StepStatus.SUCCEEDED, summarize(outcomes), details=details)
