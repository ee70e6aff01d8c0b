"""Chart series are reduced to a bounded number of points without moving their values."""

from __future__ import annotations

from hostkeeper.reports.common import downsample


def test_short_series_are_kept_as_they_are() -> None:
    pairs = [(float(t), float(t % 7)) for t in range(100)]
    assert downsample(pairs, 0, 100, limit=100) == pairs


def test_long_series_become_slot_means() -> None:
    # 10 000 points over 10 000 s into 100 slots of 100 s: each slot's mean and first time
    pairs = [(float(t), float(t // 100)) for t in range(10_000)]
    reduced = downsample(pairs, 0, 10_000, limit=100)
    assert len(reduced) == 100
    assert reduced[0] == (0.0, 0.0) and reduced[-1] == (9900.0, 99.0)
    assert [t for t, _ in reduced] == [100.0 * slot for slot in range(100)]


def test_slot_mean_is_the_mean_of_its_values() -> None:
    pairs = [(0.0, 1.0), (1.0, 3.0), (10.0, 10.0), (11.0, 20.0)]
    assert downsample(pairs, 0, 20, limit=2) == [(0.0, 2.0), (10.0, 15.0)]
