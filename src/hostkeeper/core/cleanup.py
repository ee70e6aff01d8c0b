"""Cleanup plans: from an inventory of files, a policy and `now`, what to do and why.

A policy's `match` globs apply to file names. The `.gz` made by an earlier compression
of a matching file still belongs to the policy (so `delete_after` reaches it), and a
`.gz.tmp` left by an interrupted compression of a matching file is removed. Ages come
from the modification time, which compression preserves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Generic, Protocol, TypeVar

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


@dataclass(frozen=True)
class CleanupAction(Generic[Item]):
    kind: CleanupKind
    item: Item
    reason: str

    @property
    def relpath(self) -> str:
        return self.item.relpath

    @property
    def bytes(self) -> int:
        return self.item.size


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


def _age(value: timedelta) -> str:
    days = value.total_seconds() / 86400
    if days >= 1:
        return f"{days:.1f} days old"
    return f"{value.total_seconds() / 3600:.1f} hours old"


def plan_cleanup(
    inventory: Iterable[Item],
    *,
    match: str | Sequence[str],
    compress_after: timedelta | None,
    delete_after: timedelta | None,
    now: datetime,
) -> CleanupPlan[Item]:
    """Actions for every file of `inventory` the policy applies to, by path."""
    globs = [match] if isinstance(match, str) else list(match)

    def plain(name: str) -> bool:
        return any(fnmatchcase(name, glob) for glob in globs)

    reference = now.timestamp()
    actions: list[CleanupAction[Item]] = []
    for item in inventory:
        name = item.relpath.rpartition("/")[2]
        if name.endswith(TEMP) and plain(name[: -len(TEMP)]):
            actions.append(
                CleanupAction(
                    CleanupKind.REMOVE_TEMP, item, "temporary file of an interrupted compression"
                )
            )
            continue
        compressed = name.endswith(GZ)
        if not plain(name) and not (compressed and plain(name[: -len(GZ)])):
            continue
        age = timedelta(seconds=max(reference - item.mtime, 0.0))
        if delete_after is not None and age > delete_after:
            actions.append(
                CleanupAction(
                    CleanupKind.DELETE,
                    item,
                    f"{_age(age)}, older than delete_after ({_span(delete_after)})",
                )
            )
        elif compress_after is not None and age > compress_after and not compressed:
            actions.append(
                CleanupAction(
                    CleanupKind.COMPRESS,
                    item,
                    f"{_age(age)}, older than compress_after ({_span(compress_after)})",
                )
            )
    actions.sort(key=lambda action: action.relpath)
    return CleanupPlan(actions)
