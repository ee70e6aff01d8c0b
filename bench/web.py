"""Dashboard, /api/status and reports over 30 days of 10-second history for 50 metrics.

The history (about 13 M samples plus their rollups, hourly check results, a daily run)
is generated once and cached under the cache directory. The dashboard server runs in a
child process, as in the daemon, on that database; the client runs here. Figures:

- p50/p99 of 200 requests for `/` and for `/api/status` (target p99 < 200 ms), against
  the same bytes served as a static file by the stdlib `http.server` in a child process
  (the transport floor);
- a procedure's store writes (a metrics batch, a check round, a run with a step),
  median over many rounds while another child process requests the dashboard without
  pause, against the same rounds with the dashboard idle;
- the time to write each report over the same history (target < 2 s each).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bigdb import schema_revision
from bench.harness import Context, Floor, Result, Target, median, progress, spread, stage
from bench.site import free_port

NAME = "web"
SUMMARY = "dashboard and /api/status p50/p99, a procedure beside them, report times"
METRICS = 50
STEP = 10.0
REPORTS = (
    "daily",
    "performance",
    "trends",
    "alert_effectiveness",
    "health_assessment",
    "capacity",
)

_SERVER = """
import sys, time
from hostkeeper.services.store_setup import prepare_store
from hostkeeper.config.loader import load_config
from hostkeeper.web.server import DashboardServer

config = load_config(sys.argv[1]).config
store = prepare_store(config)
server = DashboardServer(lambda: config, store)
server.start()
print("PORT", server.address[1], flush=True)
while True:
    time.sleep(3600)
"""

_HAMMER = """
import sys, urllib.request
token, urls = sys.argv[1], sys.argv[2:]
while True:
    for url in urls:
        request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
"""


def _authenticate(config_path: Path) -> str:
    """The dashboard's token (it requires one by default, and checking it is part of
    every request measured), sent by this process's urlopen from now on."""
    from hostkeeper.config.loader import load_config
    from hostkeeper.web.auth import read_token, token_path

    token = read_token(token_path(load_config(config_path).config))
    opener = urllib.request.build_opener()
    opener.addheaders = [("Authorization", f"Bearer {token}")]
    urllib.request.install_opener(opener)
    return token


def _metric_names() -> list[str]:
    base = ["cpu.percent", "memory.percent", "load.5m", "disk./.used_percent"]
    return base + [f"bench.metric_{index:02d}" for index in range(METRICS - len(base))]


def _config_text(root: Path, database: Path) -> str:
    return (
        "version: 1\ntimezone: UTC\n"
        f"paths:\n  state_dir: {json.dumps(str(root / 'state'))}\n"
        f"  report_dir: {json.dumps(str(root / 'reports'))}\n"
        f"  backup_dir: {json.dumps(str(root / 'backups'))}\n"
        f"  log_dir: {json.dumps(str(root / 'log'))}\n"
        f"database:\n  url: {json.dumps(f'sqlite:///{database}')}\n"
        "dashboard:\n  listen: 127.0.0.1:0\n"
        "baselines:\n  metrics: [cpu.percent, memory.percent, load.5m, disk./.used_percent]\n"
        "backups:\n"
        f"  - name: config\n    sources: [{json.dumps(str(root))}]\n"
        "procedures:\n"
        '  daily:\n    schedule: {hour: 2, minute: 0}\n    steps:\n      - run: ["true"]\n'
        '  weekly:\n    schedule: {cron: "0 3 * * sun"}\n    steps:\n      - run: ["true"]\n'
    )


def _generate(database: Path, root: Path, days: int, now: datetime) -> None:
    from hostkeeper.adapters.store.checks import record_check_run
    from hostkeeper.adapters.store.metrics import roll_up, write_samples
    from hostkeeper.adapters.store.runs import StepRecord, finish_run, record_step, start_run
    from hostkeeper.config.loader import parse_config
    from hostkeeper.core.health import CheckResult, CheckState
    from hostkeeper.core.metrics import Sample
    from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
    from hostkeeper.services.store_setup import prepare_store

    config = parse_config(_config_text(root, database), "bench.yaml").config
    store = prepare_store(config)
    names = _metric_names()
    start = now.timestamp() - days * 86400
    write_samples(store, [Sample(name, start - STEP, 0.0) for name in names])
    with store.read() as connection:
        from sqlalchemy import select

        from hostkeeper.adapters.store.schema import series

        ids = dict(connection.execute(select(series.c.name, series.c.id)).all())
    store.dispose()
    count = int(days * 86400 / STEP)
    with contextlib.closing(sqlite3.connect(database)) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=OFF")
        for index, name in enumerate(names):
            series_id = ids[name]
            rows = (
                (
                    series_id,
                    start + i * STEP,
                    40 + 20 * math.sin((start + i * STEP) / 86400 * 2 * math.pi + index),
                )
                for i in range(count)
            )
            raw.executemany("INSERT INTO samples (series_id, ts, value) VALUES (?, ?, ?)", rows)
            raw.commit()
    store = prepare_store(config)
    try:
        with stage("rolling up"):
            roll_up(store, now.timestamp())
        at = now - timedelta(days=days)
        while at < now:
            record_check_run(
                store,
                [
                    CheckResult(n, "disk", CheckState.OK, 40.0, "%", "ok", 0.01, at)
                    for n in ("disk_root", "memory", "load")
                ],
                score=100.0,
                computed_at=at,
            )
            at += timedelta(hours=1)
        for day in range(days, 0, -1):
            begun = now - timedelta(days=day)
            run_id = start_run(store, "daily", Trigger.SCHEDULED, begun, begun)
            record_step(
                store,
                run_id,
                StepRecord(
                    0,
                    "steps",
                    "run",
                    "run: true",
                    StepStatus.SUCCEEDED,
                    begun,
                    begun + timedelta(seconds=2),
                ),
            )
            finish_run(store, run_id, RunStatus.SUCCEEDED, begun + timedelta(seconds=3))
    finally:
        store.dispose()


def _history(context: Context) -> tuple[Path, int]:
    from hostkeeper.adapters.store.schema import SCHEMA_REVISION

    days = 3 if context.quick else 30
    database = context.cache_dir / f"web-history-{days}d.db"
    if database.exists() and schema_revision(database) == SCHEMA_REVISION:
        progress(f"using the cached history {database}")
        return database, days
    context.cache_dir.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    with stage(f"generating {days} d x {METRICS} metrics of 10 s history (once; cached)"):
        _generate(partial, context.work_dir / "web-gen", days, datetime.now(UTC))
    with contextlib.closing(sqlite3.connect(partial)) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(database)
    return database, days


@contextlib.contextmanager
def _child(args: list[str], reads_port: bool) -> Iterator[tuple[subprocess.Popen[str], int]]:
    output = subprocess.PIPE if reads_port else subprocess.DEVNULL
    process = subprocess.Popen(args, stdout=output, stderr=subprocess.DEVNULL, text=True)
    try:
        port = 0
        while reads_port and process.stdout and not port:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"{args[:3]} exited before it was listening")
            if line.startswith("PORT "):
                port = int(line.split()[1])
        yield process, port
    finally:
        process.kill()
        process.wait(10)


def _latencies(url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (loopback)
            response.read()
        times.append(time.perf_counter() - started)
    return times


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def _wait_http(url: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _procedure_rounds(config_path: Path, rounds: int) -> list[float]:
    from hostkeeper.adapters.store.checks import record_check_run
    from hostkeeper.adapters.store.metrics import write_samples
    from hostkeeper.adapters.store.runs import StepRecord, finish_run, record_step, start_run
    from hostkeeper.config.loader import load_config
    from hostkeeper.core.health import CheckResult, CheckState
    from hostkeeper.core.metrics import Sample
    from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
    from hostkeeper.services.store_setup import prepare_store

    store = prepare_store(load_config(config_path).config)
    names = _metric_names()
    times = []
    try:
        for _ in range(rounds):
            now = datetime.now(UTC)
            started = time.perf_counter()
            write_samples(store, [Sample(n, now.timestamp(), 1.0) for n in names])
            record_check_run(
                store,
                [CheckResult("memory", "memory", CheckState.OK, 1.0, "%", "", 0.0, now)],
                score=100.0,
            )
            run_id = start_run(store, "bench", Trigger.MANUAL, now)
            record_step(
                store, run_id, StepRecord(0, "steps", "run", "run", StepStatus.SUCCEEDED, now, now)
            )
            finish_run(store, run_id, RunStatus.SUCCEEDED, now)
            times.append(time.perf_counter() - started)
    finally:
        store.dispose()
    return times


def run(context: Context) -> list[Result]:
    database, days = _history(context)
    root = context.work_dir / "web"
    root.mkdir(parents=True, exist_ok=True)
    config_path = root / "hostkeeper.yaml"
    config_path.write_text(_config_text(root, database), encoding="utf-8")
    requests = context.repeat(200, 50)
    label = f"{days} d x {METRICS} metrics"
    results: list[Result] = []
    with _child([sys.executable, "-c", _SERVER, str(config_path)], True) as (_, port):
        base = f"http://127.0.0.1:{port}/"
        _wait_http(base + "healthz")
        token = _authenticate(config_path)
        static = root / "static"
        static.mkdir(exist_ok=True)
        for path, name in (("", "index.html"), ("api/status", "status.json")):
            with urllib.request.urlopen(base + path, timeout=60) as response:  # noqa: S310
                (static / name).write_bytes(response.read())
        floor_port = free_port()
        with _child(
            [
                sys.executable,
                "-m",
                "http.server",
                str(floor_port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(static),
            ],
            False,
        ):
            floor_base = f"http://127.0.0.1:{floor_port}/"
            _wait_http(floor_base + "index.html")
            for path, name, figure in (
                ("", "index.html", "dashboard page"),
                ("api/status", "status.json", "/api/status"),
            ):
                with stage(f"{requests} requests of {figure}"):
                    ours = _latencies(base + path, requests)
                    floor = _latencies(floor_base + name, requests)
                detail = {"ours": spread(ours), "static": spread(floor)}
                size = (static / name).stat().st_size
                results.append(
                    Result(
                        NAME,
                        f"{figure} p50, {label}, {size / 1024:.0f} KiB",
                        median(ours),
                        "s",
                        Floor(round(median(floor), 6), "s", "same bytes, stdlib http.server"),
                        None,
                        detail,
                    )
                )
                results.append(
                    Result(
                        NAME,
                        f"{figure} p99, {label}",
                        _p99(ours),
                        "s",
                        Floor(round(_p99(floor), 6), "s", "same bytes, stdlib http.server"),
                        Target("<", 0.2, "s"),
                        detail,
                    )
                )
        rounds = context.repeat(200, 50)
        with stage(f"{rounds} procedure rounds, dashboard idle"):
            idle = _procedure_rounds(config_path, rounds)
        hammer = [sys.executable, "-c", _HAMMER, token, base, base + "api/status"]
        with _child(hammer, False), stage(f"{rounds} procedure rounds, dashboard busy"):
            time.sleep(0.5)
            busy = _procedure_rounds(config_path, rounds)
        results.append(
            Result(
                NAME,
                "procedure store writes beside a dashboard requested without pause",
                median(busy),
                "s",
                Floor(round(median(idle), 6), "s", "same writes, dashboard idle"),
                Target("<", round(2 * median(idle), 6), "s"),
                {"idle": spread(idle), "busy": spread(busy), "cpus": os.cpu_count()},
            )
        )
    results += _reports(context, config_path, label)
    if not context.quick:
        shutil.rmtree(root / "reports", ignore_errors=True)
    return results


def _reports(context: Context, config_path: Path, label: str) -> list[Result]:
    from hostkeeper.config.loader import load_config
    from hostkeeper.reports.registry import generate
    from hostkeeper.services.store_setup import prepare_store

    config = load_config(config_path).config
    store = prepare_store(config)
    found = []
    try:
        for name in REPORTS:
            times = []
            for _ in range(context.repeat(3, 1)):
                started = time.perf_counter()
                path, _ = generate(name, config, store, datetime.now(UTC))
                times.append(time.perf_counter() - started)
            found.append(
                Result(
                    NAME,
                    f"report {name}, {label}",
                    median(times),
                    "s",
                    None,
                    Target("<", 2.0, "s"),
                    {"runs": spread(times), "bytes": path.stat().st_size},
                )
            )
    finally:
        store.dispose()
    return found
