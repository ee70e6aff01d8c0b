"""Reading an archive's MANIFEST.json without trusting it.

The manifest comes out of a file on disk that anyone with write access to backup_dir
may have replaced; verify, restore-test and rollback read it. Its shape is checked
here once, so the code that uses it can index it without a KeyError, and a list, a
member without `path`, or JSON nested a thousand levels deep is a problem to report,
not an exception.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

# The manifest of 100,000 files is about 25 MiB; past this it is not one of ours.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The manifest cannot be used; the message says why."""


def parse_manifest(data: bytes) -> dict[str, Any]:
    """The manifest in `data`, checked; raises ManifestError."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
    try:
        manifest = json.loads(data)
    except RecursionError:
        raise ManifestError("nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ManifestError(f"not JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"a JSON object expected, found {_kind(manifest)}")
    files = _list(manifest, "files")
    seen: set[str] = set()
    for index, entry in enumerate(files):
        where = f"files[{index}]"
        _entry(entry, where, ("path", "size", "mode", "sha256"))
        if entry["path"] in seen:
            raise ManifestError(f"{where}: {entry['path']!r} is listed twice")
        seen.add(entry["path"])
        _count(entry, "size", where)
        _mode(entry, where)
        if not isinstance(entry["sha256"], str) or not _SHA256.fullmatch(entry["sha256"]):
            raise ManifestError(f"{where}.sha256: not a sha256 in hex")
        for owner in ("uid", "gid"):
            if owner in entry:
                _count(entry, owner, where)
    for index, entry in enumerate(_list(manifest, "directories", required=False)):
        where = f"directories[{index}]"
        _entry(entry, where, ("path", "mode"))
        _mode(entry, where)
    return manifest


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "a string" if isinstance(value, str) else type(value).__name__


def _list(manifest: dict[str, Any], key: str, required: bool = True) -> list[Any]:
    if key not in manifest and not required:
        return []
    value = manifest.get(key)
    if not isinstance(value, list):
        raise ManifestError(f"`{key}` must be a list, found {_kind(value)}")
    return value


def _entry(entry: object, where: str, keys: tuple[str, ...]) -> None:
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: an object expected, found {_kind(entry)}")
    missing = [key for key in keys if key not in entry]
    if missing:
        raise ManifestError(f"{where}: no {', '.join(missing)}")
    path = entry["path"]
    if not isinstance(path, str) or not path:
        raise ManifestError(f"{where}.path: a relative path expected")
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or "\0" in path:
        raise ManifestError(f"{where}.path: {path!r} leaves the archive")


def _count(entry: dict[str, Any], key: str, where: str) -> None:
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ManifestError(f"{where}.{key}: a whole number expected")


def _mode(entry: dict[str, Any], where: str) -> None:
    value = entry["mode"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0o7777:
        raise ManifestError(f"{where}.mode: a file mode expected")
