"""OS packages on Debian and Ubuntu: the upgrades `apt-get -s upgrade` would make (a
simulation: nothing is installed, no lock is taken, no cache is written), the packages
held back with `apt-mark hold`, and the reboot that package scripts asked for.

`apt_config` (APT_CONFIG) points apt at another configuration, which is how the tests
read a private repository and status file without touching the host's apt state.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hostkeeper.adapters.commands import run_command
from hostkeeper.core.apt_upgrades import Simulation, parse_held, parse_simulation, reboot_packages

_OUTPUT_LIMIT = 8 * 1024 * 1024
# No lock (unattended-upgrades may hold it), and no package cache written: under the
# unit's ProtectSystem=strict /var/cache/apt is read-only.
_SIMULATE = [
    "-s",
    "-o",
    "Debug::NoLocking=true",
    "-o",
    "Dir::Cache::pkgcache=",
    "-o",
    "Dir::Cache::srcpkgcache=",
]


class AptUnavailable(Exception):
    """apt-get is not installed, or its simulation failed (the message says why)."""


@dataclass(frozen=True)
class AptState:
    simulation: Simulation
    held: list[str]


def apt_available() -> bool:
    return shutil.which("apt-get") is not None


def read_apt_state(
    security_markers: Sequence[str], apt_config: str | None = None, timeout: float = 120.0
) -> AptState:
    """Pending upgrades and held packages; raises AptUnavailable."""
    if not apt_available():
        raise AptUnavailable("apt-get is not installed")
    environment = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": ""}
    if apt_config:
        environment["APT_CONFIG"] = apt_config
    simulated = run_command(
        ["apt-get", *_SIMULATE, "upgrade"],
        env=environment,
        timeout=timeout,
        output_limit=_OUTPUT_LIMIT,
    )
    if not simulated.ok:
        raise AptUnavailable(
            f"apt-get -s upgrade {simulated.describe_failure()}: {_first_error(simulated.output)}"
        )
    held = run_command(["apt-mark", "showhold"], env=environment, timeout=timeout)
    if not held.ok:
        raise AptUnavailable(
            f"apt-mark showhold {held.describe_failure()}: {_first_error(held.output)}"
        )
    return AptState(parse_simulation(simulated.output, security_markers), parse_held(held.output))


def read_reboot_required(path: str) -> list[str] | None:
    """None when no reboot is asked for; else the packages that asked (from the `.pkgs`
    file beside it, empty when it lists none)."""
    if not Path(path).exists():
        return None
    try:
        lines = Path(path + ".pkgs").read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    return reboot_packages(lines)


def _first_error(output: str) -> str:
    """apt's first `E:` line (the cause; the last one is often only the consequence)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith("E:")), lines[-1] if lines else "")
