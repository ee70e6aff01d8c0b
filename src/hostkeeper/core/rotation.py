"""Log rotation plans: is a log due, what its rotated generations become, and why.

Given a policy, one live log (size, when it was last rotated), the names of its
existing generations and `now`, the plan says which renames shift the generations, the
new generation's name, what to compress and what falls beyond `keep`. Generations are
ranked newest first (numbered: `.1` is newest; dated: the latest stamp), so a gap left
by an interrupted run never costs a generation. Periods are calendar periods in the
configured time zone, as logrotate's daily/weekly/monthly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Protocol


class RotateEvery(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    SIZE = "size"


class LogPolicy(Protocol):
    """What rotation planning reads of a `logs:` policy (config.files.LogPolicy)."""

    @property
    def rotate(self) -> RotateEvery: ...
    @property
    def max_size(self) -> int | None: ...
    @property
    def keep(self) -> int: ...
    @property
    def compress(self) -> bool: ...
    @property
    def delay_compress(self) -> bool: ...
    @property
    def naming(self) -> str: ...


GZ = ".gz"


@dataclass(frozen=True)
class Generation:
    """A rotated file of one log: `name` in the log's directory."""

    name: str
    key: str  # numbered: the number, zero-padded (1 is newest); dated: the stamp
    compressed: bool

    @property
    def base(self) -> str:
        return self.name[: -len(GZ)] if self.compressed else self.name


_NUMBERED = re.compile(r"^\.(\d{1,6})(\.gz)?$")
_DATED = re.compile(r"^-(\d{8}(?:-\d{6})?)(\.gz)?$")


_NUMBERED_NAME = re.compile(r"^(.+)\.\d{1,6}(?:\.gz)?$")
_DATED_NAME = re.compile(r"^(.+)-\d{8}(?:-\d{6})?(?:\.gz)?$")


def generation_base(file_name: str, naming: str) -> str | None:
    """The log name `file_name` would be a generation of (`app.log.3.gz` -> `app.log`)."""
    match = (_NUMBERED_NAME if naming == "numbered" else _DATED_NAME).match(file_name)
    return match.group(1) if match else None


def group_generations(file_names: Iterable[str], naming: str) -> dict[str, tuple[str, ...]]:
    """File names of a directory grouped by the log they may be generations of."""
    groups: dict[str, list[str]] = {}
    for name in file_names:
        base = generation_base(name, naming)
        if base is not None:
            groups.setdefault(base, []).append(name)
    return {base: tuple(names) for base, names in groups.items()}


def parse_generation(log_name: str, file_name: str, naming: str) -> Generation | None:
    """The generation `file_name` is of `log_name`, or None if it is not one."""
    if not file_name.startswith(log_name) or file_name == log_name:
        return None
    rest = file_name[len(log_name) :]
    pattern = _NUMBERED if naming == "numbered" else _DATED
    match = pattern.match(rest)
    if match is None:
        return None
    key = match.group(1).zfill(6) if naming == "numbered" else match.group(1)
    return Generation(file_name, key, match.group(2) is not None)


@dataclass(frozen=True)
class LogState:
    """What the plan is made from for one live log."""

    path: str  # absolute path of the live log
    size: int
    last_rotated: datetime | None
    generation_names: tuple[str, ...] = ()  # file names beside it that may be generations


@dataclass(frozen=True)
class LogPlan:
    path: str
    rotate: bool
    reason: str
    size: int
    rotate_to: str | None = None  # the new generation's file name
    discard: tuple[str, ...] = ()  # duplicates removed first, before any rename
    renames: tuple[tuple[str, str], ...] = ()  # in this order, before rotate_to
    compress: tuple[str, ...] = ()  # generation names after the renames
    delete: tuple[str, ...] = ()  # generation names after the renames
    kept: tuple[str, ...] = field(default=())

    @property
    def has_work(self) -> bool:
        return self.rotate or bool(self.compress or self.delete or self.discard)


def rotation_due(
    policy: LogPolicy,
    size: int,
    last_rotated: datetime | None,
    now: datetime,
    zone: tzinfo,
    force: bool = False,
) -> tuple[bool, str]:
    """Whether a log of `size` bytes is due, and the reason in words."""
    if size == 0:
        return False, "empty"
    if force:
        return True, "forced"
    if policy.max_size is not None and size > policy.max_size:
        return True, f"{size} bytes, over max_size {policy.max_size}"
    if policy.rotate is RotateEvery.SIZE:
        return False, "within max_size"
    if last_rotated is None:
        return True, f"{policy.rotate.value}: never rotated"
    last = last_rotated.astimezone(zone)
    current = now.astimezone(zone)
    if policy.rotate is RotateEvery.DAILY:
        due = current.date() > last.date()
    elif policy.rotate is RotateEvery.WEEKLY:
        due = tuple(current.isocalendar()[:2]) > tuple(last.isocalendar()[:2])
    else:
        due = (current.year, current.month) > (last.year, last.month)
    when = last.strftime("%Y-%m-%d %H:%M %Z")
    if due:
        return True, f"{policy.rotate.value}: last rotated {when}"
    return False, f"{policy.rotate.value}: already rotated {when}"


def _newest_first(generations: Iterable[Generation], naming: str) -> list[Generation]:
    if naming == "numbered":
        return sorted(generations, key=lambda g: int(g.key))
    return sorted(generations, key=lambda g: g.key, reverse=True)


def plan_log(
    policy: LogPolicy,
    state: LogState,
    now: datetime,
    zone: tzinfo,
    force: bool = False,
) -> LogPlan:
    """The plan for one live log."""
    log_name = state.path.rpartition("/")[2]
    generations = [
        generation
        for name in state.generation_names
        if (generation := parse_generation(log_name, name, policy.naming)) is not None
    ]
    # After a crash between renaming `x.gz` into place and removing `x`, both exist: the
    # plain file is the authority and the duplicate `.gz` goes.
    by_base: dict[str, Generation] = {}
    duplicates: list[str] = []
    for generation in sorted(generations, key=lambda g: g.compressed):
        if generation.base in by_base:
            duplicates.append(generation.name)
        else:
            by_base[generation.base] = generation
    ordered = _newest_first(by_base.values(), policy.naming)
    due, reason = rotation_due(policy, state.size, state.last_rotated, now, zone, force)
    renames: list[tuple[str, str]] = []
    rotate_to: str | None = None
    if due and policy.naming == "numbered":
        shifted = [
            Generation(
                f"{log_name}.{int(g.key) + 1}" + (GZ if g.compressed else ""),
                str(int(g.key) + 1).zfill(6),
                g.compressed,
            )
            for g in ordered
        ]
        # Oldest first, so that no rename lands on a name still in use.
        renames = [
            (old.name, new.name) for old, new in reversed(list(zip(ordered, shifted, strict=True)))
        ]
        rotate_to = f"{log_name}.1"
        ordered = [Generation(rotate_to, "1".zfill(6), False), *shifted]
    elif due:
        stamp = now.astimezone(zone).strftime("%Y%m%d")
        taken = {generation.base for generation in ordered}
        if f"{log_name}-{stamp}" in taken:
            stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M%S")
        if f"{log_name}-{stamp}" in taken:
            return LogPlan(
                state.path,
                False,
                "already rotated this second",
                state.size,
                discard=tuple(duplicates),
            )
        rotate_to = f"{log_name}-{stamp}"
        ordered = _newest_first([Generation(rotate_to, stamp, False), *ordered], policy.naming)
    kept = ordered[: policy.keep]
    beyond = ordered[policy.keep :]
    compress: list[str] = []
    if policy.compress:
        for rank, generation in enumerate(kept):
            if generation.compressed or (rank == 0 and policy.delay_compress):
                continue
            compress.append(generation.name)
    return LogPlan(
        path=state.path,
        rotate=due,
        reason=reason,
        size=state.size,
        rotate_to=rotate_to,
        renames=tuple(renames),
        compress=tuple(compress),
        discard=tuple(duplicates),
        delete=tuple(generation.name for generation in beyond),
        kept=tuple(generation.name for generation in kept),
    )


def plan_logs(
    policy: LogPolicy,
    states: Iterable[LogState],
    now: datetime,
    zone: tzinfo,
    force: bool = False,
) -> list[LogPlan]:
    return [plan_log(policy, state, now, zone, force) for state in states]
