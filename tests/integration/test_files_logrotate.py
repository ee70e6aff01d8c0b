"""hostkeeper's rotation next to the real logrotate on the equivalent configuration."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.peers import missing_peer


def _find_logrotate() -> str:
    found = shutil.which("logrotate") or next(
        (p for p in ("/usr/sbin/logrotate", "/sbin/logrotate") if Path(p).is_file()), None
    )
    if found is None:
        missing_peer("logrotate is not installed (Debian package `logrotate`)", module_level=True)
    return found


LOGROTATE = _find_logrotate()


def contents(directory: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(directory.iterdir()):
        data = path.read_bytes()
        found[path.name] = gzip.decompress(data) if path.name.endswith(".gz") else data
    return found


@pytest.mark.parametrize(
    ("directives", "policy"),
    [
        (
            ["rotate 3", "compress", "delaycompress", "create"],
            {"keep": 3, "compress": True, "delay_compress": True},
        ),
        (["rotate 2", "compress", "create"], {"keep": 2, "compress": True}),
        (["rotate 4", "nocompress", "create"], {"keep": 4, "compress": False}),
        (["rotate 2", "nocompress", "copytruncate"], {"keep": 2, "mode": "copytruncate"}),
    ],
)
def test_forced_rotations_leave_the_same_files_as_logrotate(
    tmp_path: Path, config_data: Any, directives: list[str], policy: dict[str, Any]
) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for directory in (ours, theirs):
        directory.mkdir()
    logrotate_config = tmp_path / "logrotate.conf"
    body = "\n".join(f"    {line}" for line in [*directives, "missingok"])
    logrotate_config.write_text(f"{theirs}/app.log {{\n{body}\n}}\n")
    config = tmp_path / "hostkeeper.yaml"
    data = config_data(
        logs=[{"name": "app", "paths": [f"{ours}/app.log"], "compress": False} | policy]
    )
    config.write_text(yaml.safe_dump(data))
    for round_number in range(6):
        for directory in (ours, theirs):
            with open(directory / "app.log", "a") as handle:
                handle.write(f"round {round_number}\n")
        subprocess.run(
            [LOGROTATE, "-s", str(tmp_path / "logrotate.state"), "-f", str(logrotate_config)],
            check=True,
        )
        done = subprocess.run(
            [sys.executable, "-m", "hostkeeper", "--config", str(config), "rotate", "--force"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert contents(ours) == contents(theirs), f"after round {round_number}"
    assert sorted(p.name for p in ours.iterdir()) == sorted(p.name for p in theirs.iterdir())
