from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hostkeeper.core.retention import (
    ArchiveStamp,
    RetentionDecision,
    beyond_newest,
    plan_retention,
)

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


def daily_archives(days: int, per_day: int = 1) -> list[ArchiveStamp]:
    stamps = []
    for day in range(days):
        for index in range(per_day):
            at = NOW - timedelta(days=day, hours=index)
            stamps.append(ArchiveStamp(f"set-{at:%Y%m%dT%H%M%SZ}.tar.gz", at))
    return stamps


def kept(decisions: list[RetentionDecision]) -> list[str]:
    return [d.name for d in decisions if d.keep]


def test_daily_keeps_the_newest_archive_of_each_of_the_last_n_days() -> None:
    decisions = plan_retention(
        daily_archives(10, per_day=2), daily=3, weekly=0, monthly=0, now=NOW, zone=UTC
    )
    assert kept(decisions) == [
        f"set-{NOW - timedelta(days=d):%Y%m%dT%H%M%SZ}.tar.gz" for d in range(3)
    ]
    assert len(decisions) == 20 and sum(not d.keep for d in decisions) == 17


def test_weekly_and_monthly_tiers_keep_the_newest_of_each_period() -> None:
    archives = daily_archives(120)
    decisions = plan_retention(archives, daily=0, weekly=4, monthly=3, now=NOW, zone=UTC)
    kept_dates = [d.created_at.date() for d in decisions if d.keep]
    # newest (Sunday June 30) is week 26's and June's newest; then the Sundays before,
    # then the last day of May and of April
    assert kept_dates == [
        datetime(2024, 6, 30).date(),
        datetime(2024, 6, 23).date(),
        datetime(2024, 6, 16).date(),
        datetime(2024, 6, 9).date(),
        datetime(2024, 5, 31).date(),
        datetime(2024, 4, 30).date(),
    ]
    reasons = {d.created_at.date(): d.reasons for d in decisions if d.keep}
    assert reasons[datetime(2024, 6, 30).date()] == ("newest", "weekly 1/4", "monthly 1/3")
    assert reasons[datetime(2024, 5, 31).date()] == ("monthly 2/3",)


def test_the_newest_archive_is_never_pruned_even_with_nothing_to_keep() -> None:
    decisions = plan_retention(daily_archives(5), daily=0, weekly=0, monthly=0, now=NOW, zone=UTC)
    assert kept(decisions) == [decisions[0].name]
    assert decisions[0].reasons == ("newest",)
    assert all(d.why == "beyond every retention tier" for d in decisions[1:])


def test_periods_without_archives_do_not_count() -> None:
    # Backups stopped for two months: the last 3 daily archives still survive.
    old = [ArchiveStamp(f"a{day}", NOW - timedelta(days=60 + day)) for day in range(10)]
    decisions = plan_retention(old, daily=3, weekly=0, monthly=0, now=NOW, zone=UTC)
    assert kept(decisions) == ["a0", "a1", "a2"]


def test_days_are_those_of_the_configured_zone() -> None:
    archives = [
        # 23:00 and 16:00 on June 29 in New York; June 30 and June 29 in UTC
        ArchiveStamp("late", datetime(2024, 6, 30, 3, 0, tzinfo=UTC)),
        ArchiveStamp("afternoon", datetime(2024, 6, 29, 20, 0, tzinfo=UTC)),
    ]
    in_utc = plan_retention(archives, daily=2, weekly=0, monthly=0, now=NOW, zone=UTC)
    in_new_york = plan_retention(
        archives, daily=2, weekly=0, monthly=0, now=NOW, zone=ZoneInfo("America/New_York")
    )
    assert kept(in_utc) == ["late", "afternoon"]
    assert kept(in_new_york) == ["late"]


def test_archives_dated_in_the_future_are_kept() -> None:
    archives = [
        ArchiveStamp("future", NOW + timedelta(days=3)),
        ArchiveStamp("today", NOW),
        ArchiveStamp("yesterday", NOW - timedelta(days=1)),
    ]
    decisions = plan_retention(archives, daily=1, weekly=0, monthly=0, now=NOW, zone=UTC)
    assert kept(decisions) == ["future"]
    assert decisions[0].reasons == ("newest", "dated in the future", "daily 1/1")


def test_no_archives_no_decisions() -> None:
    assert plan_retention([], daily=7, weekly=4, monthly=12, now=NOW, zone=UTC) == []


def test_beyond_newest_prunes_the_oldest_first_and_keeps_the_newest_n() -> None:
    stamped = [
        ("b", ("20260102T000000Z", 1)),
        ("a", ("20260101T000000Z", 1)),
        ("d", ("20260103T000000Z", 2)),
        ("c", ("20260103T000000Z", 1)),
    ]
    assert beyond_newest(stamped, 2) == ["a", "b"]
    assert beyond_newest(stamped, 4) == []


def test_beyond_newest_always_keeps_one() -> None:
    assert beyond_newest([("a", ("20260101T000000Z", 1)), ("b", ("20260102T000000Z", 1))], 0) == [
        "a"
    ]
