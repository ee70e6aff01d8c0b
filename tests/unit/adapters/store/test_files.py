from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store.files import (
    FileActionCounts,
    archive_rows,
    last_restore_tests,
    last_rotations,
    mark_archive,
    newest_archives,
    recent_file_actions,
    record_archive,
    record_file_action,
    record_restore_test,
    record_rotation,
    record_verification,
)

T0 = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


def test_rotation_state_is_upserted_per_policy_and_path(store: Store) -> None:
    record_rotation(store, "app", "/l/a.log", T0, 10)
    record_rotation(store, "app", "/l/a.log", T0 + timedelta(days=1), 20)
    record_rotation(store, "other", "/l/a.log", T0, 5)
    assert last_rotations(store, "app") == {"/l/a.log": T0 + timedelta(days=1)}
    assert last_rotations(store, "other") == {"/l/a.log": T0}
    assert last_rotations(store, "none") == {}


def test_file_actions_are_recorded_newest_first(store: Store) -> None:
    record_file_action(
        store, kind="cleanup", policy="p", at=T0, counts=FileActionCounts(deleted=3, bytes_freed=9)
    )
    record_file_action(
        store,
        kind="rotate",
        policy="q",
        at=T0 + timedelta(hours=1),
        counts=FileActionCounts(rotated=1),
        detail={"x": 1},
    )
    actions = recent_file_actions(store)
    assert [(a["kind"], a["policy"]) for a in actions] == [("rotate", "q"), ("cleanup", "p")]
    assert actions[1]["files_deleted"] == 3 and actions[1]["bytes_freed"] == 9
    assert [a["policy"] for a in recent_file_actions(store, kind="cleanup")] == ["p"]


def test_archives_newest_per_set_ignores_pruned_and_missing(store: Store) -> None:
    for index in range(3):
        record_archive(
            store,
            backup_set="config",
            path=f"/b/config/{index}",
            created_at=T0 + timedelta(days=index),
            size=100 + index,
            files=2,
            sha256="a" * 64,
        )
    record_archive(
        store, backup_set="logs", path="/b/logs/0", created_at=T0, size=5, files=1, sha256="b" * 64
    )
    mark_archive(store, "/b/config/2", "pruned")
    record_verification(store, "/b/config/1", True, "2 files verified", T0)
    newest = newest_archives(store)
    assert newest["config"]["path"] == "/b/config/1"
    assert newest["config"]["verify_ok"] is True
    assert newest["logs"]["size_bytes"] == 5
    assert archive_rows(store, "config")["/b/config/2"]["state"] == "pruned"
    assert newest_archives(store, host="elsewhere") == {}


def test_recording_an_archive_again_updates_it(store: Store) -> None:
    for files in (0, 7):
        record_archive(
            store,
            backup_set="s",
            path="/b/s/x",
            created_at=T0,
            size=1,
            files=files,
            sha256="c" * 64,
            unreadable=[("/etc/x", "Permission denied")],
        )
    rows = archive_rows(store)
    assert len(rows) == 1 and rows["/b/s/x"]["files"] == 7
    assert rows["/b/s/x"]["unreadable"] == '[["/etc/x", "Permission denied"]]'


def test_last_restore_test_per_set(store: Store) -> None:
    for index, ok in enumerate((True, False)):
        record_restore_test(
            store,
            backup_set="config",
            archive=f"/b/{index}",
            at=T0 + timedelta(days=index),
            ok=ok,
            files_checked=3,
            seconds=0.5,
            detail=None if ok else "x: sha256 differs",
        )
    tests = last_restore_tests(store)
    assert tests["config"]["ok"] is False and tests["config"]["archive"] == "/b/1"
