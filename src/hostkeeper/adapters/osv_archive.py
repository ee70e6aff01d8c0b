"""An OSV ecosystem archive (`PyPI/all.zip` as osv.dev publishes it: one JSON advisory
per member) matched against installed distributions, one member at a time.

Only members that mention an installed name are parsed: the archive holds tens of
thousands of advisories and a host a few hundred distributions, so a byte search for
`"name": "<package>"` keeps the audit within seconds and a few megabytes beyond the
largest member. Members that are not OSV JSON are counted and skipped; an archive that
cannot be opened at all raises ArchiveUnreadable.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from packaging.utils import canonicalize_name

from hostkeeper.adapters.fs import fsync_directory, make_private_directory
from hostkeeper.core.osv import Advisory, AdvisoryError, affected_fix, parse_advisory

MAX_MEMBER_BYTES = 32 * 1024 * 1024  # the largest real advisory is well under 1 MiB
# Package names as OSV writes them: `"name": "Django"`; the match is canonicalised.
_NAME = re.compile(rb'"name"\s*:\s*"([A-Za-z0-9._-]+)"')


class ArchiveUnreadable(Exception):
    """The archive is missing, not a zip file, or unreadable."""


@dataclass(frozen=True)
class ArchiveMatch:
    advisory: Advisory
    package: str  # canonical name
    installed: str
    fixed: str | None


@dataclass
class ArchiveScan:
    matches: list[ArchiveMatch] = field(default_factory=list)
    advisories: int = 0  # advisories (members) in the archive
    skipped: list[str] = field(default_factory=list)  # members that are not OSV JSON

    def by_id(self) -> dict[str, Advisory]:
        return {match.advisory.id: match.advisory for match in self.matches}


def scan_archive(path: str, installed: Mapping[str, Mapping[str, str]]) -> dict[str, ArchiveScan]:
    """Match every advisory of the archive at `path` against `installed` (environment ->
    canonical name -> version); one ArchiveScan per environment. Raises ArchiveUnreadable."""
    wanted = {name for versions in installed.values() for name in versions}
    scans = {environment: ArchiveScan() for environment in installed}
    for advisory in _advisories(path, wanted, scans):
        for package in advisory.package_names() & wanted:
            for environment, versions in installed.items():
                version = versions.get(package)
                if version is None:
                    continue
                hit, fixed = affected_fix(advisory, package, version)
                if hit:
                    scans[environment].matches.append(
                        ArchiveMatch(advisory, package, version, fixed)
                    )
    return scans


def read_advisories(path: str, ids: set[str]) -> dict[str, Advisory]:
    """The advisories of the archive whose id or alias is in `ids` (severity for
    pip-audit's findings, which carry none). Raises ArchiveUnreadable."""
    found: dict[str, Advisory] = {}
    for advisory in _advisories(path, None, {}):
        for name in (advisory.id, *advisory.aliases):
            if name in ids:
                found[name] = advisory
    return found


def _advisories(
    path: str, wanted: set[str] | None, scans: Mapping[str, ArchiveScan]
) -> Iterator[Advisory]:
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ArchiveUnreadable(
            f"{path}: no such file (refresh it with `refresh_advisories`)"
        ) from None
    except (OSError, zipfile.BadZipFile) as error:
        raise ArchiveUnreadable(f"{path}: not a readable zip archive: {error}") from None
    with archive:
        members = [m for m in archive.infolist() if m.filename.endswith(".json")]
        if not members:
            raise ArchiveUnreadable(f"{path}: no .json advisories in the archive")
        for scan in scans.values():
            scan.advisories = len(members)
        for member in members:
            problem = None
            if member.file_size > MAX_MEMBER_BYTES:
                problem = f"{member.filename}: larger than {MAX_MEMBER_BYTES} bytes"
            else:
                try:
                    data = archive.read(member)
                except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as error:
                    problem = f"{member.filename}: {error}"
                else:
                    if wanted is not None and not _mentions(data, wanted):
                        continue
                    try:
                        yield parse_advisory(json.loads(data))
                        continue
                    except (ValueError, AdvisoryError) as error:
                        problem = f"{member.filename}: {error}"
            for scan in scans.values():
                scan.skipped.append(problem)


def _mentions(data: bytes, wanted: set[str]) -> bool:
    return any(canonicalize_name(m.decode()) in wanted for m in _NAME.findall(data))


MAX_ARCHIVE_BYTES = 2 * 1024**3  # the PyPI archive is tens of megabytes


def refresh_archive(url: str, path: str, timeout: float) -> int:
    """Download the archive at `url` (http(s) or file) to `path`: to a temporary name
    beside it, checked as a zip of advisories (every member's CRC), then renamed over the
    old one, which stays in place when anything fails. Returns the size in bytes;
    raises ArchiveUnreadable with the reason."""
    target = Path(path)
    make_private_directory(target.parent)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            size = _download(url, handle, timeout)
            handle.flush()
            os.fsync(handle.fileno())
        _check_zip(temp_name, url)
        os.chmod(temp_name, 0o640)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)
    return size


def _download(url: str, handle: BinaryIO, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) or file, checked by config)
            while chunk := response.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_ARCHIVE_BYTES:
                    raise ArchiveUnreadable(f"{url}: larger than {MAX_ARCHIVE_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise ArchiveUnreadable(f"{url}: download took longer than {timeout:g}s")
                handle.write(chunk)
    except OSError as error:  # URLError, HTTPError, timeouts
        raise ArchiveUnreadable(f"{url}: {getattr(error, 'reason', error)}") from None
    return size


def _check_zip(path: str, url: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(name.endswith(".json") for name in archive.namelist()):
                raise ArchiveUnreadable(f"{url}: no .json advisories in the archive")
            damaged = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise ArchiveUnreadable(f"{url}: not a readable zip archive: {error}") from None
    if damaged is not None:
        raise ArchiveUnreadable(f"{url}: member {damaged} is damaged")
