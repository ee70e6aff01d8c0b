from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hostkeeper.core.cleanup import CleanupKind, CleanupRule, NameClass, plan_cleanup

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)
DAY = 86400.0


@dataclass(frozen=True)
class Item:
    relpath: str
    size: int
    mtime: float


def aged(relpath: str, days: float, size: int = 100) -> Item:
    return Item(relpath, size, NOW.timestamp() - days * DAY)


def plan(items: list[Item], **policy: object):  # type: ignore[no-untyped-def]
    arguments = {"match": "*.log", "compress_after": None, "delete_after": None} | policy
    return plan_cleanup(items, now=NOW, **arguments)  # type: ignore[arg-type]


def test_files_older_than_delete_after_are_deleted_with_the_reason_and_bytes() -> None:
    result = plan(
        [aged("a.log", 31, 500), aged("b.log", 29), aged("sub/c.log", 45, 7)],
        delete_after=timedelta(days=30),
    )
    assert [(a.kind, a.relpath, a.bytes) for a in result.actions] == [
        (CleanupKind.DELETE, "a.log", 500),
        (CleanupKind.DELETE, "sub/c.log", 7),
    ]
    assert result.actions[0].reason == "31.0 days old, older than delete_after (30 days)"
    assert result.bytes_to_delete == 507


def test_compress_between_compress_after_and_delete_after() -> None:
    result = plan(
        [aged("new.log", 1), aged("week.log", 8, 1000), aged("old.log", 40)],
        compress_after=timedelta(days=7),
        delete_after=timedelta(days=30),
    )
    assert [(a.kind, a.relpath) for a in result.actions] == [
        (CleanupKind.DELETE, "old.log"),
        (CleanupKind.COMPRESS, "week.log"),
    ]
    assert result.bytes_to_compress == 1000
    assert "older than compress_after (7 days)" in result.of(CleanupKind.COMPRESS)[0].reason


def test_only_matching_names_are_touched() -> None:
    result = plan(
        [aged("app.log", 40), aged("app.txt", 40), aged("log", 40), aged("dir.log/x", 40)],
        delete_after=timedelta(days=30),
    )
    assert [a.relpath for a in result.actions] == ["app.log"]


def test_several_globs() -> None:
    result = plan(
        [aged("a.log", 40), aged("b.out", 40), aged("c.txt", 40)],
        match=["*.log", "*.out"],
        delete_after=timedelta(days=30),
    )
    assert [a.relpath for a in result.actions] == ["a.log", "b.out"]


def test_compressed_files_of_matching_names_are_deleted_later_never_recompressed() -> None:
    result = plan(
        [aged("a.log.gz", 10), aged("b.log.gz", 40), aged("c.txt.gz", 40)],
        compress_after=timedelta(days=7),
        delete_after=timedelta(days=30),
    )
    assert [(a.kind, a.relpath) for a in result.actions] == [(CleanupKind.DELETE, "b.log.gz")]


def test_temp_files_of_an_interrupted_compression_are_removed_whatever_their_age() -> None:
    result = plan(
        [aged("a.log.gz.tmp", 0.01), aged("other.gz.tmp", 0.01)],
        compress_after=timedelta(days=7),
    )
    assert [(a.kind, a.relpath) for a in result.actions] == [
        (CleanupKind.REMOVE_TEMP, "a.log.gz.tmp")
    ]
    assert result.bytes_to_delete == 100


def test_a_file_exactly_at_the_limit_is_kept_and_future_mtimes_are_young() -> None:
    result = plan([aged("edge.log", 30), aged("future.log", -5)], delete_after=timedelta(days=30))
    assert result.actions == []


def test_a_rule_covers_matching_names_their_gz_and_their_temp_files() -> None:
    def covers(match: str | list[str], name: str) -> NameClass | None:
        rule = CleanupRule.of(match=match, compress_after=None, delete_after=None, now=NOW)
        return rule.classify(name)

    assert covers("*.log", "app.log") is NameClass.PLAIN
    assert covers("*.log", "app.log.gz") is NameClass.COMPRESSED
    assert covers("*.log", "app.log.gz.tmp") is NameClass.TEMP
    assert covers("*.log", "app.txt") is None
    assert covers("*.log", "app.log.tmp") is None
    assert covers(["a*", "b*"], "b1.gz.tmp") is NameClass.TEMP
    assert covers(["a*", "b*"], "a1") is NameClass.PLAIN
    assert covers(["a*", "b*"], "c1.gz") is None
    assert covers("*", "x.gz") is NameClass.COMPRESSED  # never compressed again
