"""What the host looks like right now: psutil readings, processes and directory sizes.

`SystemCollector` turns host counters into samples with stable names (docs/metrics.md).
Rates and CPU shares need two readings, so a collector keeps the previous one; the first
`collect()` after creation yields only the gauges. The per-process scan and directory
walks are expensive and belong to `resource_report`, never to the 10-second cycle.

Kept whole: the psutil readings and the `du -x` walk share the sample naming of
docs/metrics.md.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from hostkeeper.core.metrics import (
    CpuTimes,
    Sample,
    counter_rate,
    cpu_iowait_percent,
    cpu_percent,
    disk_metric,
    process_cpu_percent,
)
from hostkeeper.core.redact import redact_argv

ALL_GROUPS = ("cpu", "memory", "swap", "load", "disk", "disk_io", "net_io", "processes")
LOOPBACK_PREFIXES = ("lo",)


@dataclass
class _Counters:
    at: float  # time.monotonic()
    cpu: CpuTimes | None = None
    disk_io: dict[str, dict[str, float]] = field(default_factory=dict)  # field -> device -> n
    net_io: dict[str, dict[str, float]] = field(default_factory=dict)


class SystemCollector:
    """Collects the configured metric groups; not thread-safe (one owner at a time)."""

    def __init__(self, groups: Iterable[str] = ALL_GROUPS, disks: Sequence[str] = ("/",)) -> None:
        self.groups = frozenset(groups)
        unknown = self.groups - set(ALL_GROUPS)
        if unknown:
            raise ValueError(f"unknown metric groups: {', '.join(sorted(unknown))}")
        self.disks = list(disks)
        self.errors: list[str] = []  # problems of the last collect(), e.g. a missing disk
        self._previous: _Counters | None = None
        self._cpu_count = psutil.cpu_count() or 1
        self._whole_disks: dict[str, bool] = {}

    def prime(self) -> None:
        """Take the counter readings that the next collect() computes rates against."""
        self._previous = self._read_counters()

    def collect(self, ts: float | None = None) -> list[Sample]:
        """One round of samples stamped `ts` (default: now, to the millisecond, which the
        store's blocks keep in a fraction of a byte where a full-precision clock costs
        two or three)."""
        stamp = round(time.time(), 3) if ts is None else ts
        self.errors = []
        values: dict[str, float] = {}
        current = self._read_counters()
        previous, self._previous = self._previous, current
        if previous is not None:
            self._rates(previous, current, values)
        if "memory" in self.groups:
            self._memory(values)
        if "swap" in self.groups:
            self._swap(values)
        if "load" in self.groups:
            self._load(values)
        if "disk" in self.groups:
            self._disks(values)
        if "processes" in self.groups:
            self._processes(values)
        return [Sample(name, stamp, value) for name, value in values.items()]

    # -- counters --------------------------------------------------------------------------

    def _read_counters(self) -> _Counters:
        counters = _Counters(at=time.monotonic())
        if "cpu" in self.groups:
            times = psutil.cpu_times()
            total = sum(times)
            # Linux counts guest time inside user time as well; psutil leaves it out too.
            total -= getattr(times, "guest", 0.0) + getattr(times, "guest_nice", 0.0)
            iowait = getattr(times, "iowait", 0.0)
            counters.cpu = CpuTimes(total=total, idle=times.idle + iowait, iowait=iowait)
        if "disk_io" in self.groups:
            with contextlib.suppress(OSError, RuntimeError):
                per_disk = psutil.disk_io_counters(perdisk=True) or {}
                whole = {name: io for name, io in per_disk.items() if self._is_whole_disk(name)}
                counters.disk_io = {
                    "read_bytes": {name: io.read_bytes for name, io in whole.items()},
                    "write_bytes": {name: io.write_bytes for name, io in whole.items()},
                    "read_ops": {name: io.read_count for name, io in whole.items()},
                    "write_ops": {name: io.write_count for name, io in whole.items()},
                }
        if "net_io" in self.groups:
            with contextlib.suppress(OSError, RuntimeError):
                per_nic = {
                    name: io
                    for name, io in (psutil.net_io_counters(pernic=True) or {}).items()
                    if not name.startswith(LOOPBACK_PREFIXES)
                }
                counters.net_io = {
                    "recv_bytes": {name: io.bytes_recv for name, io in per_nic.items()},
                    "sent_bytes": {name: io.bytes_sent for name, io in per_nic.items()},
                    "recv_packets": {name: io.packets_recv for name, io in per_nic.items()},
                    "sent_packets": {name: io.packets_sent for name, io in per_nic.items()},
                    "errors": {name: io.errin + io.errout for name, io in per_nic.items()},
                    "drops": {name: io.dropin + io.dropout for name, io in per_nic.items()},
                }
        return counters

    def _is_whole_disk(self, name: str) -> bool:
        """Whole devices (sda, nvme0n1), not partitions, so no byte is counted twice."""
        known = self._whole_disks.get(name)
        if known is None:
            known = os.path.exists(f"/sys/block/{name.replace('/', '!')}")
            self._whole_disks[name] = known
        return known

    def _rates(self, previous: _Counters, current: _Counters, values: dict[str, float]) -> None:
        elapsed = current.at - previous.at
        if previous.cpu is not None and current.cpu is not None:
            busy = cpu_percent(previous.cpu, current.cpu)
            if busy is not None:
                values["cpu.percent"] = busy
            waiting = cpu_iowait_percent(previous.cpu, current.cpu)
            if waiting is not None:
                values["cpu.iowait_percent"] = waiting
        for group, old, new in (
            ("disk_io", previous.disk_io, current.disk_io),
            ("net_io", previous.net_io, current.net_io),
        ):
            for name, counter in new.items():
                rate = counter_rate(old.get(name, {}), counter, elapsed)
                if rate is not None:
                    values[f"{group}.{name}_per_s"] = round(rate, 1)

    # -- gauges ----------------------------------------------------------------------------

    def _memory(self, values: dict[str, float]) -> None:
        memory = psutil.virtual_memory()
        values["memory.percent"] = round(memory.percent, 1)
        values["memory.available_percent"] = (
            round(100.0 * memory.available / memory.total, 1) if memory.total else 0.0
        )
        values["memory.available_bytes"] = float(memory.available)
        values["memory.used_bytes"] = float(memory.total - memory.available)

    def _swap(self, values: dict[str, float]) -> None:
        swap = psutil.swap_memory()
        values["swap.percent"] = round(swap.percent, 1) if swap.total else 0.0
        values["swap.used_bytes"] = float(swap.used)

    def _load(self, values: dict[str, float]) -> None:
        one, five, fifteen = os.getloadavg()
        values["load.1m"] = round(one, 2)
        values["load.5m"] = round(five, 2)
        values["load.15m"] = round(fifteen, 2)
        values["load.5m_per_core"] = round(five / self._cpu_count, 3)

    def _disks(self, values: dict[str, float]) -> None:
        for path in self.disks:
            try:
                usage = psutil.disk_usage(path)
            except OSError as error:
                self.errors.append(f"disk {path}: {error.strerror or error}")
                continue
            # Like df's Use%: used over what root and users together can have.
            usable = usage.used + usage.free
            used_percent = 100.0 * usage.used / usable if usable else 0.0
            values[disk_metric(path, "used_percent")] = round(used_percent, 2)
            values[disk_metric(path, "free_bytes")] = float(usage.free)

    def _processes(self, values: dict[str, float]) -> None:
        values["processes.count"] = float(len(psutil.pids()))
        running, blocked = _scheduler_counts()
        if running is not None:
            values["processes.running"] = float(running)
        if blocked is not None:
            values["processes.blocked"] = float(blocked)


def _scheduler_counts() -> tuple[int | None, int | None]:
    """Runnable and I/O-blocked tasks from /proc/stat (Linux); None elsewhere."""
    running = blocked = None
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("procs_running "):
                    running = int(line.split()[1])
                elif line.startswith("procs_blocked "):
                    blocked = int(line.split()[1])
    except OSError:
        pass
    return running, blocked


# -- processes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessUsage:
    pid: int
    name: str
    user: str | None
    rss_bytes: int
    memory_percent: float
    cpu_percent: float  # over the sampling interval; 100 = one core
    command: str

    def as_dict(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "name": self.name,
            "user": self.user,
            "rss_bytes": self.rss_bytes,
            "memory_percent": self.memory_percent,
            "cpu_percent": self.cpu_percent,
            "command": self.command,
        }


_PROCESS_ATTRS = ["pid", "name", "username", "memory_info", "cpu_times", "cmdline", "create_time"]


def process_usage(
    sample_seconds: float = 1.0, wait: Callable[[float], object] = time.sleep
) -> list[ProcessUsage]:
    """Every process's memory and its CPU use over `sample_seconds` (two scans).

    Processes that exit or cannot be read between the scans are left out.
    """
    first = _scan_processes()
    started = time.monotonic()
    wait(sample_seconds)
    second = _scan_processes()
    elapsed = time.monotonic() - started
    total_memory = psutil.virtual_memory().total or 1
    usages = []
    for key, info in second.items():
        before = first.get(key)
        cpu_before = _cpu_seconds(before) if before else _cpu_seconds(info)
        memory = info.get("memory_info")
        rss = int(memory.rss) if memory is not None else 0
        # Published in resource reports: other users' passwords and tokens stay out.
        arguments = redact_argv([str(a) for a in info.get("cmdline") or []])
        command = " ".join(arguments) or f"[{info.get('name') or '?'}]"
        usages.append(
            ProcessUsage(
                pid=int(info["pid"]),
                name=str(info.get("name") or "?"),
                user=info.get("username"),
                rss_bytes=rss,
                memory_percent=round(100.0 * rss / total_memory, 2),
                cpu_percent=process_cpu_percent(cpu_before, _cpu_seconds(info), elapsed),
                command=command[:300],
            )
        )
    return usages


def _scan_processes() -> dict[tuple[int, float], dict[str, Any]]:
    """Process infos keyed by (pid, create time), so a reused pid is not mistaken."""
    found: dict[tuple[int, float], dict[str, Any]] = {}
    for process in psutil.process_iter(_PROCESS_ATTRS):
        info = process.info
        created = info.get("create_time")
        if info.get("cpu_times") is None or created is None:
            continue
        found[(int(info["pid"]), float(created))] = info
    return found


def _cpu_seconds(info: dict[str, Any]) -> float:
    times = info.get("cpu_times")
    if times is None:
        return 0.0
    return float(getattr(times, "user", 0.0)) + float(getattr(times, "system", 0.0))


def top_processes(usages: Sequence[ProcessUsage], by: str, limit: int) -> list[ProcessUsage]:
    """The `limit` processes using the most `rss_bytes` or `cpu_percent`."""
    return sorted(usages, key=lambda usage: getattr(usage, by), reverse=True)[:limit]


# -- filesystems and directories -----------------------------------------------------------


@dataclass(frozen=True)
class FilesystemUsage:
    path: str
    total_bytes: int
    used_bytes: int
    free_bytes: int
    used_percent: float

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "total_bytes": self.total_bytes,
            "used_bytes": self.used_bytes,
            "free_bytes": self.free_bytes,
            "used_percent": self.used_percent,
        }


def filesystem_usage(path: str) -> FilesystemUsage:
    """Size, use and free space of the filesystem holding `path`; raises OSError."""
    usage = psutil.disk_usage(path)
    usable = usage.used + usage.free
    return FilesystemUsage(
        path=path,
        total_bytes=int(usage.total),
        used_bytes=int(usage.used),
        free_bytes=int(usage.free),
        used_percent=round(100.0 * usage.used / usable, 2) if usable else 0.0,
    )


@dataclass
class TreeUsage:
    """What `measure_tree` found under one root (sizes are allocated bytes, like du)."""

    path: str
    size_bytes: int = 0
    files: int = 0
    directories: int = 0
    truncated: bool = False  # stopped at max_entries
    errors: int = 0  # entries that could not be read
    largest: list[tuple[str, int]] = field(default_factory=list)  # (directory, bytes)


# Complexity ceiling exception (C901): an fd-relative walk like `du -x`: the openat/fstat/close
# discipline reads best in one loop.
def measure_tree(  # noqa: C901
    root: str,
    max_entries: int = 200_000,
    keep_largest: int = 10,
    check: Callable[[], None] | None = None,
) -> TreeUsage:
    """Walk `root` without following symlinks or leaving its filesystem, like `du -x`.

    Hard-linked files count once. `check` is called every thousand entries (it raises to
    stop the walk). Raises OSError when `root` itself cannot be read.
    """
    root_stat = os.lstat(root)
    usage = TreeUsage(path=root)
    if not stat.S_ISDIR(root_stat.st_mode):
        usage.size_bytes = _allocated(root_stat)
        usage.files = 1
        return usage
    device = root_stat.st_dev
    seen_links: set[tuple[int, int]] = set()
    totals: dict[str, int] = {}
    own_size = {root: _allocated(root_stat)}  # a directory's own blocks, like du counts
    # Post-order walk: a directory's total is known once its subdirectories are done.
    stack: list[tuple[str, bool]] = [(root, False)]
    children: dict[str, list[str]] = {}
    entries = 0
    while stack:
        path, expanded = stack.pop()
        if expanded:
            totals[path] += sum(totals.pop(child, 0) for child in children.pop(path, []))
            if path != root:
                _keep_largest(usage.largest, path, totals[path], keep_largest)
            continue
        usage.directories += 1
        totals[path] = own_size.pop(path, 0)
        stack.append((path, True))
        subdirectories: list[str] = []
        try:
            with os.scandir(path) as iterator:
                for entry in iterator:
                    entries += 1
                    if check is not None and entries % 1000 == 0:
                        check()
                    if entries > max_entries:
                        usage.truncated = True
                        break
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        usage.errors += 1
                        continue
                    if stat.S_ISDIR(info.st_mode):
                        if info.st_dev == device:
                            subdirectories.append(entry.path)
                            own_size[entry.path] = _allocated(info)
                        continue
                    if info.st_nlink > 1:
                        key = (info.st_dev, info.st_ino)
                        if key in seen_links:
                            continue
                        seen_links.add(key)
                    usage.files += 1
                    totals[path] += _allocated(info)
        except OSError:
            usage.errors += 1
        if usage.truncated:
            stack = [(item, True) for item, done in stack if done]
            subdirectories = []
        children[path] = subdirectories
        stack.extend((child, False) for child in subdirectories)
    usage.size_bytes = totals.get(root, 0)
    usage.largest.sort(key=lambda item: item[1], reverse=True)
    del usage.largest[keep_largest:]
    return usage


def _allocated(info: os.stat_result) -> int:
    blocks = getattr(info, "st_blocks", None)
    return int(blocks) * 512 if blocks is not None else int(info.st_size)


def _keep_largest(largest: list[tuple[str, int]], path: str, size: int, limit: int) -> None:
    largest.append((path, size))
    if len(largest) > limit * 4:  # trim now and then, not on every directory
        largest.sort(key=lambda item: item[1], reverse=True)
        del largest[limit:]


def existing_paths(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split paths into those that exist and those that do not, dropping duplicates."""
    present: list[str] = []
    missing: list[str] = []
    for path in dict.fromkeys(str(Path(p)) for p in paths):
        (present if os.path.lexists(path) else missing).append(path)
    return present, missing
