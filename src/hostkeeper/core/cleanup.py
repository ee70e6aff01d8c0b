"""Cleanup plans: from an inventory of files, a policy and `now`, what to do and why.

A policy's `match` globs apply to file names. The `.gz` made by an earlier compression
of a matching file still belongs to the policy (so `delete_after` reaches it), and a
`.gz.tmp` left by an interrupted compression of a matching file is removed. Ages come
from the modification time, which compression preserves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fnmatch import translate
from typing import Generic, NamedTuple, Protocol, TypeVar

GZ = ".gz"
TEMP = ".gz.tmp"


class Inventoried(Protocol):
    @property
    def relpath(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def mtime(self) -> float: ...


Item = TypeVar("Item", bound=Inventoried)


class CleanupKind(StrEnum):
    DELETE = "delete"
    COMPRESS = "compress"
    REMOVE_TEMP = "remove_temp"


class CleanupAction(NamedTuple, Generic[Item]):
    """One planned action; a named tuple because a plan may hold 100,000 of them."""

    kind: CleanupKind
    item: Item
    age_seconds: float
    limit: timedelta | None  # the policy's compress_after or delete_after

    @property
    def relpath(self) -> str:
        return self.item.relpath

    @property
    def bytes(self) -> int:
        return self.item.size

    @property
    def reason(self) -> str:
        # Worded on demand: a plan of 100,000 deletions is mostly never printed.
        if self.kind is CleanupKind.REMOVE_TEMP or self.limit is None:
            return "temporary file of an interrupted compression"
        setting = "delete_after" if self.kind is CleanupKind.DELETE else "compress_after"
        return f"{_age(self.age_seconds)}, older than {setting} ({_span(self.limit)})"


@dataclass(frozen=True)
class CleanupPlan(Generic[Item]):
    actions: list[CleanupAction[Item]]

    def of(self, kind: CleanupKind) -> list[CleanupAction[Item]]:
        return [action for action in self.actions if action.kind is kind]

    @property
    def bytes_to_delete(self) -> int:
        return sum(a.bytes for a in self.actions if a.kind is not CleanupKind.COMPRESS)

    @property
    def bytes_to_compress(self) -> int:
        return sum(a.bytes for a in self.of(CleanupKind.COMPRESS))


def walk_patterns(patterns: str | Sequence[str]) -> list[str]:
    """Globs selecting every name the policy may act on, for a fast filter in a walk."""
    globs = [patterns] if isinstance(patterns, str) else list(patterns)
    return [variant for glob in globs for variant in (glob, glob + GZ, glob + TEMP)]


def _span(value: timedelta) -> str:
    days = value.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{value.total_seconds() / 3600:g} hours"


def _age(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days old"
    return f"{seconds / 3600:.1f} hours old"


def _glob_regex(globs: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(glob)})" for glob in globs))


def plan_cleanup(
    inventory: Iterable[Item],
    *,
    match: str | Sequence[str],
    compress_after: timedelta | None,
    delete_after: timedelta | None,
    now: datetime,
) -> CleanupPlan[Item]:
    """Actions for every file of `inventory` the policy applies to, by path."""
    plain = _glob_regex([match] if isinstance(match, str) else list(match)).match
    reference = now.timestamp()
    delete_seconds = delete_after.total_seconds() if delete_after is not None else None
    compress_seconds = compress_after.total_seconds() if compress_after is not None else None
    delete, compress, remove = CleanupKind.DELETE, CleanupKind.COMPRESS, CleanupKind.REMOVE_TEMP
    actions: list[CleanupAction[Item]] = []
    append = actions.append
    for item in inventory:
        name = item.relpath.rpartition("/")[2]
        if name.endswith(TEMP) and plain(name[: -len(TEMP)]) is not None:
            append(CleanupAction(remove, item, 0.0, None))
            continue
        if plain(name) is not None:
            compressed = name.endswith(GZ)
        elif name.endswith(GZ) and plain(name[: -len(GZ)]) is not None:
            compressed = True
        else:
            continue
        age = reference - item.mtime
        if delete_seconds is not None and age > delete_seconds:
            append(CleanupAction(delete, item, age, delete_after))
        elif compress_seconds is not None and age > compress_seconds and not compressed:
            append(CleanupAction(compress, item, age, compress_after))
    actions.sort(key=lambda action: action.item.relpath)
    return CleanupPlan(actions)
