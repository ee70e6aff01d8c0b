"""hostkeeper's benchmarks: `python -m bench [--quick] [NAME ...]` (or `make bench`).

Benchmarks are not tests: they print figures, the peer or floor each is compared with,
and, where the project has a target, whether it was met. Nothing here asserts on time.

A benchmark is one module with `NAME`, `SUMMARY` and `run(context) -> list[Result]`;
adding one is a new module plus one line in BENCHMARKS.
"""

from __future__ import annotations

# name -> module, in the order `python -m bench` runs them
BENCHMARKS: dict[str, str] = {
    "startup": "bench.startup",
    "reload": "bench.reload",
    "idle": "bench.idle",
    "compress": "bench.compress",
    "cleanup": "bench.cleanup",
    "rotate": "bench.rotate",
    "daylog": "bench.daylog",
    "backup": "bench.backup",
    "metrics": "bench.metrics",
    "postgres": "bench.postgres",
    "fleet": "bench.fleet",
    "alerts": "bench.alerts",
    "checks": "bench.checks",
    "web": "bench.web",
    "deps": "bench.deps",
    "migration": "bench.migration",
    "soak": "bench.soak",
}
