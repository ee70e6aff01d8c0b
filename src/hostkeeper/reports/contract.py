"""What a report module provides: the contract every name in reports.registry.NAMES is
checked against when its module is loaded.

A report is one module, `hostkeeper.reports.<name>`, plus its name in NAMES.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from hostkeeper.adapters.store import Store
    from hostkeeper.config import Config


class ReportModule(Protocol):
    NAME: str
    """The report's name, as in `report: NAME` and `hostkeeper report NAME`."""
    TITLE: str
    """What the report is, in a few words (listings, help)."""
    PERIOD: timedelta | None
    """How far back it looks unless told otherwise; None: it has no period (security)."""

    def write(
        self,
        config: Config,
        store: Store,
        now: datetime,
        *,
        period: timedelta | None = None,
        output: Path | None = None,
        config_path: str | None = None,
    ) -> tuple[Path, dict[str, Any]]:
        """Build the report for the `period` before `now` (its PERIOD when None), write it
        atomically to `output` or its dated file under report_dir, and return the path
        and a summary of what it holds (`totals` when it has them)."""
        ...
