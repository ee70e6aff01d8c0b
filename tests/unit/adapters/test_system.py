"""The psutil collector, process scan and directory walk, on this real host."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from hostkeeper.adapters.system import (
    ALL_GROUPS,
    SystemCollector,
    existing_paths,
    filesystem_usage,
    measure_tree,
    process_usage,
    top_processes,
)

GAUGES = {
    "memory.percent",
    "memory.available_percent",
    "memory.available_bytes",
    "memory.used_bytes",
    "swap.percent",
    "swap.used_bytes",
    "load.1m",
    "load.5m",
    "load.15m",
    "load.5m_per_core",
    "disk./.used_percent",
    "disk./.free_bytes",
    "processes.count",
}
RATES = {
    "cpu.percent",
    "cpu.iowait_percent",
    "disk_io.read_bytes_per_s",
    "disk_io.write_bytes_per_s",
    "disk_io.read_ops_per_s",
    "disk_io.write_ops_per_s",
    "net_io.recv_bytes_per_s",
    "net_io.sent_bytes_per_s",
    "net_io.recv_packets_per_s",
    "net_io.sent_packets_per_s",
    "net_io.errors_per_s",
    "net_io.drops_per_s",
}


def _has_whole_disk() -> bool:
    counters = psutil.disk_io_counters(perdisk=True) or {}
    return any(os.path.exists(f"/sys/block/{name}") for name in counters)


def _has_network_interface() -> bool:
    return any(not name.startswith("lo") for name in psutil.net_io_counters(pernic=True) or {})


def test_first_round_has_the_gauges_and_the_second_the_rates_too() -> None:
    collector = SystemCollector(ALL_GROUPS, ["/"])
    first = {sample.metric: sample for sample in collector.collect(ts=1_800_000_000.0)}
    assert set(first) >= GAUGES
    assert not RATES & set(first)
    assert {sample.ts for sample in first.values()} == {1_800_000_000.0}
    time.sleep(0.2)
    second = {sample.metric: sample.value for sample in collector.collect()}
    expected = {"cpu.percent", "cpu.iowait_percent"}
    if _has_whole_disk():
        expected |= {name for name in RATES if name.startswith("disk_io.")}
    if _has_network_interface():
        expected |= {name for name in RATES if name.startswith("net_io.")}
    assert expected <= set(second)
    assert 0.0 <= second["cpu.percent"] <= 100.0
    assert all(second[name] >= 0 for name in expected)
    assert collector.errors == []


def test_values_agree_with_the_host() -> None:
    values = {s.metric: s.value for s in SystemCollector(ALL_GROUPS, ["/"]).collect()}
    cores = psutil.cpu_count() or 1
    assert values["load.5m_per_core"] == pytest.approx(values["load.5m"] / cores, abs=0.005)
    assert 0.0 <= values["memory.percent"] <= 100.0
    assert values["memory.available_percent"] == pytest.approx(
        100.0 - values["memory.percent"], abs=2.0
    )
    statvfs = os.statvfs("/")
    assert values["disk./.free_bytes"] == pytest.approx(
        statvfs.f_bavail * statvfs.f_frsize, rel=0.05
    )
    assert values["processes.count"] >= 1
    assert values["processes.running"] >= 1  # this test is running


def test_only_the_configured_groups_and_disks_are_collected(tmp_path: Path) -> None:
    collector = SystemCollector(["disk", "load"], ["/", str(tmp_path)])
    collector.prime()
    names = {sample.metric for sample in collector.collect()}
    assert names == {
        "load.1m",
        "load.5m",
        "load.15m",
        "load.5m_per_core",
        "disk./.used_percent",
        "disk./.free_bytes",
        f"disk.{tmp_path}.used_percent",
        f"disk.{tmp_path}.free_bytes",
    }


def test_a_missing_disk_is_reported_and_the_rest_collected(tmp_path: Path) -> None:
    missing = str(tmp_path / "not-mounted")
    collector = SystemCollector(["disk"], [missing, "/"])
    names = {sample.metric for sample in collector.collect()}
    assert names == {"disk./.used_percent", "disk./.free_bytes"}
    assert len(collector.errors) == 1
    assert missing in collector.errors[0]


def test_unknown_groups_are_refused() -> None:
    with pytest.raises(ValueError, match="gpu"):
        SystemCollector(["cpu", "gpu"])


def test_process_scan_sees_this_process_and_ranks_by_memory_and_cpu() -> None:
    usages = process_usage(sample_seconds=0.3)
    mine = next(usage for usage in usages if usage.pid == os.getpid())
    assert mine.rss_bytes > 1_000_000
    assert "pytest" in mine.command or "python" in mine.command
    by_memory = top_processes(usages, "rss_bytes", 3)
    assert len(by_memory) == 3
    assert by_memory[0].rss_bytes >= by_memory[1].rss_bytes >= by_memory[2].rss_bytes
    by_cpu = top_processes(usages, "cpu_percent", 5)
    assert by_cpu[0].cpu_percent >= by_cpu[-1].cpu_percent >= 0.0


def test_process_command_lines_carry_no_secret_arguments() -> None:
    # Another user's process with secrets on its command line, as resource reports see it.
    secrets = ["hunter2-pw", "t0ken-value", "abc-bearer", "u:p4ss"]
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; time.sleep(30)",
            "--password=hunter2-pw",
            "--token",
            "t0ken-value",
            "Authorization: Bearer abc-bearer",
            "https://u:p4ss@example.org/x",
        ]
    )
    try:
        usages = process_usage(sample_seconds=0.2)
    finally:
        process.kill()
        process.wait()
    [theirs] = [usage for usage in usages if usage.pid == process.pid]
    assert "--password=*** --token ***" in theirs.command
    for secret in secrets:
        assert secret not in theirs.command


def test_filesystem_usage_of_root() -> None:
    usage = filesystem_usage("/")
    assert usage.total_bytes > usage.free_bytes > 0
    assert 0.0 < usage.used_percent < 100.0
    with pytest.raises(OSError):
        filesystem_usage("/no/such/mount/point")


# -- directory walk ------------------------------------------------------------------------


def _allocated(path: Path) -> int:
    return os.lstat(path).st_blocks * 512


def test_measure_tree_adds_allocated_sizes_like_du(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "logs" / "old").mkdir(parents=True)
    (root / "cache").mkdir()
    files = {
        root / "a.txt": 5_000,
        root / "logs" / "app.log": 70_000,
        root / "logs" / "old" / "app.log.1": 200_000,
        root / "cache" / "blob": 30_000,
    }
    for path, size in files.items():
        path.write_bytes(os.urandom(size))
    # A hard link counts once; a symlink to a big file outside counts as the link only.
    os.link(root / "logs" / "app.log", root / "cache" / "same-inode")
    outside = tmp_path / "outside.bin"
    outside.write_bytes(os.urandom(500_000))
    (root / "link-out").symlink_to(outside)
    (root / "dir-link").symlink_to(tmp_path)

    usage = measure_tree(str(root), keep_largest=2)
    directories = [root, root / "logs", root / "logs" / "old", root / "cache"]
    expected = (
        sum(_allocated(path) for path in files)
        + sum(_allocated(path) for path in directories)
        + _allocated(root / "link-out")
        + _allocated(root / "dir-link")
    )
    assert usage.size_bytes == expected
    assert usage.files == 6  # four files and two symlinks; the hard link once
    assert usage.directories == 4
    assert not usage.truncated
    assert [path for path, _ in usage.largest] == [str(root / "logs"), str(root / "logs" / "old")]
    logs_total = (
        _allocated(root / "logs")
        + _allocated(root / "logs" / "old")
        + _allocated(root / "logs" / "app.log")
        + _allocated(root / "logs" / "old" / "app.log.1")
    )
    assert usage.largest[0][1] == logs_total


def test_measure_tree_stops_at_max_entries(tmp_path: Path) -> None:
    for index in range(50):
        (tmp_path / f"f{index}").write_text("x")
    usage = measure_tree(str(tmp_path), max_entries=10)
    assert usage.truncated
    assert usage.files == 10


def test_measure_tree_calls_check_so_a_walk_can_be_stopped(tmp_path: Path) -> None:
    for index in range(2500):
        (tmp_path / f"f{index}").touch()

    class Stop(Exception):
        pass

    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise Stop

    with pytest.raises(Stop):
        measure_tree(str(tmp_path), check=check)


def test_measure_tree_of_a_file_and_of_nothing(tmp_path: Path) -> None:
    single = tmp_path / "one"
    single.write_bytes(b"x" * 10_000)
    usage = measure_tree(str(single))
    assert (usage.files, usage.size_bytes) == (1, _allocated(single))
    with pytest.raises(FileNotFoundError):
        measure_tree(str(tmp_path / "absent"))


def test_existing_paths_splits_and_deduplicates(tmp_path: Path) -> None:
    present, missing = existing_paths([str(tmp_path), str(tmp_path) + "/", str(tmp_path / "x")])
    assert present == [str(tmp_path)]
    assert missing == [str(tmp_path / "x")]
