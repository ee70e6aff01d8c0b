"""Migrating a large store made before blocks: ~1 GB (`--database-mb`) of plain rows.

The benchmark builds, once (cached), a database at schema revision 0002 the way that
release kept metrics (bench/plainstore.py): `samples` rows (series_id, ts, value, plus
the covering index) for 6.5 days of many series at 10 s, values at the collector's
precision, with their 5-minute and hourly `rollups`. Then, on copies of it:

- migration: `migrate()` as the daemon's start runs it (the pre-migration copy with the
  online backup API, then Alembic 0002 -> head), timed;
- sealing, online: the daemon's housekeeping (`maintain` with its 2 s sealing budget, a
  slice at a time) until no plain row of a complete window is left, while a reader
  thread in the same process asks what the dashboard and `status` ask (the newest
  values, a day of one metric) without pause: its latencies and errors are the
  "online" figure; what the readers answer after sealing is compared with what they
  answered before it;
- resumable: the same migration and sealing in a child process killed (SIGKILL) part
  way through the sealing, then run again to the end; the answers must match and the
  database pass `PRAGMA quick_check`;
- sizes: the file before, after migration, after sealing (pages freed but kept by
  SQLite) and after `VACUUM`.

Times are extrapolated linearly to 1 GB of plain rows (sealing reads and writes each
row once). Not part of `make test`.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Context, Floor, Result, stage
from bench.plainstore import DAYS, HOST, T0, ensure, file_mb, t_end, url

NAME = "migration"
SUMMARY = "a ~1 GB 0002-layout store migrated and sealed online, interrupted and resumed"
SEAL_BUDGET = 2.0  # daemon/collector.py: SEAL_BUDGET
RETENTION = (7 * 86400.0, 90 * 86400.0, 730 * 86400.0)  # reference metrics.retention
READ_PAUSE = 0.05
IDLE_READING = 10.0  # seconds the reader runs alone first: the floor of its latencies


def _now() -> float:
    """The housekeeping's `now`: an hour after the newest sample, whatever the clock."""
    return t_end() + 3600.0


def _in_use_mb(database: Path) -> float:
    with contextlib.closing(sqlite3.connect(database)) as db:
        pages = int(db.execute("PRAGMA page_count").fetchone()[0])
        free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
        size = int(db.execute("PRAGMA page_size").fetchone()[0])
    return (pages - free) * size / 1e6


def _copy(source: Path, directory: Path, name: str) -> Path:
    """A copy of the cached file (closed, checkpointed: a plain copy is whole)."""
    target = directory / name
    shutil.copyfile(source, target)
    return target


# -- what readers answer -------------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    newest: dict[str, tuple[datetime, float]]
    day: tuple[int, float]  # raw samples of the last day of one metric: count, sum
    whole: tuple[int, float]  # every raw sample of another: count, sum
    five_minute: tuple[int, float]  # its 5-minute rollups over the span: count, sum of means


def _answers(database: Path, names: list[str]) -> Answers:
    from hostkeeper.adapters.store import open_store
    from hostkeeper.adapters.store.metrics import latest_values, points, raw_samples
    from hostkeeper.core.metrics import FIVE_MINUTES

    store = open_store(url(database), host=HOST)
    try:
        newest = {n: (p.at, p.value) for n, p in latest_values(store, names[:5]).items()}
        day = raw_samples(store, names[0], t_end() - 86400)
        whole = raw_samples(store, names[-1], T0)
        since = datetime.fromtimestamp(T0, UTC)
        rolled = points(store, names[-1], since, None, FIVE_MINUTES)
    finally:
        store.dispose()
    return Answers(
        newest,
        (len(day), math.fsum(v for _, v in day)),
        (len(whole), math.fsum(v for _, v in whole)),
        (len(rolled), math.fsum(p.value for p in rolled)),
    )


def _names(database: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return [n for (n,) in db.execute("SELECT name FROM series ORDER BY id")]


class Reader(threading.Thread):
    """What the dashboard and `status` ask, again and again, timed."""

    def __init__(self, database: Path, names: list[str]) -> None:
        super().__init__(name="reader", daemon=True)
        self.database, self.names = database, names
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        from hostkeeper.adapters.store import open_store
        from hostkeeper.adapters.store.metrics import latest_values, raw_samples

        store = open_store(url(self.database), host=HOST)
        turn = 0
        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    latest_values(store, self.names[:5])
                    name = self.names[turn % len(self.names)]
                    raw_samples(store, name, t_end() - 86400)
                except Exception as error:
                    self.errors.append(f"{type(error).__name__}: {error}")
                self.latencies.append(time.perf_counter() - started)
                turn += 1
                self.stop.wait(READ_PAUSE)
        finally:
            store.dispose()


# -- migration and sealing -----------------------------------------------------------------


def migrate_store(database: Path) -> float:
    """`migrate()` as the daemon's start runs it (backup first); seconds."""
    from hostkeeper.adapters.store import open_store
    from hostkeeper.adapters.store.migrate import migrate

    store = open_store(url(database), host=HOST)
    try:
        started = time.perf_counter()
        migrate(store, database.with_suffix(".lock"), backup_dir=database.parent / "backups")
        return time.perf_counter() - started
    finally:
        store.dispose()


def seal_store(database: Path, report: bool = False) -> tuple[int, int, float]:
    """The housekeeping's passes until nothing is left to seal: (rows, slices, seconds)."""
    from hostkeeper.adapters.store import open_store
    from hostkeeper.adapters.store.metrics import maintain

    store = open_store(url(database), host=HOST)
    rows = slices = 0
    started = time.perf_counter()
    try:
        while True:
            result = maintain(
                store, _now(), *RETENTION, expire_rows=slices == 0, seal_budget=SEAL_BUDGET
            )
            rows += result.sealed
            slices += 1
            if report:
                print(f"sealed {rows}", flush=True)
            if not result.sealing_left:
                return rows, slices, time.perf_counter() - started
    finally:
        store.dispose()


def _vacuum(database: Path) -> float:
    started = time.perf_counter()
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as db:
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def _child(database: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.migration", str(database)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _interrupted_then_resumed(database: Path, kill_after: float) -> dict[str, float | int]:
    """Migrate and seal in a child, SIGKILL it `kill_after` s into sealing, run again."""
    child = _child(database)
    assert child.stdout is not None
    sealed_before = 0
    sealing_since: float | None = None
    for line in child.stdout:
        if line.startswith("migrated"):
            sealing_since = time.monotonic()
        elif line.startswith("sealed"):
            sealed_before = int(line.split()[1])
        if sealing_since is not None and time.monotonic() - sealing_since >= kill_after:
            os.kill(child.pid, signal.SIGKILL)
            break
    killed = child.wait()
    child.stdout.close()
    resumed = _child(database)
    out, _ = resumed.communicate()
    if resumed.returncode != 0:
        raise RuntimeError(f"resuming the sealing failed ({resumed.returncode})")
    sealed_after = max(
        (int(line.split()[1]) for line in out.splitlines() if line.startswith("sealed")),
        default=0,
    )
    with contextlib.closing(sqlite3.connect(database)) as db:
        check = db.execute("PRAGMA quick_check").fetchone()[0]
    if check != "ok":
        raise RuntimeError(f"quick_check after the resumed sealing: {check}")
    return {
        "killed_status": killed,
        "rows_sealed_before_the_kill": sealed_before,
        "rows_sealed_on_resume": sealed_after,
    }


# -- the benchmark -------------------------------------------------------------------------


def _p99_ms(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0


def _read_alone(database: Path, names: list[str]) -> list[float]:
    reader = Reader(database, names)
    reader.start()
    time.sleep(IDLE_READING)
    reader.stop.set()
    reader.join()
    return reader.latencies


def _online(
    database: Path, names: list[str]
) -> tuple[dict[str, float], Reader, Answers, list[float]]:
    figures: dict[str, float] = {"before_mb": file_mb(database)}
    with stage("migrating a copy (pre-migration backup, then Alembic to head)"):
        figures["migrate_seconds"] = migrate_store(database)
    figures["after_migration_mb"] = file_mb(database)
    before = _answers(database, names)  # still every row plain
    with stage(f"the reader alone for {IDLE_READING:g} s (plain rows, no sealing)"):
        alone = _read_alone(database, names)
    reader = Reader(database, names)
    reader.start()
    try:
        with stage("sealing it online, the reader asking without pause"):
            rows, slices, seconds = seal_store(database)
    finally:
        reader.stop.set()
        reader.join()
    figures.update(rows_sealed=rows, slices=slices, seal_seconds=seconds)
    figures["after_sealing_mb"] = file_mb(database)
    figures["after_sealing_in_use_mb"] = _in_use_mb(database)
    with stage("VACUUM"):
        figures["vacuum_seconds"] = _vacuum(database)
    figures["after_vacuum_mb"] = file_mb(database)
    return figures, reader, before, alone


def run(context: Context) -> list[Result]:
    cached = ensure(context)
    names = _names(cached)
    work = context.work_dir / "migration"
    work.mkdir(exist_ok=True)
    online = _copy(cached, work, "online.db")
    (work / "backups").mkdir(exist_ok=True)
    with contextlib.closing(sqlite3.connect(cached)) as db:
        samples = int(db.execute("SELECT count(*) FROM samples").fetchone()[0])
    figures, reader, before, alone = _online(online, names)
    shutil.rmtree(work / "backups", ignore_errors=True)
    after = _answers(online, names)
    online.unlink()
    resumable = _copy(cached, work, "resumed.db")
    (work / "backups").mkdir(exist_ok=True)
    with stage("interrupting the sealing of another copy (SIGKILL) and resuming it"):
        resume = _interrupted_then_resumed(resumable, figures["seal_seconds"] * 0.4)
        resumed = _answers(resumable, names)
    shutil.rmtree(work, ignore_errors=True)

    latencies = sorted(reader.latencies)
    read_p99 = _p99_ms(latencies)
    per_gb = 1000 / figures["before_mb"]
    detail = {
        **figures,
        **resume,
        "series": len(names),
        "days": DAYS,
        "samples": samples,
        "reads": len(latencies),
        "bytes_a_sample_before": figures["before_mb"] * 1e6 / samples,
        "bytes_a_sample_after_vacuum": figures["after_vacuum_mb"] * 1e6 / samples,
    }
    if before != after or before != resumed:
        context.note(
            "migration: the readers' answers CHANGED "
            f"(before {before}, after {after}, resumed {resumed})"
        )
    if reader.errors:
        context.note(f"migration: {len(reader.errors)} reads failed, e.g. {reader.errors[0]}")
    context.note(
        f"migration: {figures['before_mb']:.0f} MB in the 0002 layout, {len(names)} series, "
        f"{samples:,} samples ({detail['bytes_a_sample_before']:.1f} bytes each, "
        f"{detail['bytes_a_sample_after_vacuum']:.1f} after): "
        f"migrate {figures['migrate_seconds']:.1f} s, seal {figures['seal_seconds']:.0f} s "
        f"in {figures['slices']:.0f} slices; file {figures['after_sealing_mb']:.0f} MB "
        f"({figures['after_sealing_in_use_mb']:.0f} MB in use) until VACUUM "
        f"({figures['vacuum_seconds']:.0f} s) makes it {figures['after_vacuum_mb']:.0f} MB; "
        f"reads during sealing p50 {statistics.median(latencies) * 1000:.1f} ms, p99 "
        f"{read_p99:.1f} ms, {len(reader.errors)} errors; answers "
        f"{'identical' if before == after == resumed else 'DIFFERENT'} after sealing and after "
        + (
            f"a SIGKILL {resume['rows_sealed_before_the_kill']:,} rows in and a resume"
            if resume["killed_status"] == -signal.SIGKILL
            else "a resume (the child ended before the kill: too small a store to interrupt)"
        )
        + "; at 1 GB: "
        f"migrate ~{figures['migrate_seconds'] * per_gb:.0f} s, seal "
        f"~{figures['seal_seconds'] * per_gb / 60:.0f} min"
    )
    before_floor = Floor(figures["before_mb"], "MB", "0002 layout")
    return [
        Result(NAME, "0002 store", figures["before_mb"], "MB", None, None, detail),
        Result(NAME, "migrate (backup + Alembic)", figures["migrate_seconds"], "s"),
        Result(NAME, "sealing, online", figures["seal_seconds"], "s"),
        Result(NAME, "sealing rate", figures["rows_sealed"] / figures["seal_seconds"], "rows/s"),
        Result(
            NAME,
            "read p99 during sealing",
            read_p99,
            "ms",
            Floor(_p99_ms(alone), "ms", "the same reads, no sealing"),
        ),
        Result(NAME, "file after sealing", figures["after_sealing_mb"], "MB", before_floor),
        Result(NAME, "file after VACUUM", figures["after_vacuum_mb"], "MB", before_floor),
        Result(NAME, "migrate, extrapolated to 1 GB", figures["migrate_seconds"] * per_gb, "s"),
        Result(NAME, "sealing, extrapolated to 1 GB", figures["seal_seconds"] * per_gb, "s"),
    ]


def _main(database: Path) -> None:
    """The child of the resumable figure: migrate (when needed), then seal."""
    migrate_store(database)
    print("migrated", flush=True)
    seal_store(database, report=True)


if __name__ == "__main__":
    _main(Path(sys.argv[1]))
    sys.exit(0)
