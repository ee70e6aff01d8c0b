"""A missing peer skips on a developer's machine and fails under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

TEST_WITHOUT_PEER = """
from tests.peers import missing_peer

def test_needs_a_peer():
    missing_peer("frobnicator is not installed (Debian package frobnicator)")
"""


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_needs_peer.py"
    test_file.write_text(TEST_WITHOUT_PEER)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(test_file)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_a_missing_peer_is_a_skip_outside_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "frobnicator is not installed" in result.stdout


@pytest.mark.parametrize("value", ["true", "TRUE"])
def test_a_missing_peer_fails_under_ci(tmp_path: Path, value: str) -> None:
    result = run_pytest(tmp_path, ci=value)
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout
    assert ".ci/run must provide it" in result.stdout
