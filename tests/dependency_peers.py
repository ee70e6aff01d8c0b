"""Real peers of the dependency audit, made by the tests without a network: wheels
built by hand (a wheel is a zip file), a virtual environment pip installs them into, an
OSV archive, and a `file:` apt repository built with dpkg-deb and apt-ftparchive read
through a private apt configuration (the host's apt state is never touched)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.peers import missing_peer

CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8


def build_wheel(directory: Path, name: str, version: str) -> Path:
    """A pure-Python wheel of `name` `version` with one module, in `directory`."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        ).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hostkeeper-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()] + [
        f"{dist_info}/RECORD,,"
    ]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    directory.mkdir(parents=True, exist_ok=True)
    wheel = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_venv(path: Path, wheels: Path, requirements: Sequence[str]) -> Path:
    """A virtual environment at `path` with `requirements` installed by pip from the
    wheels in `wheels` only (--no-index)."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120
    )
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
            "--find-links",
            str(wheels),
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    return path


def advisory(
    advisory_id: str,
    package: str,
    events: Iterable[Mapping[str, str]] = (),
    *,
    versions: Sequence[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": package}}
    if events:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": list(events)}]
    if versions is not None:
        affected["versions"] = list(versions)
    return {
        "schema_version": "1.6.0",
        "id": advisory_id,
        "modified": "2026-01-01T00:00:00Z",
        "affected": [affected],
        **fields,
    }


def write_osv_archive(
    path: Path, advisories: Iterable[Mapping[str, Any]], extra: Mapping[str, bytes] | None = None
) -> Path:
    """An archive in the form of osv.dev's `PyPI/all.zip`: one `ID.json` per advisory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in advisories:
            archive.writestr(f"{item['id']}.json", json.dumps(item))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def require_apt_tools() -> None:
    for tool in ("apt-get", "dpkg-deb", "apt-ftparchive", "apt-mark"):
        if shutil.which(tool) is None:
            missing_peer(f"{tool} is not installed (apt-get install apt apt-utils dpkg)")


def _deb(build: Path, repo: Path, name: str, version: str) -> None:
    root = build / f"{name}_{version}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: hostkeeper tests <tests@example.invalid>\nDescription: test package\n"
    )
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "dpkg-deb",
            "--build",
            "--root-owner-group",
            str(root),
            str(repo / f"{name}_{version}_all.deb"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _index(repo: Path, suite: str, label: str) -> None:
    packages = subprocess.run(
        ["apt-ftparchive", "packages", "."], cwd=repo, check=True, capture_output=True, timeout=60
    ).stdout
    (repo / "Packages").write_bytes(packages)
    release = subprocess.run(
        [
            "apt-ftparchive",
            "-o",
            f"APT::FTPArchive::Release::Suite={suite}",
            "-o",
            f"APT::FTPArchive::Release::Label={label}",
            "-o",
            f"APT::FTPArchive::Release::Origin={label}",
            "release",
            ".",
        ],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    (repo / "Release").write_bytes(release)


def make_apt_host(
    root: Path,
    installed: Mapping[str, tuple[str, str]],
    repos: Mapping[str, tuple[str, str, Mapping[str, str]]],
) -> Path:
    """A private apt world under `root`; returns its apt configuration file (APT_CONFIG).

    `installed`: package -> (version, dpkg selection: install or hold), written to a
    private dpkg status file. `repos`: directory name -> (suite, label, {package:
    version}), each a flat `file:` repository built with dpkg-deb and apt-ftparchive.
    The package lists are fetched with `apt-get update` into private directories.
    """
    require_apt_tools()
    lines = []
    for name, (suite, label, packages) in repos.items():
        repo = root / name
        for package, version in packages.items():
            _deb(root / "build", repo, package, version)
        _index(repo, suite, label)
        lines.append(f"deb [trusted=yes] file:{repo} ./")
    etc = root / "etc"
    for directory in ("sources.list.d", "preferences.d", "trusted.gpg.d", "apt.conf.d"):
        (etc / directory).mkdir(parents=True, exist_ok=True)
    (root / "state" / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (root / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (etc / "sources.list").write_text("\n".join(lines) + "\n")
    (root / "status").write_text(
        "".join(
            f"Package: {package}\nStatus: {selection} ok installed\nPriority: optional\n"
            f"Section: misc\nMaintainer: hostkeeper tests <tests@example.invalid>\n"
            f"Architecture: all\nVersion: {version}\nDescription: test package\n\n"
            for package, (version, selection) in installed.items()
        )
    )
    config = root / "apt.conf"
    config.write_text(
        f'Dir::Etc::sourcelist "{etc}/sources.list";\n'
        f'Dir::Etc::sourceparts "{etc}/sources.list.d";\n'
        f'Dir::Etc::preferencesparts "{etc}/preferences.d";\n'
        f'Dir::Etc::trustedparts "{etc}/trusted.gpg.d";\n'
        f'Dir::Etc::parts "{etc}/apt.conf.d";\n'
        f'Dir::State "{root}/state/";\n'
        f'Dir::State::lists "{root}/state/lists/";\n'
        f'Dir::State::status "{root}/status";\n'
        f'Dir::Cache "{root}/cache/";\n'
        'Debug::NoLocking "true";\n'
    )
    subprocess.run(
        ["apt-get", "-q", "update"],
        env={"APT_CONFIG": str(config), "LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return config
