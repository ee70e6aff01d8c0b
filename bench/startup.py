"""Start to READY=1: spawn `hostkeeper --config CFG daemon` until it sends READY=1.

Three databases: none yet (the first start creates the schema), a migrated empty one,
and a ~1 GB one. Each figure is the median of N starts; the daemon's own CPU time up
to READY is reported too. The floor is the CPU time of importing the seven packages,
measured in the same invocation.
"""

from __future__ import annotations

from pathlib import Path

from bench import bigdb
from bench.floor import import_floor
from bench.harness import Context, Result, Target, median, progress, spread, stage
from bench.importprofile import profile_start
from bench.process import running_daemon
from bench.site import Site

NAME = "startup"
SUMMARY = "spawn to READY=1, with no, an empty and a ~1 GB database"
READY_TARGET = Target("<=", 1.2, "s")


def start_once(site: Site, label: str) -> tuple[float, float, float]:
    """Seconds from spawn to READY=1, and the daemon's CPU seconds and peak RSS then."""
    with running_daemon(site, label=label) as daemon:
        ready = daemon.wait_ready()
        cpu = daemon.cpu_seconds()
        peak_rss = daemon.memory_mib("VmHWM")
    return ready.at - daemon.spawned_at, cpu, peak_rss


def _caught_up(log: Path) -> bool:
    return '"catching up"' in log.read_text(errors="replace")


def _results(
    context: Context, scenario: str, samples: list[tuple[float, float, float]], database: Path
) -> list[Result]:
    floor = import_floor(context)
    wall = [s[0] for s in samples]
    cpu = [s[1] for s in samples]
    rss = [s[2] for s in samples]
    detail = {"database": str(database), "database_mb": round(bigdb.size_mb(database), 1)}
    return [
        Result(
            NAME,
            f"READY, {scenario}",
            median(wall),
            "s",
            floor.cpu,
            READY_TARGET,
            {**detail, **spread(wall)},
        ),
        Result(NAME, f"CPU to READY, {scenario}", median(cpu), "s", floor.cpu, None, spread(cpu)),
        Result(
            NAME, f"peak RSS at READY, {scenario}", median(rss), "MiB", floor.rss, None, spread(rss)
        ),
    ]


def run(context: Context) -> list[Result]:
    runs = context.repeat(full=7, quick=3)
    import_floor(context)
    results: list[Result] = []

    with stage(f"startup, first start (creates the schema), {runs} runs"):
        fresh = []
        for index in range(runs):
            site = Site.create(context.work_dir, context.reference_config)
            fresh.append(start_once(site, f"fresh-{index}"))
    results += _results(context, "no database (creates schema)", fresh, site.database)

    with stage(f"startup, empty database, {runs} runs"):
        site = Site.create(context.work_dir, context.reference_config)
        start_once(site, "migrate")  # creates the schema; not measured
        empty = [start_once(site, f"empty-{index}") for index in range(runs)]
    results += _results(context, "empty database", empty, site.database)
    empty_site = site

    database = bigdb.ensure(context, bigdb.schema_revision(empty_site.database))
    with stage(f"startup, {bigdb.size_mb(database):.0f} MB database, {runs} runs"):
        site = Site.create(context.work_dir, context.reference_config, database=database)
        bigdb.forget_schedules(database)
        big = [start_once(site, f"big-{index}") for index in range(runs)]
    results += _results(context, f"{bigdb.size_mb(database) / 1000:.1f} GB database", big, database)

    caught_up = [log.name for log in context.work_dir.glob("site-*/*.log") if _caught_up(log)]
    if caught_up:
        context.note(f"startup: catch-up runs started during {', '.join(caught_up)}")
    missed = any(result.met is False for result in results)
    if context.profile or missed:
        if missed:
            progress("a start-up target was missed: profiling the imports of one start")
        context.note(profile_start(empty_site))
    return results
