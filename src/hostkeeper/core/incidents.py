"""An incident's timeline: what happened, when and by whom, in one order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# Entries at the same moment read in this order: the incident opens before anything
# happens in it, and closes after everything.
_ORDER = {"opened": 0, "run": 1, "step": 2, "alert": 3, "note": 4, "closed": 5}


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # opened | run | step | alert | note | closed
    text: str
    who: str | None = None  # the person, for what a person did


def sort_timeline(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """Oldest first; simultaneous entries in a fixed order of kinds, then as given."""
    indexed = list(enumerate(entries))
    indexed.sort(key=lambda pair: (pair[1].at, _ORDER.get(pair[1].kind, 9), pair[0]))
    return [entry for _, entry in indexed]
