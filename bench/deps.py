"""The dependency audit: a venv of 200 distributions against a full-size synthetic PyPI
OSV archive (tens of thousands of advisories, as large as osv.dev's PyPI/all.zip).

The audit runs as the daemon runs it, in a child process (`run_in_child`), which
reports its own wall time and peak resident memory. The floor is the least any audit
of the archive does: decompress every member once. pip-audit and osv-scanner are named
beside it when installed; neither audits offline against this archive (pip-audit asks
an online service), so they are listed, not timed.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from tests.dependency_peers import build_wheel

from bench.harness import Context, Floor, Result, Target, median, spread, stage
from hostkeeper.config.dependencies import Dependencies
from hostkeeper.services.dependency_audit import run_in_child

NAME = "deps"
SUMMARY = "audit a venv of 200 distributions against a full PyPI OSV archive"
DISTRIBUTIONS = 200
CVSS = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:L/A:N"


def _advisory(rng: random.Random, number: int, package: str) -> dict[str, object]:
    major = rng.randint(0, 5)
    versions = [
        f"{major}.{minor}.{patch}"
        for minor in range(rng.randint(3, 12))
        for patch in range(rng.randint(1, 8))
    ]
    fixed = f"{major}.{rng.randint(0, 12)}.{rng.randint(0, 8)}"
    return {
        "schema_version": "1.6.0",
        "id": f"PYSEC-2090-{number}"
        if number % 3
        else f"GHSA-{number:04x}-bench-{number % 97:04d}",
        "modified": "2026-01-01T00:00:00Z",
        "published": "2025-01-01T00:00:00Z",
        "aliases": [f"CVE-2090-{number}"],
        "summary": f"Synthetic advisory {number} for {package}",
        "details": (
            "A long description of the problem, as advisories carry. " * rng.randint(4, 30)
        ),
        "severity": [{"type": "CVSS_V3", "score": CVSS}] if number % 2 else [],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package, "purl": f"pkg:pypi/{package}"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
                "versions": versions,
                "database_specific": {"source": "https://example.invalid/advisory.json"},
            }
        ],
        "references": [{"type": "WEB", "url": f"https://example.invalid/{number}"}] * 3,
        "database_specific": {"severity": "MODERATE"},
    }


def _archive(path: Path, advisories: int, packages: list[str]) -> None:
    rng = random.Random(13)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(advisories):
            # most packages have a few advisories, a few popular ones hundreds
            if rng.random() < 0.05:
                package = packages[int(rng.paretovariate(1.2)) % len(packages)]
            else:
                package = packages[rng.randrange(len(packages))]
            item = _advisory(rng, number, package)
            archive.writestr(f"{item['id']}.json", json.dumps(item, indent=2))


def _venv(path: Path, wheels: Path, names: list[str]) -> None:
    for index, name in enumerate(names):
        build_wheel(wheels, name, f"{index % 5}.{index % 11}.{index % 7}")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(path / "bin" / "python"),
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--disable-pip-version-check",
            *sorted(str(w) for w in wheels.iterdir()),
        ],
        check=True,
    )


def _decompress_all(path: Path) -> float:
    started = time.perf_counter()
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            archive.read(member)
    return time.perf_counter() - started


def run(context: Context) -> list[Result]:
    advisories = 10_000 if context.quick else 40_000
    runs = context.repeat(full=3, quick=1)
    directory = context.work_dir / "deps"
    directory.mkdir()
    packages = [f"bench-pkg-{i}" for i in range(12_000)]
    archive = directory / "PyPI-all.zip"
    with stage(f"writing an archive of {advisories} advisories"):
        _archive(archive, advisories, packages)
    installed = packages[:150] + [f"unaffected-{i}" for i in range(DISTRIBUTIONS - 150)]
    with stage(f"installing {DISTRIBUTIONS} distributions into a venv"):
        _venv(directory / "venv", directory / "wheels", installed)
    settings = Dependencies.model_validate(
        {
            "python": [str(directory / "venv")],
            "advisories": "osv_archive",
            "osv_archive": str(archive),
            "index_url": None,
            "os_packages": "off",
        }
    )
    seconds: list[float] = []
    memory: list[float] = []
    findings = 0
    for _ in range(runs):
        with stage("auditing in a child process"):
            report = run_in_child(settings, str(directory), timeout=600)
        seconds.append(report.resources["seconds"])
        memory.append(report.resources["peak_rss_mib"])
        findings = len(report.findings)
    floor = median([_decompress_all(archive) for _ in range(runs)])
    size_mb = archive.stat().st_size / 1e6
    peers = {name: shutil.which(name) for name in ("pip-audit", "osv-scanner")}
    context.note(
        "deps: peers "
        + ", ".join(
            f"{n} {'installed, not timed (online only)' if p else 'not installed'}"
            for n, p in peers.items()
        )
    )
    detail = {
        "advisories": advisories,
        "archive_mb": round(size_mb, 1),
        "distributions": DISTRIBUTIONS,
        "findings": findings,
        "peers": {name: bool(path) for name, path in peers.items()},
    }
    return [
        Result(
            NAME,
            f"audit time, {advisories} advisories ({size_mb:.0f} MB), {DISTRIBUTIONS} dists",
            median(seconds),
            "s",
            floor=Floor(floor, "s", "decompress every member once"),
            target=Target("<", 5, "s"),
            detail={**detail, "seconds": spread(seconds)},
        ),
        Result(
            NAME,
            "audit peak resident memory (its own process)",
            max(memory),
            "MiB",
            target=Target("<", 150, "MiB"),
            detail={**detail, "peak_rss_mib": spread(memory)},
        ),
    ]
