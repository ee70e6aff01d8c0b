"""An incident's timeline: oldest first, and a fixed order for entries of one moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostkeeper.core.incidents import TimelineEntry, sort_timeline

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_entries_come_oldest_first() -> None:
    later = TimelineEntry(T0 + timedelta(minutes=5), "note", "restarted", "bob")
    sooner = TimelineEntry(T0 + timedelta(minutes=1), "note", "looking", "alice")
    assert sort_timeline([later, sooner]) == [sooner, later]


def test_at_one_moment_the_opening_comes_first_and_the_closing_last() -> None:
    entries = [
        TimelineEntry(T0, "closed", "closed"),
        TimelineEntry(T0, "note", "second note"),
        TimelineEntry(T0, "alert", "alert fired"),
        TimelineEntry(T0, "note", "first note"),
        TimelineEntry(T0, "step", "step"),
        TimelineEntry(T0, "run", "run started"),
        TimelineEntry(T0, "opened", "opened"),
    ]
    ordered = [entry.text for entry in sort_timeline(entries)]
    assert ordered == [
        "opened",
        "run started",
        "step",
        "alert fired",
        "second note",  # same kind, same moment: as given
        "first note",
        "closed",
    ]
