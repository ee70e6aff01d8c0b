"""`vulnerabilities`: the findings of the newest dependency audit report, counted by
severity against `warning` and `critical` (`{high: 1}`: one finding at or above high).

It reads the report the `dependency_audit` step writes (report_dir/security/
dependencies_YYYYMMDD.json), so it costs nothing and can run with every health check;
an alert rule on it (`check: NAME`) notifies through the usual channels. No report, an
unreadable one, or one older than `max_age` (the audit stopped running) is unknown.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from hostkeeper.checks import CheckUnavailable
from hostkeeper.checks.units import format_age
from hostkeeper.config.checks import VulnerabilitiesCheck
from hostkeeper.core.dependencies import SEVERITY_RANK, Severity, breached, count_at_or_above
from hostkeeper.core.health import CheckState, Measurement

TYPE = "vulnerabilities"
CONFIG = VulnerabilitiesCheck


def measure(check: VulnerabilitiesCheck, timeout: float) -> Measurement:
    folder = Path(check.reports or "")
    reports = sorted(folder.glob("dependencies_*.json")) if check.reports else []
    if not reports:
        raise CheckUnavailable(f"no dependency audit report in {folder} (run dependency_audit)")
    newest = reports[-1]
    try:
        age = max(time.time() - os.stat(newest).st_mtime, 0.0)
        counts = json.loads(newest.read_text(encoding="utf-8"))["summary"]
        if not isinstance(counts, dict):
            raise TypeError("summary is not an object")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckUnavailable(f"cannot read {newest}: {error}") from None
    if age > check.max_age.total_seconds():
        raise CheckUnavailable(
            f"the newest dependency audit report {newest.name} is {format_age(age)} old"
        )
    lowest = min(
        [*check.warning, *check.critical], key=SEVERITY_RANK.__getitem__, default=Severity.INFO
    )
    if breached(counts, check.critical):
        state = CheckState.CRITICAL
    elif breached(counts, check.warning):
        state = CheckState.WARNING
    else:
        state = CheckState.OK
    described = ", ".join(f"{n} {severity}" for severity, n in counts.items() if n) or "none"
    return Measurement(
        state,
        f"findings: {described} ({newest.name}, {format_age(age)} old)",
        value=float(count_at_or_above(counts, lowest)),
        unit="findings",
    )
