"""Counter rates with resets, CPU shares, rollup buckets and retention cut-offs."""

from __future__ import annotations

import math

import pytest

from hostkeeper.core.metrics import (
    FIVE_MINUTES,
    HOUR,
    RAW,
    CpuTimes,
    bucket_start,
    counter_increase,
    counter_rate,
    cpu_iowait_percent,
    cpu_percent,
    disk_metric,
    display_resolution,
    is_usage_metric,
    process_cpu_percent,
    retention_cutoffs,
    rollup_range,
)

DAY = 86400.0


# -- counters ------------------------------------------------------------------------------


def test_counter_increase_is_the_difference_while_the_counter_grows() -> None:
    assert counter_increase(1_000, 1_500) == 500


def test_counter_reset_counts_the_new_reading_as_the_increase() -> None:
    # The counter restarted from zero and has counted 120 since.
    assert counter_increase(1_000_000, 120) == 120


def test_counter_rate_sums_devices_and_divides_by_elapsed_seconds() -> None:
    previous = {"eth0": 1_000.0, "eth1": 5_000.0}
    current = {"eth0": 3_000.0, "eth1": 6_000.0}
    assert counter_rate(previous, current, 10.0) == pytest.approx(300.0)


def test_one_device_reset_does_not_swallow_the_others_traffic() -> None:
    previous = {"sda": 10_000.0, "sdb": 50_000.0}
    current = {"sda": 12_000.0, "sdb": 400.0}  # sdb was re-created and counted 400 since
    assert counter_rate(previous, current, 2.0) == pytest.approx((2_000 + 400) / 2.0)


def test_a_device_that_just_appeared_contributes_nothing_yet() -> None:
    previous = {"eth0": 100.0}
    current = {"eth0": 200.0, "wg0": 9_999_999.0}
    assert counter_rate(previous, current, 1.0) == pytest.approx(100.0)


@pytest.mark.parametrize("elapsed", [0.0, -1.0])
def test_counter_rate_needs_time_to_pass(elapsed: float) -> None:
    assert counter_rate({"a": 1.0}, {"a": 2.0}, elapsed) is None


def test_counter_rate_needs_a_device_seen_twice() -> None:
    assert counter_rate({}, {"eth0": 5.0}, 10.0) is None
    assert counter_rate({"eth0": 5.0}, {"eth1": 5.0}, 10.0) is None


# -- CPU -----------------------------------------------------------------------------------


def test_cpu_percent_is_the_busy_share_between_readings() -> None:
    before = CpuTimes(total=1_000.0, idle=800.0, iowait=10.0)
    after = CpuTimes(total=1_100.0, idle=875.0, iowait=15.0)
    assert cpu_percent(before, after) == 25.0
    assert cpu_iowait_percent(before, after) == 5.0


def test_cpu_percent_is_rounded_and_clamped() -> None:
    before = CpuTimes(total=0.0, idle=0.0)
    assert cpu_percent(before, CpuTimes(total=3.0, idle=2.0)) == 33.3
    # idle counted a little ahead of total (separate reads): never below 0
    assert cpu_percent(before, CpuTimes(total=3.0, idle=3.1)) == 0.0


def test_cpu_percent_without_elapsed_cpu_time_is_unknown() -> None:
    same = CpuTimes(total=50.0, idle=40.0)
    assert cpu_percent(same, same) is None
    assert cpu_iowait_percent(same, CpuTimes(total=10.0, idle=5.0)) is None  # after a reboot


def test_process_cpu_percent_counts_one_core_as_100() -> None:
    assert process_cpu_percent(10.0, 11.5, 1.0) == 150.0
    assert process_cpu_percent(10.0, 9.0, 1.0) == 0.0  # pid reused by a younger process


# -- names ---------------------------------------------------------------------------------


def test_disk_metric_names_keep_the_mount_path() -> None:
    assert disk_metric("/", "used_percent") == "disk./.used_percent"
    assert disk_metric("/var/lib", "free_bytes") == "disk./var/lib.free_bytes"


def test_usage_metrics_are_the_ones_projected_to_full() -> None:
    assert is_usage_metric("disk./.used_percent")
    assert is_usage_metric("memory.percent")
    assert is_usage_metric("swap.percent")
    assert not is_usage_metric("cpu.percent")
    assert not is_usage_metric("memory.available_percent")


# -- rollup buckets ------------------------------------------------------------------------


def test_buckets_align_to_the_epoch() -> None:
    assert bucket_start(1_800_000_123.4, FIVE_MINUTES) == 1_800_000_000.0
    assert bucket_start(1_800_000_000.0, FIVE_MINUTES) == 1_800_000_000.0
    assert bucket_start(1_800_003_599.9, HOUR) == 1_800_000_000.0


def test_first_rollup_starts_at_the_bucket_of_the_oldest_sample() -> None:
    span = rollup_range(None, 1_800_000_123.0, 1_800_000_950.0, FIVE_MINUTES)
    assert span is not None
    assert (span.start, span.end) == (1_800_000_000.0, 1_800_000_900.0)


def test_later_rollups_recompute_the_newest_stored_bucket() -> None:
    # A late sample may have landed in the bucket computed last time.
    span = rollup_range(1_800_000_600.0, 1_700_000_000.0, 1_800_001_000.0, FIVE_MINUTES)
    assert span is not None
    assert (span.start, span.end) == (1_800_000_600.0, 1_800_000_900.0)


def test_no_rollup_before_a_bucket_completes_or_without_data() -> None:
    assert rollup_range(None, 1_800_000_010.0, 1_800_000_200.0, FIVE_MINUTES) is None
    assert rollup_range(None, None, 1_800_000_900.0, FIVE_MINUTES) is None


# -- retention -----------------------------------------------------------------------------


def test_retention_cutoffs_follow_the_configured_durations() -> None:
    now = 1_800_000_000.0
    cutoffs = retention_cutoffs(now, 7 * DAY, 90 * DAY, 730 * DAY, now, now)
    assert cutoffs.raw == now - 7 * DAY
    assert cutoffs.five_minute == now - 90 * DAY
    assert cutoffs.hourly == now - 730 * DAY


def test_samples_not_rolled_up_yet_are_kept() -> None:
    now = 1_800_000_000.0
    rolled_until = now - 10 * DAY  # the daemon was down; rollups lag behind
    cutoffs = retention_cutoffs(now, 7 * DAY, 90 * DAY, 730 * DAY, rolled_until, now)
    assert cutoffs.raw == rolled_until


def test_nothing_expires_before_the_first_rollup() -> None:
    cutoffs = retention_cutoffs(1e9, 7 * DAY, 90 * DAY, 730 * DAY, None, None)
    assert cutoffs.raw is None
    assert cutoffs.five_minute is None
    assert cutoffs.hourly is not None
    assert math.isclose(cutoffs.hourly, 1e9 - 730 * DAY)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (3600, RAW),
        (6 * 3600, RAW),
        (6 * 3600 + 1, FIVE_MINUTES),
        (7 * DAY, FIVE_MINUTES),
        (30 * DAY, HOUR),
    ],
)
def test_display_resolution_by_span(span: float, expected: int) -> None:
    assert display_resolution(span, 7 * DAY, 90 * DAY) == expected


def test_display_resolution_moves_past_what_a_resolution_keeps() -> None:
    assert display_resolution(2 * 3600, 3600, 90 * DAY) == FIVE_MINUTES
    assert display_resolution(3 * DAY, 3600, 2 * DAY) == HOUR
