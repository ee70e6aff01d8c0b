"""Dry runs tell the truth: `rotate --dry-run` plans exactly what `rotate` does, also
behind a symlinked directory, and `cleanup --dry-run` prints hostile file names escaped."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

Cli = Callable[..., subprocess.CompletedProcess[str]]
LINKED_LOGS = 30


def _write_config(
    tmp_path: Path, config_data: Callable[..., dict[str, Any]], **sections: Any
) -> Path:
    path = tmp_path / "hostkeeper.yaml"
    path.write_text(yaml.safe_dump(config_data(**sections), sort_keys=False))
    return path


def test_rotate_dry_run_plans_exactly_what_the_real_run_does(
    cli: Cli, tmp_path: Path, config_data: Callable[..., dict[str, Any]]
) -> None:
    plain, real = tmp_path / "plain", tmp_path / "real"
    plain.mkdir()
    real.mkdir()
    (plain / "app.log").write_text("plain\n")
    for number in range(LINKED_LOGS):
        (real / f"svc{number}.log").write_text("behind a symlink\n")
    (tmp_path / "linked").symlink_to(real)
    config = _write_config(
        tmp_path,
        config_data,
        logs=[
            {
                "name": "all",
                "paths": [f"{plain}/*.log", f"{tmp_path / 'linked'}/*.log"],
                "keep": 2,
                "compress": False,
            }
        ],
    )
    before = sorted(p.name for p in real.iterdir())

    planned = cli("--config", str(config), "--json", "rotate", "--dry-run")
    shown = cli("--config", str(config), "rotate", "--dry-run")
    done = cli("--config", str(config), "--json", "rotate")

    [plan] = json.loads(planned.stdout)
    [result] = json.loads(done.stdout)
    would = sorted(log["path"] for log in plan["logs"] if log["rotate"])
    did = sorted(log["path"] for log in result["logs"] if log["rotated"])
    assert would == did == [str(plain / "app.log")]
    assert plan["errors"] == result["errors"]
    assert len(plan["errors"]) == 1
    assert "is a symlink" in plan["errors"][0] and f"its {LINKED_LOGS} log(s)" in plan["errors"][0]
    assert (planned.returncode, done.returncode) == (1, 1)
    # The text form: one error line for the directory, not one per log in it.
    assert len(shown.stderr.splitlines()) == 1, shown.stderr
    assert sorted(p.name for p in real.iterdir()) == before


def test_cleanup_dry_run_escapes_control_characters_in_file_names(
    cli: Cli, tmp_path: Path, config_data: Callable[..., dict[str, Any]]
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    hostile = {
        "new\nline.log": "new\\nline.log",
        "tab\there.log": "tab\\there.log",
        "clear\x1b[2Jscreen.log": "clear\\x1b[2Jscreen.log",
        "bell\x07.log": "bell\\x07.log",
        "rtl\u202egol.txt.log": "rtl\\u202egol.txt.log",
        "back\\nslash.log": "back\\\\nslash.log",
    }
    old = time.time() - 40 * 86400
    for name in hostile:
        (app / name).write_text("old\n")
        os.utime(app / name, (old, old))
    config = _write_config(
        tmp_path,
        config_data,
        cleanup=[{"name": "old", "path": str(app), "match": "*.log", "delete_after": "30d"}],
    )

    done = cli("--config", str(config), "cleanup", "--dry-run")

    assert done.returncode == 0, done.stderr
    for escaped in hostile.values():
        assert escaped in done.stdout, (escaped, done.stdout)
    assert not any(ch in done.stdout for ch in "\x1b\x07\t\u202e")
    # One line per action: the header, the table head, six rows and the total.
    assert len(done.stdout.splitlines()) == 1 + 1 + len(hostile) + 1, done.stdout
    assert sorted(p.name for p in app.iterdir()) == sorted(hostile)
