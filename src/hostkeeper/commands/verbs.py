"""The verbs in the order `hostkeeper --help` lists them: one module per area. Each
module's `register(verbs)` adds its subparsers and sets `handler` on them; adding an area
is one module plus one line in MODULES."""

from __future__ import annotations

from hostkeeper.commands import (
    alerts_cmd,
    audit_cmd,
    backup_cmd,
    baseline_cmd,
    check_cmd,
    checklist_cmd,
    config_cmd,
    dashboard_cmd,
    db_cmd,
    files_cmd,
    fleet_cmd,
    incident_cmd,
    maintenance_cmd,
    metrics_cmd,
    procedures,
    reload_cmd,
    report_cmd,
    validate_cmd,
)

MODULES = (
    audit_cmd,
    procedures,
    checklist_cmd,
    reload_cmd,
    config_cmd,
    db_cmd,
    check_cmd,
    alerts_cmd,
    maintenance_cmd,
    incident_cmd,
    files_cmd,
    backup_cmd,
    metrics_cmd,
    baseline_cmd,
    report_cmd,
    validate_cmd,
    dashboard_cmd,
    fleet_cmd,
)
