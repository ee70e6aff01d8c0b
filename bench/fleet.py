"""A fleet on one PostgreSQL on this machine: how many hosts it takes, what the fleet
page costs at 500 hosts, and how many bytes a host adds a day.

A private PostgreSQL server (Debian's binaries, tests/postgres_server.py, fsync off like
the tests) is started for the run. Simulated hosts run in worker processes, each host
doing what a daemon does to the store: every 10 s a batch of 27 metric samples, every
30 s its heartbeat (with the summary of its status model, computed from the store as
the daemon computes it), and a run of three steps every 10 minutes.

- Ingest: the fleet grows (50, 100, 200, ... hosts) until the p99 lag of a host's
  writes behind their due time reaches 10 s; the figure is the largest fleet under it.
  The floor is the same sample batches as a bare COPY, per host, in the same run. The
  clients share this machine's cores with the server, so the figure is a lower bound
  of what the server takes from hosts on their own machines.
- Fleet page and /api/fleet: p50/p99 of uncached requests (each URL distinct, past the
  dashboard's 2-second cache) at 500 hosts, served by a DashboardServer in a child
  process (target p99 < 200 ms), against the view's two store reads alone.
- Bytes per host per day: the database's growth while the largest sustained fleet
  ran (after its first round), per host, scaled to a day: raw samples, heartbeat
  updates and runs; rollups come on top (a daemon rolls up every 5 minutes; they are
  about 1/30 of the raw rows) and raw samples expire after `metrics.retention.raw`.
"""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness import Context, Floor, Result, Target, median, progress, spread, stage

NAME = "fleet"
SUMMARY = "hosts one PostgreSQL takes (ingest lag < 10 s), fleet page p99 at 500, bytes/host/day"
METRICS = 27
SAMPLE_EVERY = 10.0
HEARTBEAT_EVERY = 30.0
RUN_EVERY = 600.0
LAG_LIMIT = 10.0
PAGE_HOSTS = 500
WORKERS = 4

_CONFIG = """\
version: 1
paths: {{state_dir: {root}}}
database: {{url: "{url}"}}
backups: [{{name: etc, sources: [{root}]}}]
procedures:
  daily: {{schedule: {{hour: 2}}, steps: [{{backup: etc}}, cleanup]}}
  weekly: {{schedule: {{cron: "0 3 * * sun"}}, steps: [{{restore_test: etc}}]}}
  monthly: {{schedule: {{day: 1st sat, hour: 1}}, steps: [{{db: [analyze]}}]}}
  pulse: {{schedule: {{every: 10m}}, steps: [{{run: ["true"]}}]}}
dashboard: {{listen: "127.0.0.1:0", auth: none}}
"""

# One worker process: hosts first..first+count, until `until` (epoch seconds); prints
# the lag of every write, in seconds, as JSON.
_WORKER = """
import heapq, json, sys, time
from datetime import UTC, datetime, timedelta
from hostkeeper.adapters.store import open_store
from hostkeeper.adapters.store import fleet as fleet_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.metrics import write_samples
from hostkeeper.config import parse_config
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.services.fleet_status import heartbeat

url, config_text, first, count, total, start, until = sys.argv[1:8]
first, count, total = int(first), int(count), int(total)
start, until = float(start), float(until)
metrics, sample_every, heartbeat_every, run_every = map(float, sys.argv[8:12])
config = parse_config(config_text, "bench.yaml").config
store = open_store(url, host="bench")
names = [f"bench.metric_{n:02d}" for n in range(int(metrics))]
hosts = [store.for_host(f"bench-{n:05d}") for n in range(first, first + count)]
due = []
for index, host in enumerate(hosts):
    spread = (first + index) / total
    heapq.heappush(due, (start + spread * sample_every, 0, index))
    heapq.heappush(due, (start + spread * heartbeat_every, 1, index))
    heapq.heappush(due, (start + spread * run_every, 2, index))
lags = []
daemon = {"version": "bench", "pid": 1, "last_reload": "ok"}
while due:
    at, kind, index = heapq.heappop(due)
    if at > until:
        break
    wait = at - time.time()
    if wait > 0:
        time.sleep(wait)
    host = hosts[index]
    if kind == 0:
        write_samples(host, [Sample(name, at, 1.0) for name in names])
        heapq.heappush(due, (at + sample_every, 0, index))
    elif kind == 1:
        now = datetime.now(UTC)
        fleet_store.record_heartbeat(host, heartbeat(host, config, now, daemon, {}))
        heapq.heappush(due, (at + heartbeat_every, 1, index))
    else:
        begun = datetime.now(UTC)
        run_id = run_store.start_run(host, "pulse", Trigger.SCHEDULED, begun, begun)
        for position in range(3):
            run_store.record_step(host, run_id, run_store.StepRecord(
                position, "steps", "run", "run: true", StepStatus.SUCCEEDED, begun, begun))
        run_store.finish_run(host, run_id, RunStatus.SUCCEEDED, datetime.now(UTC))
        heapq.heappush(due, (at + run_every, 2, index))
    lags.append(time.time() - at)
print(json.dumps(lags))
"""

_SERVER = """
import sys, time
from hostkeeper.adapters.store import open_store
from hostkeeper.config import parse_config
from hostkeeper.web.server import DashboardServer

config = parse_config(sys.argv[1], "bench.yaml").config
server = DashboardServer(lambda: config, open_store(config.database.url, host="bench-00000"))
server.start()
print("PORT", server.address[1], flush=True)
while True:
    time.sleep(3600)
"""


@contextlib.contextmanager
def _server(context: Context) -> Iterator[Any]:
    from tests.postgres_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        yield None
        return
    server = PostgresServer(bindir)
    with stage(f"starting PostgreSQL from {bindir}"):
        server.start()
    try:
        yield server
    finally:
        server.stop()


def _migrated(url: str, directory: Path) -> None:
    from hostkeeper.adapters.store import open_store
    from hostkeeper.adapters.store.migrate import migrate

    directory.mkdir(parents=True, exist_ok=True)
    store = open_store(url)
    migrate(store, directory / "migrate.lock")
    store.dispose()


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def _database_bytes(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
                or 0
            )
    finally:
        engine.dispose()


def _simulate(
    url: str, config_text: str, hosts: int, seconds: float
) -> tuple[list[float], int, float]:
    """Run `hosts` simulated hosts for `seconds`: the lag of every write, and how much
    the database grew after the first 10-second round (each host has its series and
    rows by then), over how many seconds."""
    start = time.time() + 2.0
    workers = min(WORKERS, hosts)
    per = [hosts // workers + (1 if n < hosts % workers else 0) for n in range(workers)]
    processes, first = [], 0
    for count in per:
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WORKER,
                    url,
                    config_text,
                    str(first),
                    str(count),
                    str(hosts),
                    str(start),
                    str(start + seconds),
                    *map(str, (METRICS, SAMPLE_EVERY, HEARTBEAT_EVERY, RUN_EVERY)),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
        first += count
    time.sleep(max(start + SAMPLE_EVERY - time.time(), 0.0))
    measured_from, before = time.time(), _database_bytes(url)
    lags: list[float] = []
    for process in processes:
        out, _ = process.communicate(timeout=seconds + 600)
        if process.returncode != 0:
            raise RuntimeError(f"a simulated fleet worker failed (exit {process.returncode})")
        lags += json.loads(out)
    return lags, _database_bytes(url) - before, min(time.time(), start + seconds) - measured_from


def _copy_floor(url: str, hosts: int, rounds: int) -> list[float]:
    """Seconds for one 10-second round of every host's sample batch as a bare COPY (one
    transaction per host, as each host writes its own), `rounds` times."""
    import psycopg

    from bench.postgres import _libpq

    with psycopg.connect(_libpq(url)) as connection:
        ids = [
            row[0]
            for row in connection.execute(
                "INSERT INTO series (host, name) SELECT 'floor-' || h, 'm' || m "
                "FROM generate_series(1, %s) h, generate_series(1, %s) m RETURNING id",
                (hosts, METRICS),
            ).fetchall()
        ]
        connection.commit()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            for offset in range(0, len(ids), METRICS):
                with (
                    connection.cursor() as cursor,
                    cursor.copy("COPY samples (series_id, ts, value) FROM STDIN") as copy,
                ):
                    for series_id in ids[offset : offset + METRICS]:
                        copy.write_row((series_id, time.time(), 1.0))
                connection.commit()
            times.append(time.perf_counter() - started)
        return times


def _ingest(context: Context, server: Any, config_text: str) -> tuple[list[Result], int]:
    seconds = 20.0 if context.quick else 40.0
    steps = [50, 100, 200, 400] if context.quick else [50, 100, 200, 400, 800, 1600, 3200]
    sustained, figures, growth = 0, {}, (0, 0.0)
    for hosts in steps:
        url = server.new_database()
        _migrated(url, context.work_dir / f"fleet-{hosts}")
        text = config_text.replace("URL", url)
        with stage(f"{hosts} simulated hosts for {seconds:g} s"):
            lags, added, window = _simulate(url, text, hosts, seconds)
        p99 = _p99(lags)
        figures[hosts] = {"p99_lag": round(p99, 3), "writes": len(lags), **spread(lags)}
        progress(f"{hosts} hosts: p99 lag {p99:.2f} s over {len(lags)} writes")
        if p99 >= LAG_LIMIT:
            break
        sustained = hosts
        growth = (added, window)
        if p99 > LAG_LIMIT / 2:
            break  # the next doubling would not keep up; spare the machine
    floor_url = server.new_database()
    _migrated(floor_url, context.work_dir / "fleet-floor")
    round_seconds = median(_copy_floor(floor_url, max(sustained, steps[0]), 3))
    floor_hosts = int(max(sustained, steps[0]) * SAMPLE_EVERY / round_seconds)
    results = [
        Result(
            NAME,
            f"hosts sustained with p99 ingest lag < {LAG_LIMIT:g} s "
            f"({METRICS} metrics/10 s, heartbeat/30 s, a run/10 min each)",
            sustained,
            "hosts",
            Floor(floor_hosts, "hosts", "the same sample batches as bare COPY, same server"),
            None,
            {"steps": figures, "workers": WORKERS, "seconds": seconds},
        )
    ]
    if sustained:
        added, window = growth
        per_day = added / sustained / window * 86400
        raw_day = METRICS * 86400 / SAMPLE_EVERY
        results.append(
            Result(
                NAME,
                f"database bytes per host per day, raw ({sustained} hosts, {window:g} s)",
                per_day / 1024**2,
                "MiB",
                None,
                None,
                {"bytes": added, "samples_per_host_day": raw_day},
            )
        )
    return results, sustained


def _fill(url: str, config_text: str, hosts: int) -> None:
    """`hosts` hosts with a heartbeat (and its summary) and a day of runs each."""
    from datetime import UTC, datetime, timedelta

    from hostkeeper.adapters.store import fleet as fleet_store
    from hostkeeper.adapters.store import open_store
    from hostkeeper.adapters.store import runs as run_store
    from hostkeeper.config import parse_config
    from hostkeeper.core.runs import RunStatus, Trigger
    from hostkeeper.services.fleet_status import heartbeat

    config = parse_config(config_text, "bench.yaml").config
    store = open_store(url, host="bench")
    now = datetime.now(UTC)
    try:
        for index in range(hosts):
            host = store.for_host(f"bench-{index:05d}")
            for hour in range(0, 24, 6):
                at = now - timedelta(hours=hour)
                status = RunStatus.FAILED if index % 17 == 0 and hour == 0 else RunStatus.SUCCEEDED
                run_store.record_finished_run(host, "pulse", Trigger.SCHEDULED, status, at, "", at)
            daemon = {"version": "bench", "pid": 1, "last_reload": "ok"}
            fleet_store.record_heartbeat(host, heartbeat(host, config, now, daemon, {}))
    finally:
        store.dispose()


def _latencies(url: str, count: int) -> list[float]:
    times = []
    for index in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(f"{url}?n={index}", timeout=60) as response:  # noqa: S310
            response.read()
        times.append(time.perf_counter() - started)
    return times


def _reads_floor(url: str, count: int) -> list[float]:
    from hostkeeper.adapters.store import fleet as fleet_store
    from hostkeeper.adapters.store import open_store

    store = open_store(url, host="bench")
    times = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            fleet_store.fleet_hosts_rows(store)
            fleet_store.firing_alert_counts(store)
            times.append(time.perf_counter() - started)
    finally:
        store.dispose()
    return times


def _pages(context: Context, server: Any, config_text: str) -> list[Result]:
    url = server.new_database()
    _migrated(url, context.work_dir / "fleet-pages")
    text = config_text.replace("URL", url)
    with stage(f"{PAGE_HOSTS} hosts with heartbeats and runs"):
        _fill(url, text, PAGE_HOSTS)
    requests = context.repeat(200, 50)
    results = []
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, text], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = 0
        while not port:  # its log lines come first
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the dashboard server exited before it was listening")
            if line.startswith("PORT "):
                port = int(line.split()[1])
        base = f"http://127.0.0.1:{port}"
        floor = _reads_floor(url, requests)
        for path, figure in (("/fleet", "fleet page"), ("/api/fleet", "/api/fleet")):
            with stage(f"{requests} uncached requests of {figure}"):
                ours = _latencies(base + path, requests)
            detail = {"ours": spread(ours), "reads": spread(floor)}
            results.append(
                Result(
                    NAME,
                    f"{figure} p99, {PAGE_HOSTS} hosts, uncached",
                    _p99(ours),
                    "s",
                    Floor(round(_p99(floor), 6), "s", "the view's two store reads alone"),
                    Target("<", 0.2, "s"),
                    detail,
                )
            )
    finally:
        process.kill()
        process.wait(10)
    return results


def run(context: Context) -> list[Result]:
    with _server(context) as server:
        if server is None:
            context.note(
                "fleet: skipped: no PostgreSQL binaries under /usr/lib/postgresql/*/bin "
                "(apt-get install postgresql)"
            )
            return []
        root = context.work_dir / "fleet-site"
        root.mkdir(parents=True, exist_ok=True)
        config_text = _CONFIG.format(root=json.dumps(str(root)), url="URL")
        results = _pages(context, server, config_text)
        ingest, _ = _ingest(context, server, config_text)
        return results + ingest
