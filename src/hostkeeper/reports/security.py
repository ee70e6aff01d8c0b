"""`report: security`: run the security audit (hostkeeper.services.audit) and write its findings as
JSON, by default to report_dir/security/monthly_YYYYMMDD.json."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.adapters.store import Store
from hostkeeper.config import Config
from hostkeeper.config.location import DEFAULT_CONFIG
from hostkeeper.services.audit import run_audit, write_report

NAME = "security"
TITLE = "Security audit"
PERIOD: timedelta | None = None  # the audit looks at the host as it is now


def write(
    config: Config,
    store: Store,
    now: datetime,
    *,
    period: timedelta | None = None,
    output: Path | None = None,
    config_path: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    report = run_audit(config, config_path or DEFAULT_CONFIG, now)
    data = report.as_dict()
    if output is None:
        return write_report(config, report, now), data
    atomic_write(output, (json.dumps(data, indent=2, default=str) + "\n").encode(), 0o640)
    return output, data
