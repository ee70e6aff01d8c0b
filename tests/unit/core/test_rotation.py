from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hostkeeper.config.files import LogPolicy
from hostkeeper.core.rotation import (
    LogState,
    generation_base,
    group_generations,
    parse_generation,
    plan_log,
    rotation_due,
)

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)  # a Sunday


def policy(**fields: object) -> LogPolicy:
    return LogPolicy.model_validate({"name": "app", "paths": ["/l/*.log"]} | fields)


def state(size: int = 10, last: datetime | None = None, names: tuple[str, ...] = ()) -> LogState:
    return LogState("/l/app.log", size, last, names)


def test_parse_generation_numbered_and_dated() -> None:
    numbered = parse_generation("app.log", "app.log.12.gz", "numbered")
    assert numbered is not None and numbered.compressed and numbered.key == "000012"
    assert parse_generation("app.log", "app.log.1", "numbered") is not None
    for other in ("app.log", "app.log.x", "app.log.1.bz2", "app.log-20240101", "app.logs.1"):
        assert parse_generation("app.log", other, "numbered") is None
    dated = parse_generation("app.log", "app.log-20240101-030000.gz", "dated")
    assert dated is not None and dated.key == "20240101-030000" and dated.compressed
    assert parse_generation("app.log", "app.log.1", "dated") is None


@pytest.mark.parametrize(
    ("rotate", "last", "due"),
    [
        ("daily", NOW.replace(hour=1), False),
        ("daily", NOW.replace(hour=0, minute=0), False),
        ("daily", NOW - timedelta(days=1), True),
        ("weekly", NOW - timedelta(days=6), False),  # Monday of the same ISO week
        ("weekly", NOW - timedelta(days=7), True),
        ("monthly", NOW.replace(day=1), False),
        ("monthly", NOW.replace(day=1, hour=0) - timedelta(minutes=1), True),
    ],
)
def test_calendar_periods(rotate: str, last: datetime, due: bool) -> None:
    assert rotation_due(policy(rotate=rotate), 10, last, NOW, UTC)[0] is due


def test_periods_use_the_configured_zone() -> None:
    # 23:30 UTC on June 29 is already June 30 in Berlin: rotated "today" there.
    last = datetime(2024, 6, 29, 23, 30, tzinfo=UTC)
    assert rotation_due(policy(), 10, last, NOW, UTC)[0] is True
    assert rotation_due(policy(), 10, last, NOW, ZoneInfo("Europe/Berlin"))[0] is False


def test_max_size_and_size_policies() -> None:
    recent = NOW - timedelta(minutes=5)
    assert rotation_due(policy(max_size="1K"), 2048, recent, NOW, UTC) == (
        True,
        "2048 bytes, over max_size 1024",
    )
    sized = policy(rotate="size", max_size="1K")
    assert rotation_due(sized, 1000, None, NOW, UTC) == (False, "within max_size")
    assert rotation_due(sized, 1025, None, NOW, UTC)[0] is True


def test_empty_logs_are_never_rotated_even_forced() -> None:
    assert rotation_due(policy(), 0, None, NOW, UTC, force=True) == (False, "empty")
    assert rotation_due(policy(), 1, NOW, NOW, UTC, force=True) == (True, "forced")


def test_never_rotated_logs_are_due() -> None:
    assert rotation_due(policy(), 5, None, NOW, UTC) == (True, "daily: never rotated")


def test_numbered_rotation_shifts_compresses_and_prunes() -> None:
    names = ("app.log.1", "app.log.2.gz", "app.log.3.gz", "other.log", "app.log.3.gz.tmp")
    plan = plan_log(
        policy(keep=3, compress=True, delay_compress=True), state(names=names), NOW, UTC
    )
    assert plan.rotate and plan.rotate_to == "app.log.1"
    assert plan.renames == (
        ("app.log.3.gz", "app.log.4.gz"),
        ("app.log.2.gz", "app.log.3.gz"),
        ("app.log.1", "app.log.2"),
    )
    assert plan.compress == ("app.log.2",)  # the newest (app.log.1) waits: delay_compress
    assert plan.delete == ("app.log.4.gz",)
    assert plan.kept == ("app.log.1", "app.log.2", "app.log.3.gz")


def test_without_delay_the_new_generation_is_compressed_at_once() -> None:
    plan = plan_log(policy(keep=2, compress=True), state(names=("app.log.1.gz",)), NOW, UTC)
    assert plan.compress == ("app.log.1",)
    assert plan.delete == ()


def test_keep_zero_deletes_the_rotated_file() -> None:
    plan = plan_log(policy(keep=0), state(), NOW, UTC)
    assert plan.rotate_to == "app.log.1" and plan.delete == ("app.log.1",)


def test_a_gap_left_by_a_crash_costs_no_generation_and_closes_over_time() -> None:
    names = ("app.log.1.gz", "app.log.3.gz")  # .2 went missing mid-shift
    plan = plan_log(policy(keep=3), state(names=names), NOW, UTC)
    assert plan.renames == (("app.log.3.gz", "app.log.4.gz"), ("app.log.1.gz", "app.log.2.gz"))
    assert plan.kept == ("app.log.1", "app.log.2.gz", "app.log.4.gz")
    assert plan.delete == ()


def test_a_duplicate_left_between_rename_and_unlink_is_discarded_first() -> None:
    # app.log.2 and app.log.2.gz both exist: the plain file is the authority.
    names = ("app.log.1", "app.log.2", "app.log.2.gz")
    plan = plan_log(policy(keep=5), state(names=names), NOW, UTC)
    assert plan.discard == ("app.log.2.gz",)
    assert ("app.log.2", "app.log.3") in plan.renames
    assert "app.log.3" in plan.compress


def test_not_due_still_compresses_leftovers_and_prunes_to_keep() -> None:
    names = ("app.log.1", "app.log.2", "app.log.3.gz", "app.log.4.gz")
    plan = plan_log(
        policy(keep=2, compress=True, delay_compress=True),
        state(last=NOW - timedelta(hours=1), names=names),
        NOW,
        UTC,
    )
    assert not plan.rotate and plan.renames == ()
    assert plan.compress == ("app.log.2",)
    assert plan.delete == ("app.log.3.gz", "app.log.4.gz")
    assert plan.has_work


def test_dated_names_and_a_second_rotation_the_same_day() -> None:
    dated = policy(naming="dated", keep=2, compress=True)
    first = plan_log(dated, state(names=("app.log-20240629.gz",)), NOW, UTC)
    assert first.rotate_to == "app.log-20240630" and first.renames == ()
    assert first.compress == ("app.log-20240630",)
    second = plan_log(
        dated, state(names=("app.log-20240630.gz", "app.log-20240629.gz")), NOW, UTC, force=True
    )
    assert second.rotate_to == "app.log-20240630-120000"
    assert second.kept == ("app.log-20240630-120000", "app.log-20240630.gz")
    assert second.delete == ("app.log-20240629.gz",)


def test_no_compression_when_disabled() -> None:
    plan = plan_log(policy(compress=False, keep=3), state(names=("app.log.1",)), NOW, UTC)
    assert plan.compress == ()


def test_directory_listings_are_grouped_by_the_log_they_belong_to() -> None:
    names = ["a.log", "a.log.1", "a.log.2.gz", "b.log", "b.log.1", "b.log-20240101", "c.txt"]
    assert group_generations(names, "numbered") == {
        "a.log": ("a.log.1", "a.log.2.gz"),
        "b.log": ("b.log.1",),
    }
    assert group_generations(names, "dated") == {"b.log": ("b.log-20240101",)}
    assert generation_base("app.log.12.gz", "numbered") == "app.log"
    assert generation_base("app.log-20240101-030000.gz", "dated") == "app.log"
    assert generation_base("app.log", "numbered") is None
