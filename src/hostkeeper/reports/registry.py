"""Every report by name, written on demand (`report NAME`) or by a `report: NAME` step.

HTML reports live in `hostkeeper.reports.<name>` with
`write(config, store, now, *, period=None, output=None) -> (path, data)`; the JSON
reports (alert_effectiveness, security) are adapted here to the same call.
"""

from __future__ import annotations

import importlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hostkeeper.adapters.fs import atomic_write
from hostkeeper.config import Config

if TYPE_CHECKING:  # SQLAlchemy is not needed to know the report names (`report --help`)
    from hostkeeper.adapters.store import Store

NAMES = (
    "daily",
    "performance",
    "trends",
    "alert_effectiveness",
    "health_assessment",
    "capacity",
    "security",
)
DEFAULT_CONFIG_PATH = "/etc/hostkeeper/hostkeeper.yaml"


class UnknownReport(LookupError):
    pass


def generate(
    name: str,
    config: Config,
    store: Store,
    now: datetime,
    *,
    period: timedelta | None = None,
    output: Path | None = None,
    config_path: str | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write report `name`; its path and a summary of what it holds."""
    if name not in NAMES:
        raise UnknownReport(f"no report named {name!r}; reports: {', '.join(NAMES)}")
    if name == "alert_effectiveness":
        from hostkeeper.reports import alert_effectiveness

        data = alert_effectiveness.build(config, store, now, period or alert_effectiveness.PERIOD)
        path = output or alert_effectiveness.report_path(config, now)
        return _write_json(path, data), data
    if name == "security":
        from hostkeeper.audit import run_audit, write_report

        report = run_audit(config, config_path or DEFAULT_CONFIG_PATH, now)
        data = report.as_dict()
        if output is None:
            return write_report(config, report, now), data
        return _write_json(output, data), data
    module_name = f"hostkeeper.reports.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        raise UnknownReport(
            f"the {name!r} report is not available yet in this version of hostkeeper"
        ) from None
    path, data = module.write(config, store, now, period=period, output=output)
    return Path(path), data


def _write_json(path: Path, data: dict[str, Any]) -> Path:
    atomic_write(path, (json.dumps(data, indent=2, default=str) + "\n").encode(), 0o640)
    return path
