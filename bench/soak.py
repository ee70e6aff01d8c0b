"""Soak: a busy daemon for N minutes (default 30, `--quick` 12, `--soak-minutes`).

The daemon collects metrics every second and runs a procedure every 10 s (health checks,
alert evaluation, a cleanup, a command); a `file_age` check is flipped between fresh and
stale every 20 s, so its alert rules fire and resolve over and over and notify a log
channel; the dashboard and `/metrics` are requested every second. Retention is shortened
for the run (history 1 minute, raw samples 2 minutes, rollups 5 minutes), so the
daemon's retention passes come every 15 s and every table reaches its bound within the
warm-up (8 minutes: the longest retention plus a rollup period and a pass).

Every minute the daemon's RSS, open file descriptors, threads and database size (file
and WAL; the bytes in use per table from SQLite's dbstat) are printed and recorded,
with the p50/p99 of the requests of that minute. After the warm-up each figure should
be flat: the median of the second half of the remaining minutes is compared with the
median of the first half, and the difference is the figure's growth (a leak shows as a
growth that does not fall to zero with a longer run). Not part of `make test`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import statistics
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Context, Result, Target, progress
from bench.process import Daemon, running_daemon
from bench.site import Site, free_port

NAME = "soak"
SUMMARY = "a busy daemon for 30 min: RSS, fds, threads, DB size flat after retention"
MINUTES, QUICK_MINUTES = 30.0, 12.0
WARM_UP = 8 * 60.0
FLIP_EVERY = 20.0
REQUEST_EVERY = 1.0
SAMPLE_EVERY = 60.0
# Growth from the first to the second half of the measured minutes that still counts as
# flat: allocator noise for RSS, a page or two for the database, none for fds/threads.
TOLERANCE = {"rss_mib": 1.0, "fds": 0.0, "threads": 0.0, "db_in_use_kib": 256.0}
UNITS = {"rss_mib": "MiB", "fds": "", "threads": "", "db_in_use_kib": "KiB", "db_file_kib": "KiB"}


def _config(root: Path, port: int) -> str:
    def quoted(path: Path) -> str:
        return json.dumps(str(path))

    return f"""version: 1
timezone: UTC
paths:
  state_dir: {quoted(root / "state")}
  report_dir: {quoted(root / "reports")}
  backup_dir: {quoted(root / "backups")}
  log_dir: {quoted(root / "log")}
database:
  url: {json.dumps(f"sqlite:///{root / 'state' / 'hostkeeper.db'}")}
  retention: {{runs: 1m, alerts: 1m, notifications: 1m, file_actions: 1m, backups: 1m,
    silences: 1m, slow_queries: 1m}}
daemon:
  log_level: warning
metrics:
  interval: 1s
  disks: [/]
  retention: {{raw: 2m, 5m: 5m, 1h: 5m}}
dashboard:
  listen: 127.0.0.1:{port}
  auth: none
checks:
  - {{name: flapping, type: file_age, path: {quoted(root / "flap")}, warning: 30s,
      critical: 1m}}
  - {{name: root_disk, type: disk_free, path: /, warning: 1%, critical: 1%}}
alerts:
  repeat: 1m
  rules:
    - {{name: flap_stale, check: flapping, states: [warning, critical], severity: warning,
        channels: [journal]}}
    - {{name: health_below_full, when: health_score < 100, severity: critical,
        channels: [journal]}}
  channels:
    - {{name: journal, type: log}}
cleanup:
  - {{name: app, path: {quoted(root / "app-log")}, match: "*.log", delete_after: 1m}}
procedures:
  tick:
    schedule: {{every: 10s}}
    steps:
      - health_check
      - evaluate_alerts
      - cleanup: app
      - run: ["true"]
"""


@dataclass
class Minute:
    at: float  # seconds since the daemon was ready
    rss_mib: float
    fds: int
    fd_kinds: dict[str, int]  # database (file, WAL, shm), socket, other
    threads: int
    db_file_kib: float
    db_in_use_kib: float
    tables_kib: dict[str, float]
    rows: dict[str, int]
    dashboard_ms: tuple[float, float]  # p50, p99 of the minute
    metrics_ms: tuple[float, float]


@dataclass
class Requests:
    dashboard: list[float] = field(default_factory=list)
    metrics: list[float] = field(default_factory=list)
    failures: int = 0

    def take(self) -> tuple[tuple[float, float], tuple[float, float]]:
        figures = (_p50_p99(self.dashboard), _p50_p99(self.metrics))
        self.dashboard, self.metrics = [], []
        return figures


def _p50_p99(seconds: list[float]) -> tuple[float, float]:
    if not seconds:
        return (0.0, 0.0)
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (statistics.median(ordered) * 1000, p99 * 1000)


def _get(url: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
        response.read()
    return time.monotonic() - started


def _flip(path: Path, stale: bool) -> None:
    moment = time.time() - (3600 if stale else 0)
    os.utime(path, (moment, moment))


def _drop_logs(directory: Path, round_number: int) -> None:
    """Two files for `cleanup: app` to delete on its next run."""
    old = time.time() - 3600
    for index in range(2):
        path = directory / f"app-{round_number}-{index}.log"
        path.write_text("x" * 512)
        os.utime(path, (old, old))


def _database_figures(database: Path) -> tuple[float, float, dict[str, float], dict[str, int]]:
    """File size (with WAL), bytes in use, KiB per table (its indexes included), rows."""
    on_disk = sum(
        path.stat().st_size
        for path in (database, database.with_name(database.name + "-wal"))
        if path.exists()
    )
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        owners = dict(db.execute("SELECT name, tbl_name FROM sqlite_master WHERE tbl_name != ''"))
        tables: dict[str, float] = {}
        for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            owner = owners.get(name, name)
            tables[owner] = tables.get(owner, 0.0) + size / 1024
        names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = {
            name: int(db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608 - names from sqlite_master
            for name in names
            if not name.startswith("sqlite_")
        }
    in_use = sum(tables.values())
    return on_disk / 1024, in_use, dict(sorted(tables.items())), rows


def _descriptor_kinds(pid: int, database: Path) -> dict[str, int]:
    """The daemon's descriptors by kind. SQLite keeps a closed connection's descriptors
    for reuse while others are open, so `database` follows the most connections ever
    open at once; `socket` includes the scrapers' connections of the moment."""
    kinds = {"database": 0, "socket": 0, "other": 0}
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(entry)
        except OSError:  # closed meanwhile
            continue
        if target.startswith(str(database)):
            kinds["database"] += 1
        elif target.startswith("socket:"):
            kinds["socket"] += 1
        else:
            kinds["other"] += 1
    return kinds


def _measure(daemon: Daemon, database: Path, since: float, requests: Requests) -> Minute:
    status = daemon.status()
    file_kib, in_use_kib, tables, rows = _database_figures(database)
    dashboard, metrics = requests.take()
    return Minute(
        at=time.monotonic() - since,
        rss_mib=daemon.memory_mib("VmRSS"),
        fds=len(os.listdir(f"/proc/{daemon.pid}/fd")),
        fd_kinds=_descriptor_kinds(daemon.pid, database),
        threads=int(status["Threads"]),
        db_file_kib=file_kib,
        db_in_use_kib=in_use_kib,
        tables_kib=tables,
        rows=rows,
        dashboard_ms=dashboard,
        metrics_ms=metrics,
    )


def _print(minute: Minute) -> None:
    progress(
        f"{minute.at / 60:5.1f} min  RSS {minute.rss_mib:6.1f} MiB  fds {minute.fds:3d} "
        f"(db {minute.fd_kinds['database']}, sockets {minute.fd_kinds['socket']})  "
        f"threads {minute.threads:2d}  db {minute.db_file_kib:7.0f} KiB "
        f"(in use {minute.db_in_use_kib:6.0f})  runs {minute.rows.get('runs', 0):4d}  "
        f"alerts {minute.rows.get('alerts', 0):3d}  samples {minute.rows.get('samples', 0):6d}  "
        f"/ p50 {minute.dashboard_ms[0]:.0f} ms p99 {minute.dashboard_ms[1]:.0f} ms  "
        f"/metrics p99 {minute.metrics_ms[1]:.0f} ms"
    )


def _drive(daemon: Daemon, site: Site, port: int, minutes: float) -> list[Minute]:
    """Flip the check, feed the cleanup, request the pages, measure every minute."""
    flap = site.root / "flap" / "stamp"
    base = f"http://127.0.0.1:{port}"
    requests = Requests()
    ready = time.monotonic()
    end = ready + minutes * 60
    next_request, next_flip, next_sample = ready, ready, ready + SAMPLE_EVERY
    stale, rounds = False, 0
    series: list[Minute] = []
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_flip:
            stale = not stale
            _flip(flap, stale)
            _drop_logs(site.root / "app-log", rounds)
            rounds += 1
            next_flip += FLIP_EVERY
        if now >= next_request:
            try:
                requests.dashboard.append(_get(f"{base}/"))
                requests.metrics.append(_get(f"{base}/metrics"))
            except OSError:
                requests.failures += 1
            next_request += REQUEST_EVERY
        if now >= next_sample:
            if not daemon.alive():
                raise RuntimeError(f"the daemon died during the soak\n{daemon.log_tail()}")
            series.append(_measure(daemon, site.database, ready, requests))
            _print(series[-1])
            next_sample += SAMPLE_EVERY
        daemon.notify.collect(min(next_request, next_flip, next_sample))
    if requests.failures:
        progress(f"{requests.failures} request rounds failed")
    return series


def _growth(values: list[float]) -> float:
    """Median of the second half minus the median of the first half."""
    half = len(values) // 2
    if half == 0:
        return 0.0
    return statistics.median(values[-half:]) - statistics.median(values[:half])


def _results(series: list[Minute], minutes: float) -> list[Result]:
    measured = [minute for minute in series if minute.at > WARM_UP]
    detail = {
        "minutes": minutes,
        "warm_up_seconds": WARM_UP,
        "per_minute": [minute.__dict__ for minute in series],
    }
    results = []
    for name in ("rss_mib", "fds", "threads", "db_in_use_kib", "db_file_kib"):
        values = [float(getattr(minute, name)) for minute in measured]
        growth = _growth(values)
        figures = {
            "after_warm_up": values[0] if values else None,
            "end": values[-1] if values else None,
            "min": min(values, default=None),
            "max": max(values, default=None),
            "growth": growth,
        }
        # No verdict without two minutes to compare.
        judged = name in TOLERANCE and len(values) >= 2
        target = Target("<=", TOLERANCE[name], UNITS[name]) if judged else None
        label = name.replace("_", " ").replace("kib", "").replace("mib", "").strip()
        results.append(
            Result(
                NAME,
                f"{label}: growth after warm-up, {len(values)} minutes",
                growth,
                UNITS[name],
                None,
                target,
                figures if name != "rss_mib" else {**figures, **detail},
            )
        )
    dashboard_p99 = [minute.dashboard_ms[1] for minute in measured]
    if dashboard_p99:
        results.append(
            Result(
                NAME,
                "dashboard p99, worst minute after warm-up",
                max(dashboard_p99),
                "ms",
                None,
                None,
                {"first": dashboard_p99[0], "last": dashboard_p99[-1]},
            )
        )
    return results


def run(context: Context) -> list[Result]:
    minutes = context.soak_minutes or (QUICK_MINUTES if context.quick else MINUTES)
    if minutes * 60 <= WARM_UP + 2 * SAMPLE_EVERY:
        context.note(f"soak: {minutes:g} minutes leave under two minutes after the warm-up")
    root = context.work_dir / "soak"
    for name in ("state", "reports", "backups", "log", "app-log", "flap"):
        (root / name).mkdir(parents=True, exist_ok=True)
    (root / "flap" / "stamp").write_text("stamp\n")
    port = free_port()
    config = root / "hostkeeper.yaml"
    config.write_text(_config(root, port))
    site = Site(root, config, root / "state" / "hostkeeper.db")
    with running_daemon(site, label="soak") as daemon:
        daemon.wait_ready()
        progress(f"soak for {minutes:g} min; warm-up {WARM_UP / 60:g} min")
        series = _drive(daemon, site, port, minutes)
    results = _results(series, minutes)
    flat = [r for r in results if r.target is not None]
    if not flat:
        return results
    context.note(
        "soak: "
        + ", ".join(f"{r.figure.split(':')[0]} {'flat' if r.met else 'GROWS'}" for r in flat)
        + f" over the {sum(1 for m in series if m.at > WARM_UP)} minutes after an "
        f"{WARM_UP / 60:g}-minute warm-up (retention passes every 15 s)"
    )
    return results
