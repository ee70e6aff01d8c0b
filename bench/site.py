"""A hostkeeper installation under a temporary directory, configured from the reference.

The reference configuration (`../shared/spec/hostkeeper.yaml`) is used as it is, with
only its paths moved: /var/lib, /var/backups and /var/log/hostkeeper, and the
directories `cleanup` deletes in (/var/log/app, /tmp) go under the site's root, the
database URL points at the site (or at a given SQLite file) and the dashboard listens
on a free loopback port. The text is edited, not re-dumped, so every key keeps
its exact spelling and line.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.harness import REPO

_MOVED_PREFIXES = {
    "/var/lib/hostkeeper": "state",
    "/var/backups/hostkeeper": "backups",
    "/var/log/hostkeeper": "log",
    "/var/log/app": "app-log",  # cleanup deletes there: never outside the site
}
# `cleanup` also deletes old files under /tmp; a procedure due during a run must not.
_TMP_CLEANUP = re.compile(r"(?m)^(\s*path:\s*)/tmp(?=\s|$)")
_DATABASE_URL = re.compile(r"(?m)^(\s*url:\s*)sqlite:///\S+")
_DASHBOARD_LISTEN = re.compile(r"(?m)^(\s*listen:\s*)127\.0\.0\.1:\d+")


def default_reference_config() -> Path:
    configured = os.environ.get("HOSTKEEPER_REFERENCE_CONFIG")
    if configured:
        return Path(configured)
    for candidate in (
        REPO.parent / "shared" / "spec" / "hostkeeper.yaml",
        REPO / "etc" / "hostkeeper" / "hostkeeper.yaml",
    ):
        if candidate.is_file():
            return candidate
    return REPO.parent / "shared" / "spec" / "hostkeeper.yaml"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def adapt_reference(text: str, root: Path, database: Path) -> str:
    """The reference configuration with every hostkeeper path under `root`."""
    for prefix, name in _MOVED_PREFIXES.items():
        if prefix not in text:
            raise ValueError(f"the reference configuration no longer mentions {prefix}")
        text = text.replace(prefix, str(root / name))
    text = _TMP_CLEANUP.sub(lambda m: f"{m.group(1)}{root / 'tmp'}", text)
    text, found = _DATABASE_URL.subn(lambda m: f"{m.group(1)}sqlite:///{database}", text)
    if found != 1:
        raise ValueError(f"expected one sqlite database url in the reference, found {found}")
    text, _ = _DASHBOARD_LISTEN.subn(lambda m: f"{m.group(1)}127.0.0.1:{free_port()}", text)
    return text


@dataclass
class Site:
    root: Path
    config: Path
    database: Path

    @classmethod
    def create(cls, parent: Path, reference: Path, database: Path | None = None) -> Site:
        root = Path(tempfile.mkdtemp(prefix="site-", dir=parent))
        for name in (*_MOVED_PREFIXES.values(), "tmp"):
            (root / name).mkdir()
        database = database or root / "state" / "hostkeeper.db"
        config = root / "hostkeeper.yaml"
        config.write_text(adapt_reference(reference.read_text(), root, database))
        return cls(root, config, database)

    def rewrite_config(self, old: str, new: str) -> None:
        """Replace one fragment of the configuration, atomically (as an editor would)."""
        text = self.config.read_text()
        if text.count(old) != 1:
            raise ValueError(f"{old!r} is not in {self.config} exactly once")
        partial = self.config.with_suffix(".tmp")
        partial.write_text(text.replace(old, new))
        partial.rename(self.config)
