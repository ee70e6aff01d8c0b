"""Every report by name, written on demand (`report NAME`) or by a `report: NAME` step.

NAMES is the one list of reports: the `report:` step's argument, the `report` verb's
choices and the documentation derive from it. Report NAME is the module
`hostkeeper.reports.NAME`, loaded (and checked against `reports.contract.ReportModule`)
only when it is written, so knowing the names needs neither SQLAlchemy nor the reports.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from hostkeeper.config.steps import REPORT_NAMES
from hostkeeper.core.contracts import check_declared_name, check_member

if TYPE_CHECKING:
    from hostkeeper.adapters.store import Store
    from hostkeeper.config import Config
    from hostkeeper.reports.contract import ReportModule

NAMES = REPORT_NAMES  # listed once, in config.steps (the `report:` step checks them)


class UnknownReport(LookupError):
    pass


def load_module(name: str) -> ReportModule:
    """The module of report `name`, checked against the ReportModule contract.

    Raises UnknownReport for a name not in NAMES, PluginContractError for a module that
    lacks part of the contract.
    """
    from hostkeeper.reports.contract import ReportModule

    if name not in NAMES:
        raise UnknownReport(f"no report named {name!r}; reports: {', '.join(NAMES)}")
    module = importlib.import_module(f"hostkeeper.reports.{name}")
    check_member("report", name, module, ReportModule)
    check_declared_name("report", name, module, "NAME")
    return cast("ReportModule", module)


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
    module = load_module(name)
    path, data = module.write(
        config, store, now, period=period, output=output, config_path=config_path
    )
    return Path(path), data
