"""Grandfather-father-son retention of backup archives: which to keep, which to prune.

`keep: {daily: 30, weekly: 8, monthly: 12}` keeps the newest archive of each of the 30
most recent days that have an archive, of the 8 most recent ISO weeks, and of the 12
most recent months (periods in the configured time zone). The tiers overlap: an archive
kept as a day's newest may also be its week's newest. Periods count only when they have
an archive, so backups that stopped for a while never lose their last good copies to
the passage of time. The newest archive is never pruned, nor one dated in the future.

Copies that have no tiers (the store's own database copies) keep a plain count:
`beyond_newest`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

Period = Callable[[datetime], tuple[int, ...]]

TIERS: tuple[tuple[str, Period], ...] = (
    ("daily", lambda moment: (moment.year, moment.month, moment.day)),
    ("weekly", lambda moment: tuple(moment.isocalendar()[:2])),
    ("monthly", lambda moment: (moment.year, moment.month)),
)


@dataclass(frozen=True)
class ArchiveStamp:
    name: str
    created_at: datetime  # aware


@dataclass(frozen=True)
class RetentionDecision:
    name: str
    created_at: datetime
    keep: bool
    reasons: tuple[str, ...]  # why it is kept; empty when pruned

    @property
    def why(self) -> str:
        return ", ".join(self.reasons) if self.keep else "beyond every retention tier"


def plan_retention(
    archives: Iterable[ArchiveStamp],
    *,
    daily: int,
    weekly: int,
    monthly: int,
    now: datetime,
    zone: tzinfo,
) -> list[RetentionDecision]:
    """A decision for every archive, newest first."""
    ordered = sorted(archives, key=lambda archive: (archive.created_at, archive.name), reverse=True)
    reasons: dict[str, list[str]] = {archive.name: [] for archive in ordered}
    if ordered:
        reasons[ordered[0].name].append("newest")
    for archive in ordered:
        if archive.created_at > now:
            reasons[archive.name].append("dated in the future")
    limits = {"daily": daily, "weekly": weekly, "monthly": monthly}
    for tier, period_of in TIERS:
        limit = limits[tier]
        seen: set[tuple[int, ...]] = set()
        for archive in ordered:
            if len(seen) >= limit:
                break
            period = period_of(archive.created_at.astimezone(zone))
            if period in seen:
                continue
            seen.add(period)
            reasons[archive.name].append(f"{tier} {len(seen)}/{limit}")
    return [
        RetentionDecision(
            archive.name,
            archive.created_at,
            bool(reasons[archive.name]),
            tuple(reasons[archive.name]),
        )
        for archive in ordered
    ]


def beyond_newest(stamped: Iterable[tuple[str, tuple[str, int]]], keep: int) -> list[str]:
    """Names to prune so that only the `keep` newest remain (at least one is kept).

    Each item is (name, (sortable UTC stamp, sequence within that stamp)); the names to
    prune come oldest first.
    """
    ordered = sorted(stamped, key=lambda item: (item[1], item[0]), reverse=True)
    return [name for name, _key in reversed(ordered[max(keep, 1) :])]
