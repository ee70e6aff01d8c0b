"""The shipped unit's hardening, as `systemd-analyze security --offline=true` scores it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.peers import missing_peer

REPO_ROOT = Path(__file__).resolve().parents[2]
UNIT = REPO_ROOT / "packaging" / "systemd" / "hostkeeper.service"
MAX_EXPOSURE = 3.0

if shutil.which("systemd-analyze") is None:
    missing_peer("systemd-analyze is not installed (Debian package `systemd`)", module_level=True)


@pytest.fixture(scope="module")
def analysis() -> str:
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "Unknown option" in result.stderr or "unrecognized option" in result.stderr:
        pytest.skip(f"this systemd-analyze has no offline security mode: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_overall_exposure_is_at_most_3(analysis: str) -> None:
    match = re.search(r"Overall exposure level for hostkeeper\.service: (\d+\.\d+)", analysis)
    assert match, analysis
    assert float(match.group(1)) <= MAX_EXPOSURE, analysis


def test_process_tree_stays_visible(analysis: str) -> None:
    # Process checks look at other processes and metrics read /proc/meminfo and
    # /proc/loadavg: hardening must not take ProtectProc=invisible or ProcSubset=pid.
    assert re.search(r"✗ ProtectProc=\s.*full access to process tree", analysis), analysis
    assert re.search(r"✗ ProcSubset=\s.*full access to non-process /proc", analysis), analysis


def test_core_protections_are_in_force(analysis: str) -> None:
    for setting in (
        "ProtectSystem=",
        "ProtectHome=",
        "PrivateTmp=",
        "NoNewPrivileges=",
        "ProtectKernelTunables=",
        "ProtectKernelModules=",
        "ProtectControlGroups=",
        "CapabilityBoundingSet=~CAP_SYS_ADMIN",
        "CapabilityBoundingSet=~CAP_SYS_PTRACE",
        "SystemCallArchitectures=",
        "MemoryDenyWriteExecute=",
        "RestrictNamespaces=~user",
    ):
        assert re.search(rf"^✓ {re.escape(setting)}", analysis, re.MULTILINE), (
            f"{setting} is not in force:\n{analysis}"
        )
