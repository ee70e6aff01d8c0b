"""`make install` and `make deb` use an interpreter the hardened unit can reach.

The unit runs with ProtectHome=yes and PrivateTmp=yes: an interpreter under /root,
/home, /run/user, /tmp or /var/tmp (pyenv's, say) makes the service die with 203/EXEC
and an empty journal, so installing with one is refused in one line, before anything
is written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.peers import missing_peer

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECK = REPO_ROOT / "packaging" / "check-interpreter"
SYSTEM_PYTHON = Path("/usr/bin/python3")


def check(python: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK), str(python)], capture_output=True, text=True, timeout=60, check=False
    )


def copy_of_interpreter(directory: Path) -> Path:
    """A working copy of this interpreter's binary in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / "python3"
    shutil.copy2(os.path.realpath(sys.executable), copy)
    return copy


@pytest.fixture
def under_root_home() -> Iterator[Path]:
    """A directory under /root, which ProtectHome=yes hides from the unit."""
    if os.geteuid() != 0 or not Path("/root").is_dir():
        pytest.skip("needs root to make a directory under /root")
    directory = Path(tempfile.mkdtemp(prefix="hostkeeper-test-", dir="/root"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory)


def test_the_system_interpreter_is_accepted() -> None:
    if not SYSTEM_PYTHON.exists():
        missing_peer("this machine has no /usr/bin/python3 (Debian package python3)")
    result = check(SYSTEM_PYTHON)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_an_interpreter_under_root_is_refused_with_one_line(under_root_home: Path) -> None:
    python = copy_of_interpreter(under_root_home / "bin")
    result = check(python)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"refusing {python}: ")
    assert "ProtectHome=yes" in result.stderr
    assert "use /usr/bin/python3" in result.stderr


def test_an_interpreter_under_tmp_is_refused(tmp_path: Path) -> None:
    if not tmp_path.is_relative_to("/tmp"):
        pytest.skip("pytest's temporary directory is not under /tmp here")
    result = check(copy_of_interpreter(tmp_path / "bin"))
    assert result.returncode == 1
    assert "PrivateTmp=yes" in result.stderr


def test_a_missing_interpreter_is_refused(tmp_path: Path) -> None:
    result = check(tmp_path / "no-such-python")
    assert result.returncode == 1
    assert "no such interpreter" in result.stderr


def test_make_install_defaults_to_the_system_interpreter(tmp_path: Path) -> None:
    plan = subprocess.run(
        ["make", "-n", "install", f"PREFIX={tmp_path / 'opt'}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "packaging/check-interpreter /usr/bin/python3" in plan
    assert f"/usr/bin/python3 -m venv {tmp_path / 'opt'}" in plan


def test_make_install_refuses_a_hidden_interpreter_before_writing(
    under_root_home: Path, tmp_path: Path
) -> None:
    python = copy_of_interpreter(under_root_home / "bin")
    targets = {
        "PREFIX": tmp_path / "opt" / "hostkeeper",
        "SYSTEMD_DIR": tmp_path / "systemd",
        "LOGROTATE_DIR": tmp_path / "logrotate.d",
        "CONFIG_DIR": tmp_path / "etc",
        "BIN_DIR": tmp_path / "bin",
    }
    result = subprocess.run(
        ["make", "--no-print-directory", "install", f"INSTALL_PYTHON={python}"]
        + [f"{name}={path}" for name, path in targets.items()],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert f"refusing {python}: " in result.stderr
    assert not any(path.exists() for path in targets.values())
