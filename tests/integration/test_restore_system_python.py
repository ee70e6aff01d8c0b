"""Restores on the production interpreter: Debian 12's /usr/bin/python3 (3.11.2) has no
tarfile.data_filter, so hostkeeper's own vetting is all that stands between a hostile
archive and the host. These tests run the real interpreter as a subprocess on archives
built here; the CLI test installs hostkeeper into a venv of that interpreter."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.hostile_archives import ATTACKS, write_hostile, write_with_modes

from conftest import clean_environment
from hostkeeper.adapters.archive import create_archive

SYSTEM_PYTHON = Path("/usr/bin/python3")
REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIR = REPO_ROOT / "src"

_PROBE = "import sys, tarfile; print(sys.version.split()[0], hasattr(tarfile, 'data_filter'))"

# Runs inside the system interpreter with only the standard library and hostkeeper's
# source on the path: restore one real archive, then try every hostile one.
_RESTORE_SCRIPT = """
import json, sys
from pathlib import Path
from hostkeeper.adapters import extract
from hostkeeper.adapters.archive import restore_archive

job = json.loads(sys.argv[1])
report = {"data_filter": extract.STDLIB_DATA_FILTER is not None}
good = restore_archive(Path(job["archive"]), Path(job["target"]))
report["restore"] = {"ok": good.ok, "problems": good.problems, "files": good.files_checked}
report["hostile"] = {}
for name, (archive, target) in job["hostile"].items():
    Path(target).mkdir()
    try:
        extract.extract_archive(Path(archive), Path(target))
        report["hostile"][name] = "extracted"
    except extract.UnsafeMember as error:
        report["hostile"][name] = "refused: " + str(error)
modes_target = Path(job["modes_target"])
modes_target.mkdir()
extract.extract_archive(Path(job["modes"]), modes_target)
report["modes"] = {p.name: p.stat().st_mode & 0o7777 for p in modes_target.iterdir()}
print(json.dumps(report))
"""


def _interpreter_without_data_filter() -> Path:
    """/usr/bin/python3 if it lacks tarfile.data_filter; otherwise skip (fail under CI)."""
    reason = None
    if not SYSTEM_PYTHON.is_file():
        reason = f"{SYSTEM_PYTHON} does not exist"
    else:
        probe = subprocess.run(
            [str(SYSTEM_PYTHON), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        version, has_filter = probe.stdout.split()
        if has_filter == "True":
            reason = f"{SYSTEM_PYTHON} is {version} and has tarfile.data_filter"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"CI must run the restore on an interpreter without a data filter: {reason}"
            )
        pytest.skip(reason)
    return SYSTEM_PYTHON


def test_restore_and_hostile_archives_on_the_system_interpreter(tmp_path: Path) -> None:
    python = _interpreter_without_data_filter()
    source = tmp_path / "etc"
    (source / "conf.d").mkdir(parents=True)
    (source / "app.yaml").write_text("key: value\n")
    (source / "conf.d" / "secret.conf").write_text("password = x\n")
    os.chmod(source / "conf.d" / "secret.conf", 0o600)
    archive = create_archive("config", [str(source)], [], tmp_path / "backups", datetime.now(UTC))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep\n")
    hostile = {
        name: (
            str(write_hostile(tmp_path / f"{name}.tar.gz", attack, outside)),
            str(tmp_path / f"target-{name}"),
        )
        for name, attack in ATTACKS.items()
    }
    modes = write_with_modes(tmp_path / "modes.tar.gz", {"suid": 0o4755, "writable": 0o666})
    job = {
        "archive": str(archive.path),
        "target": str(tmp_path / "restored"),
        "hostile": hostile,
        "modes": str(modes),
        "modes_target": str(tmp_path / "modes"),
    }
    done = subprocess.run(
        [str(python), "-c", _RESTORE_SCRIPT, json.dumps(job)],
        env=clean_environment(PYTHONPATH=str(SOURCE_DIR)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["data_filter"] is False
    assert report["restore"] == {"ok": True, "problems": [], "files": 2}
    copy = tmp_path / "restored" / str(source).lstrip("/")
    assert (copy / "conf.d" / "secret.conf").read_text() == "password = x\n"
    assert (copy / "conf.d" / "secret.conf").stat().st_mode & 0o777 == 0o600
    for name, outcome in report["hostile"].items():
        assert outcome.startswith("refused: "), f"{name}: {outcome}"
        assert list(Path(hostile[name][1]).iterdir()) == [], name
    assert sorted(p.name for p in outside.iterdir()) == ["precious"]
    assert (outside / "precious").read_text() == "keep\n"
    assert report["modes"] == {"suid": 0o755, "writable": 0o644}


# -- the command line on the system interpreter -----------------------------------------


@pytest.fixture(scope="session")
def system_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """hostkeeper installed into a venv of /usr/bin/python3 (needs PyPI for the deps)."""
    python = _interpreter_without_data_filter()
    venv = tmp_path_factory.mktemp("system-venv")
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True, timeout=300)
    install = subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(REPO_ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if install.returncode != 0:
        message = f"cannot install hostkeeper into a venv of {python}: {install.stderr[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield venv


def _hostkeeper(venv: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "hostkeeper"), "--config", str(config), *args],
        cwd=config.parent,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_backup_restore_restore_test_and_rollback_on_the_system_interpreter(
    tmp_path: Path, system_venv: Path
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "app.conf").write_text("setting = 1\n")
    data: dict[str, Any] = {
        "version": 1,
        "timezone": "UTC",
        "paths": {
            "state_dir": str(tmp_path / "state"),
            "report_dir": str(tmp_path / "reports"),
            "backup_dir": str(tmp_path / "backups"),
            "log_dir": str(tmp_path / "log"),
        },
        "database": {"url": f"sqlite:///{tmp_path}/state/hostkeeper.db"},
        "procedures": {},
        "backups": [{"name": "config", "sources": [str(etc)]}],
    }
    config = etc / "hostkeeper.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    version = subprocess.run(
        [str(system_venv / "bin" / "python"), "-c", _PROBE], capture_output=True, text=True
    )
    assert version.stdout.split()[1] == "False", version.stdout

    created = _hostkeeper(system_venv, config, "--json", "backup", "create", "config")
    assert created.returncode == 0, created.stderr
    archive = json.loads(created.stdout)["archive"]

    restored = _hostkeeper(
        system_venv, config, "backup", "restore", archive, "--to", str(tmp_path / "restored")
    )
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert (
        tmp_path / "restored" / str(etc).lstrip("/") / "app.conf"
    ).read_text() == "setting = 1\n"

    tested = _hostkeeper(system_venv, config, "backup", "restore-test", "config")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "config: PASSED" in tested.stdout
    status = _hostkeeper(system_venv, config, "--json", "status")
    assert status.returncode == 0, status.stderr
    [backup] = json.loads(status.stdout)["backups"]
    assert backup["restore_test"]["ok"] is True

    (etc / "app.conf").write_text("setting = broken\n")
    rolled = _hostkeeper(system_venv, config, "--json", "rollback")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert (etc / "app.conf").read_text() == "setting = 1\n"
