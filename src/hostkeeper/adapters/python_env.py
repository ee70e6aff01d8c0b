"""The distributions installed in a Python environment, read by that environment's own
interpreter with importlib.metadata (never by parsing pip's output, which mixes
warnings into its JSON).

An environment is named as configured: `self` (the interpreter running hostkeeper), a
virtual environment's directory, or an interpreter's path (`/usr/bin/python3`: the
system's site-packages). The interpreter runs isolated (`-I`: no PYTHONPATH, no user
site-packages) with a small script, and prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from hostkeeper.adapters.commands import run_command

SELF = "self"
_MARKER = "HOSTKEEPER-DISTRIBUTIONS "
_OUTPUT_LIMIT = 8 * 1024 * 1024
# Run by the environment's interpreter: name, version and location of every distribution
# in sys.path order (the first one of a name is the one `import` finds).
_SCRIPT = """
import importlib.metadata as metadata, json, os, sys
found = []
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name:
        found.append([name, dist.version, str(dist.locate_file(""))])
paths = [p for p in sys.path if p and os.path.isdir(p)]
print(MARKER + json.dumps({"python": sys.version.split()[0], "prefix": sys.prefix,
                          "paths": paths, "distributions": found}))
""".replace("MARKER", repr(_MARKER))


class EnvironmentUnavailable(Exception):
    """The environment is missing or its interpreter could not list its distributions."""


@dataclass(frozen=True)
class Distribution:
    name: str  # canonical (PEP 503)
    version: str
    location: str


@dataclass(frozen=True)
class PythonEnvironment:
    name: str  # as configured
    interpreter: str
    python_version: str
    prefix: str
    paths: tuple[str, ...]  # the existing directories on its sys.path
    distributions: tuple[Distribution, ...]

    def installed(self) -> dict[str, str]:
        """Canonical name -> installed version."""
        return {dist.name: dist.version for dist in self.distributions}


def interpreter_of(name: str) -> str:
    """The interpreter of a configured environment; raises EnvironmentUnavailable."""
    if name == SELF:
        return sys.executable
    path = Path(name)
    if path.is_dir():
        for candidate in ("bin/python3", "bin/python"):
            if (path / candidate).exists():
                return str(path / candidate)
        raise EnvironmentUnavailable(f"{name}: a directory without bin/python3")
    if path.exists():
        if not os.access(path, os.X_OK):
            raise EnvironmentUnavailable(f"{name}: not executable")
        return name
    raise EnvironmentUnavailable(f"{name}: no such environment or interpreter")


def read_environment(name: str, timeout: float = 60.0) -> PythonEnvironment:
    """The distributions of environment `name`; raises EnvironmentUnavailable."""
    interpreter = interpreter_of(name)
    result = run_command(
        [interpreter, "-I", "-c", _SCRIPT], timeout=timeout, output_limit=_OUTPUT_LIMIT
    )
    line = next((ln for ln in result.output.splitlines() if ln.startswith(_MARKER)), None)
    if not result.ok or line is None:
        detail = result.output.strip().splitlines()[-1:] or [""]
        raise EnvironmentUnavailable(
            f"{name}: {interpreter} could not list its distributions "
            f"({result.describe_failure() if not result.ok else 'no answer'}) {detail[0]}".strip()
        )
    try:
        data = json.loads(line.removeprefix(_MARKER))
        distributions: dict[str, Distribution] = {}
        for dist_name, version, location in data["distributions"]:
            canonical = canonicalize_name(dist_name)
            distributions.setdefault(canonical, Distribution(canonical, version, location))
        return PythonEnvironment(
            name=name,
            interpreter=interpreter,
            python_version=data["python"],
            prefix=data["prefix"],
            paths=tuple(data["paths"]),
            distributions=tuple(sorted(distributions.values(), key=lambda d: d.name)),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise EnvironmentUnavailable(
            f"{name}: unreadable answer from {interpreter}: {error}"
        ) from None
