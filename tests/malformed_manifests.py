"""Archives whose MANIFEST.json is malformed, with a sidecar that matches them: only the
manifest is wrong, as when someone with write access to backup_dir rebuilt one."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

MANIFEST = "MANIFEST.json"
_GOOD_SHA = "0" * 64

MALFORMED = {
    "a list": b"[]",
    "a string": b'"files"',
    "not JSON": b"{files: ",
    "files not a list": json.dumps({"files": {"a": 1}}).encode(),
    "member without path": json.dumps(
        {"files": [{"size": 1, "mode": 420, "sha256": _GOOD_SHA}]}
    ).encode(),
    "member as a list": json.dumps({"files": [["etc/x", 1]]}).encode(),
    "size not a number": json.dumps(
        {"files": [{"path": "etc/x", "size": "big", "mode": 420, "sha256": _GOOD_SHA}]}
    ).encode(),
    "directory outside": json.dumps(
        {"files": [], "directories": [{"path": "../../outside", "mode": 493}]}
    ).encode(),
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
}


def replace_manifest(archive: Path, manifest: bytes) -> None:
    """Rewrite `archive` with `manifest` as its MANIFEST.json, and its .sha256 sidecar."""
    with tarfile.open(archive, "r:gz") as source:
        members = [(m, source.extractfile(m).read() if m.isfile() else None) for m in source]  # type: ignore[union-attr]
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb") as compressed,
        tarfile.open(fileobj=compressed, mode="w") as target,
    ):
        for member, data in members:
            if member.name == MANIFEST:
                member.size = len(manifest)
                data = manifest
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    archive.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    archive.with_name(archive.name + ".sha256").write_text(f"{digest}  {archive.name}\n")
