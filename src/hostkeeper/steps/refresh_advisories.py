"""`refresh_advisories`: download the OSV PyPI archive the dependency audit reads
(security.dependencies.osv_archive_url to .osv_archive), for hosts with a network.

The old archive stays in place unless the new one downloads completely and every
member checks out, so a failed refresh leaves the audit working on the previous data.
A failed download is a warning, not a failure: on a host without a network the monthly
run goes on, and the dependency audit reports missing advisories as a finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hostkeeper.adapters.osv_archive import ArchiveUnreadable, refresh_archive
from hostkeeper.core.runs import StepStatus
from hostkeeper.services.dependency_audit import archive_path
from hostkeeper.steps.context import StepContext, StepOutcome

NAME = "refresh_advisories"
DEFAULT_TIMEOUT = 600.0


def run(ctx: StepContext, argument: Any) -> StepOutcome:
    settings = ctx.config.security.dependencies
    target = archive_path(settings, ctx.config.paths.state_dir)
    if ctx.dry_run:
        return StepOutcome(
            StepStatus.SKIPPED, f"dry run: would download {settings.osv_archive_url} to {target}"
        )
    remaining = ctx.remaining()
    try:
        size = refresh_archive(
            settings.osv_archive_url, target, DEFAULT_TIMEOUT if remaining is None else remaining
        )
    except ArchiveUnreadable as error:
        # A host without a network, or a passing outage: the dependency audit goes on
        # with the archive it has and reports for itself when there is none.
        kept = (
            "the previous archive is kept" if Path(target).exists() else "there is no archive yet"
        )
        return StepOutcome(
            StepStatus.WARNING, f"advisories not refreshed ({kept}): {error}", error=str(error)
        )
    return StepOutcome.ok(f"{target}: {size} bytes from {settings.osv_archive_url}")
