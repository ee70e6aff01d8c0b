"""Where start-up time goes: one daemon start under `python -X importtime`.

PYTHONPROFILEIMPORTTIME makes the interpreter log every import it performs (lazy ones
included) to stderr; the self times are summed per top-level package. The profiled
start is slower than a normal one, so its READY time is only shown for context.
"""

from __future__ import annotations

import re
from collections import defaultdict

from bench.process import running_daemon
from bench.site import Site

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def module_costs(log: str) -> dict[str, float]:
    """Seconds of import self time per module."""
    costs: dict[str, float] = defaultdict(float)
    for line in log.splitlines():
        match = _LINE.match(line)
        if match:
            costs[match.group(4)] += int(match.group(1)) / 1e6
    return dict(costs)


def package_costs(modules: dict[str, float]) -> dict[str, float]:
    """Seconds of import self time per top-level package."""
    costs: dict[str, float] = defaultdict(float)
    for name, seconds in modules.items():
        costs[name.split(".")[0]] += seconds
    return dict(costs)


def _largest(costs: dict[str, float], top: int) -> str:
    ranked = sorted(costs.items(), key=lambda item: item[1], reverse=True)[:top]
    return ", ".join(f"{name} {seconds:.3f}" for name, seconds in ranked)


def profile_start(site: Site, top: int = 8) -> str:
    """A one-paragraph summary of what the imports of one start cost."""
    (site.root / "importtime.log").unlink(missing_ok=True)  # the log of this start only
    with running_daemon(site, label="importtime", PYTHONPROFILEIMPORTTIME="1") as daemon:
        ready = daemon.wait_ready()
        cpu = daemon.cpu_seconds()
    modules = module_costs(daemon.log_file.read_text(errors="replace"))
    packages = package_costs(modules)
    return (
        f"import profile of one start (-X importtime, slower than normal: READY after "
        f"{ready.at - daemon.spawned_at:.3f} s, {cpu:.2f} CPU s): imports "
        f"{sum(modules.values()):.3f} s in {len(modules)} modules of {len(packages)} "
        f"packages; largest packages (s): "
        f"{_largest(packages, top)}; largest modules (s): {_largest(modules, top)}"
    )
