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
from enum import IntEnum, StrEnum
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


def _span(value: timedelta) -> str:
    days = value.total_seconds() / 86400
    return f"{days:g} days" if days >= 1 else f"{value.total_seconds() / 3600:g} hours"


def _age(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} days old"
    return f"{seconds / 3600:.1f} hours old"


def _glob_regex(globs: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(glob)})" for glob in globs))


class NameClass(IntEnum):
    """How a policy covers a file name."""

    PLAIN = 1  # matches `match` (and is not a .gz of its own)
    COMPRESSED = 2  # a .gz: deleted when old, never compressed again
    TEMP = 3  # left by an interrupted compression: always removed


@dataclass(frozen=True)
class CleanupRule:
    """A policy's decisions for one `now`, one file at a time.

    A walk calls `classify` on each name before it pays for a stat, then `decide` with
    the file's mtime; `plan_cleanup` is the same rule over a whole inventory.
    """

    match: re.Pattern[str]
    reference: float  # now, as a timestamp
    delete_after: timedelta | None
    compress_after: timedelta | None
    delete_before: float | None  # an mtime earlier than this is past delete_after
    compress_before: float | None

    @classmethod
    def of(
        cls,
        *,
        match: str | Sequence[str],
        compress_after: timedelta | None,
        delete_after: timedelta | None,
        now: datetime,
    ) -> CleanupRule:
        reference = now.timestamp()
        return cls(
            _glob_regex([match] if isinstance(match, str) else list(match)),
            reference,
            delete_after,
            compress_after,
            reference - delete_after.total_seconds() if delete_after is not None else None,
            reference - compress_after.total_seconds() if compress_after is not None else None,
        )

    def classify(self, name: str) -> NameClass | None:
        plain = self.match.match
        if name.endswith(TEMP) and plain(name[: -len(TEMP)]) is not None:
            return NameClass.TEMP
        if plain(name) is not None:
            return NameClass.COMPRESSED if name.endswith(GZ) else NameClass.PLAIN
        if name.endswith(GZ) and plain(name[: -len(GZ)]) is not None:
            return NameClass.COMPRESSED
        return None

    def decide(self, covered: NameClass, mtime: float) -> CleanupKind | None:
        """What to do with a file the policy covers, modified at `mtime`."""
        if covered is NameClass.TEMP:
            return CleanupKind.REMOVE_TEMP
        # The same comparison as "age > limit", on the mtime: no subtraction per file.
        if self.delete_before is not None and mtime < self.delete_before:
            return CleanupKind.DELETE
        if (
            self.compress_before is not None
            and covered is NameClass.PLAIN
            and mtime < self.compress_before
        ):
            return CleanupKind.COMPRESS
        return None

    def plan(self, inventory: Iterable[Item]) -> CleanupPlan[Item]:
        """Actions for every file of `inventory` the rule applies to, by path."""
        actions: list[CleanupAction[Item]] = []
        for item in inventory:
            covered = self.classify(item.relpath.rpartition("/")[2])
            if covered is not None and (kind := self.decide(covered, item.mtime)) is not None:
                actions.append(self.action(kind, item))
        actions.sort(key=lambda action: action.item.relpath)
        return CleanupPlan(actions)

    def action(self, kind: CleanupKind, item: Item) -> CleanupAction[Item]:
        """The planned action of `kind` (from `decide`) on `item`, with its reason."""
        if kind is CleanupKind.REMOVE_TEMP:
            return CleanupAction(kind, item, 0.0, None)
        limit = self.delete_after if kind is CleanupKind.DELETE else self.compress_after
        return CleanupAction(kind, item, self.reference - item.mtime, limit)


def plan_cleanup(
    inventory: Iterable[Item],
    *,
    match: str | Sequence[str],
    compress_after: timedelta | None,
    delete_after: timedelta | None,
    now: datetime,
) -> CleanupPlan[Item]:
    """Actions for every file of `inventory` the policy applies to, by path."""
    rule = CleanupRule.of(
        match=match, compress_after=compress_after, delete_after=delete_after, now=now
    )
    return rule.plan(inventory)
