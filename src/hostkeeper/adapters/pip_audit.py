"""pip-audit, where it is installed: the vulnerabilities of one environment's
site-packages (`--path`), as its JSON report. pip-audit asks PyPI's or osv.dev's
service, so it needs the network; the offline way is the OSV archive."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from hostkeeper.adapters.commands import run_command
from hostkeeper.core.pip_audit import PipAuditError, ReportedVulnerability, parse_report


class PipAuditUnavailable(Exception):
    """pip-audit is not installed, failed, or wrote no readable report."""


def pip_audit_path() -> str | None:
    return shutil.which("pip-audit")


def run_pip_audit(paths: Sequence[str], timeout: float) -> list[ReportedVulnerability]:
    """The vulnerabilities pip-audit reports for the distributions under `paths`."""
    executable = pip_audit_path()
    if executable is None:
        raise PipAuditUnavailable("pip-audit is not installed")
    with tempfile.TemporaryDirectory(prefix="hostkeeper-pip-audit-") as scratch:
        output = Path(scratch) / "report.json"
        argv = [executable, "--format=json", f"--output={output}", "--progress-spinner=off"]
        for path in paths:
            argv.append(f"--path={path}")
        result = run_command(argv, timeout=timeout)
        # pip-audit exits 1 when it found vulnerabilities; its report is written either way.
        if result.returncode not in (0, 1) or not output.exists():
            last = result.output.strip().splitlines()[-1:] or [""]
            raise PipAuditUnavailable(f"pip-audit {result.describe_failure()}: {last[0]}")
        try:
            return parse_report(json.loads(output.read_text(encoding="utf-8")))
        except (ValueError, PipAuditError) as error:
            raise PipAuditUnavailable(f"pip-audit wrote an unreadable report: {error}") from None
