"""The splay offset of a host and when a host counts as silent."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from hostkeeper.core.fleet import describe_silence, is_silent, silent_for, splay_offset

SPLAY = timedelta(minutes=15)
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_the_offset_is_whole_seconds_below_the_splay_and_the_same_for_the_same_host() -> None:
    offsets = [splay_offset(f"web-{n:02d}", SPLAY) for n in range(200)]
    assert all(timedelta(0) <= offset < SPLAY for offset in offsets)
    assert all(offset.total_seconds() == int(offset.total_seconds()) for offset in offsets)
    assert offsets == [splay_offset(f"web-{n:02d}", SPLAY) for n in range(200)]


def test_a_fleet_spreads_over_the_splay() -> None:
    """200 hosts land in every minute of a 15-minute splay, none holding a fifth of them."""
    minutes = [int(splay_offset(f"db-{n}", SPLAY).total_seconds() // 60) for n in range(200)]
    assert set(minutes) == set(range(15))
    assert max(minutes.count(minute) for minute in range(15)) < 40


def test_no_splay_means_no_offset() -> None:
    assert splay_offset("web-01", timedelta(0)) == timedelta(0)
    assert splay_offset("web-01", timedelta(milliseconds=500)) == timedelta(0)


def test_the_offset_does_not_depend_on_the_process() -> None:
    """Python salts str hashes per process; the splay must survive a restart."""
    code = (
        "from datetime import timedelta; from hostkeeper.core.fleet import splay_offset; "
        "print([splay_offset(f'web-{n}', timedelta(minutes=15)).total_seconds() "
        "for n in range(20)])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "random")
    }
    expected = str([splay_offset(f"web-{n}", SPLAY).total_seconds() for n in range(20)])
    assert outputs == {expected + "\n"}


def test_a_host_is_silent_only_past_silent_after() -> None:
    limit = timedelta(minutes=5)
    assert not is_silent(NOW - limit, NOW, limit)
    assert is_silent(NOW - limit - timedelta(seconds=1), NOW, limit)
    # A heartbeat from a clock running ahead is not negative silence.
    assert silent_for(NOW + timedelta(minutes=1), NOW) == timedelta(0)


def test_the_summary_names_the_host_and_its_last_heartbeat() -> None:
    text = describe_silence("web-03", NOW - timedelta(minutes=7, seconds=30), NOW)
    assert text == "host web-03 has not sent a heartbeat for 7 min (last 2026-12-04T11:52:30+00:00)"
