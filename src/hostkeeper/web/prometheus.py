"""Prometheus text exposition (format 0.0.4) of the status model, written by hand: the
format is small, and a dependency would cost start-up time for one page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from hostkeeper import __version__
from hostkeeper.services.status_model import FleetStatus, HostStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CHECK_STATES = ("ok", "warning", "critical", "unknown")
SEVERITIES = ("info", "warning", "critical")
WINDOW_KINDS = ("run", "planned", "adhoc", "incident")


def _label_value(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: Mapping[str, object]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items()) + "}"


def _number(value: float | int | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(float(value)) if isinstance(value, float) else str(value)


class _Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Iterable[tuple[Mapping[str, object], float | int | bool | None]],
    ) -> None:
        rows = [(labels, value) for labels, value in samples if value is not None]
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        self.lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in rows]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def render(status: HostStatus) -> str:
    out = _Exposition()
    out.family(
        "hostkeeper_build_info",
        "gauge",
        "hostkeeper version running.",
        [({"version": __version__}, 1)],
    )
    procedures = status.procedures
    out.family(
        "hostkeeper_procedure_last_run_timestamp_seconds",
        "gauge",
        "Start of the newest real run of each procedure (missed and skipped included).",
        [({"procedure": p.procedure}, _ts(p.last_run)) for p in procedures],
    )
    out.family(
        "hostkeeper_procedure_last_success_timestamp_seconds",
        "gauge",
        "End of the newest successful run of each procedure.",
        [({"procedure": p.procedure}, _ts(p.last_success)) for p in procedures],
    )
    out.family(
        "hostkeeper_procedure_last_duration_seconds",
        "gauge",
        "Duration of the newest real run of each procedure.",
        [({"procedure": p.procedure}, p.last_duration_seconds) for p in procedures],
    )
    out.family(
        "hostkeeper_procedure_last_run_success",
        "gauge",
        "1 when the newest real run that ran to an end succeeded, 0 when it failed.",
        [
            ({"procedure": p.procedure}, not p.failing)
            for p in procedures
            if p.last_outcome is not None
        ],
    )
    out.family(
        "hostkeeper_procedure_next_run_timestamp_seconds",
        "gauge",
        "Next scheduled start of each procedure.",
        [({"procedure": p.procedure}, _ts(p.next_run)) for p in procedures],
    )
    out.family(
        "hostkeeper_procedure_runs_total",
        "counter",
        "Real runs of each procedure by result.",
        [
            ({"procedure": p.procedure, "status": result}, count)
            for p in procedures
            for result, count in sorted(p.runs_by_status.items())
        ],
    )
    out.family(
        "hostkeeper_step_failures_total",
        "counter",
        "Failed or aborted steps of real runs per procedure.",
        [({"procedure": name}, count) for name, count in status.step_failures.items()],
    )
    health = status.health
    out.family(
        "hostkeeper_health_score",
        "gauge",
        "Health score 0-100 (weighted mean of check states).",
        [({}, health.score)],
    )
    measured = [c for c in health.checks if c.state is not None]
    out.family(
        "hostkeeper_check_state",
        "gauge",
        "1 for the current state of each check.",
        [
            ({"check": c.name, "state": state}, c.state == state)
            for c in measured
            for state in CHECK_STATES
        ],
    )
    out.family(
        "hostkeeper_check_value",
        "gauge",
        "Value measured by each check.",
        [({"check": c.name, "unit": c.unit or ""}, c.value) for c in measured],
    )
    out.family(
        "hostkeeper_check_duration_seconds",
        "gauge",
        "Time each check took.",
        [({"check": c.name}, c.duration_seconds) for c in measured],
    )
    firing = {severity: 0 for severity in SEVERITIES}
    for alert in status.alerts.firing:
        firing[alert.severity] = firing.get(alert.severity, 0) + 1
    out.family(
        "hostkeeper_alerts_firing",
        "gauge",
        "Firing alerts by severity.",
        [({"severity": severity}, count) for severity, count in firing.items()],
    )
    out.family(
        "hostkeeper_notifications_total",
        "counter",
        "Notifications by channel and delivery state.",
        [({"channel": n.channel, "state": n.state}, n.count) for n in status.notifications],
    )
    backups = status.backups
    newest = [(b.set, b.newest) for b in backups if b.newest is not None]
    tested = [(b.set, b.restore_test) for b in backups if b.restore_test is not None]
    out.family(
        "hostkeeper_backup_newest_age_seconds",
        "gauge",
        "Age of the newest archive of each backup set.",
        [({"set": name}, archive.age_seconds) for name, archive in newest],
    )
    out.family(
        "hostkeeper_backup_stale_after_seconds",
        "gauge",
        "Age past which the newest archive of the set is stale (docs/status.md).",
        [({"set": b.set}, b.stale_after_seconds) for b in backups],
    )
    out.family(
        "hostkeeper_backup_fresh",
        "gauge",
        "1 when the newest archive of the set is fresh, 0 when stale or missing.",
        [({"set": b.set}, b.fresh) for b in backups],
    )
    out.family(
        "hostkeeper_backup_newest_size_bytes",
        "gauge",
        "Size of the newest archive of each backup set.",
        [({"set": name}, archive.size_bytes) for name, archive in newest],
    )
    out.family(
        "hostkeeper_backup_last_verify_success",
        "gauge",
        "1 when the newest archive last verified, 0 when verification failed.",
        [({"set": name}, archive.verify_ok) for name, archive in newest],
    )
    out.family(
        "hostkeeper_backup_last_restore_test_success",
        "gauge",
        "1 when the last restore test of the set passed.",
        [({"set": name}, test.ok) for name, test in tested],
    )
    out.family(
        "hostkeeper_backup_last_restore_test_timestamp_seconds",
        "gauge",
        "When the last restore test of the set ran.",
        [({"set": name}, _ts(test.tested_at)) for name, test in tested],
    )
    totals = status.file_totals
    out.family(
        "hostkeeper_files_freed_bytes_total",
        "counter",
        "Bytes freed by rotation and cleanup.",
        [({"kind": kind}, t.bytes_freed) for kind, t in totals.items()],
    )
    out.family(
        "hostkeeper_files_deleted_total",
        "counter",
        "Files deleted by rotation and cleanup.",
        [({"kind": kind}, t.files_deleted) for kind, t in totals.items()],
    )
    out.family(
        "hostkeeper_files_compressed_total",
        "counter",
        "Files compressed by rotation and cleanup.",
        [({"kind": kind}, t.files_compressed) for kind, t in totals.items()],
    )
    out.family(
        "hostkeeper_files_rotated_total",
        "counter",
        "Log files rotated.",
        [({"kind": kind}, t.files_rotated) for kind, t in totals.items()],
    )
    dependencies = status.dependencies
    out.family(
        "hostkeeper_dependency_findings",
        "gauge",
        "Open findings of the dependency audit by severity (vulnerable or outdated "
        "software, pending OS upgrades).",
        []
        if dependencies is None
        else [({"severity": s}, n) for s, n in dependencies.open.items()],
    )
    out.family(
        "hostkeeper_dependency_audit_timestamp_seconds",
        "gauge",
        "When the newest dependency audit ran.",
        [({}, None if dependencies is None else _ts(dependencies.audited_at))],
    )
    maintenance = status.maintenance
    out.family(
        "hostkeeper_maintenance_active",
        "gauge",
        "1 while a maintenance window holds alerts (open, or in its grace).",
        [({}, maintenance.active)],
    )
    open_windows = {kind: 0 for kind in WINDOW_KINDS}
    for window in maintenance.windows:
        open_windows[window.kind] = open_windows.get(window.kind, 0) + 1
    out.family(
        "hostkeeper_maintenance_windows",
        "gauge",
        "Maintenance windows holding alerts, by kind (run, planned, adhoc, incident).",
        [({"kind": kind}, count) for kind, count in open_windows.items()],
    )
    out.family(
        "hostkeeper_alerts_held",
        "gauge",
        "Active alerts not notified because they began during a maintenance window.",
        [({}, maintenance.held_alerts)],
    )
    out.family(
        "hostkeeper_maintenance_silence_failures",
        "gauge",
        "Alertmanager silences of maintenance windows whose last attempt failed (retried).",
        [({}, sum(1 for s in maintenance.silences if s.error is not None))],
    )
    daemon = status.daemon
    out.family(
        "hostkeeper_config_last_reload_successful",
        "gauge",
        "1 when the last configuration load or reload succeeded.",
        [({}, None if daemon is None else daemon.last_reload_ok)],
    )
    out.family(
        "hostkeeper_config_last_reload_success_timestamp_seconds",
        "gauge",
        "When the running configuration was loaded.",
        [({}, None if daemon is None else _ts(daemon.config_loaded_at))],
    )
    return out.text()


FLEET_STATES = ("running", "silent", "stopped")


def render_fleet(fleet: FleetStatus) -> str:
    """The fleet as one exposition, a `host` label per host (`/fleet/metrics`): one scrape
    of the daemon that serves it covers every host of the store."""
    out = _Exposition()
    hosts = fleet.hosts
    out.family(
        "hostkeeper_fleet_host_state",
        "gauge",
        "1 for the state of each host's daemon: running, silent or stopped.",
        [
            ({"host": h.host, "state": state}, h.state == state)
            for h in hosts
            for state in FLEET_STATES
        ],
    )
    out.family(
        "hostkeeper_fleet_heartbeat_timestamp_seconds",
        "gauge",
        "When each host's daemon last recorded its heartbeat.",
        [({"host": h.host}, _ts(h.last_heartbeat)) for h in hosts],
    )
    out.family(
        "hostkeeper_fleet_build_info",
        "gauge",
        "hostkeeper version each host runs.",
        [({"host": h.host, "version": h.version}, 1) for h in hosts],
    )
    out.family(
        "hostkeeper_fleet_health_score",
        "gauge",
        "Health score 0-100 of each host.",
        [({"host": h.host}, h.health_score) for h in hosts],
    )
    out.family(
        "hostkeeper_fleet_procedures_failing",
        "gauge",
        "Procedures of each host whose newest completed run failed or aborted.",
        [({"host": h.host}, len(h.failing)) for h in hosts],
    )
    out.family(
        "hostkeeper_fleet_procedures_missed",
        "gauge",
        "Procedures of each host whose last result is a missed fire.",
        [({"host": h.host}, len(h.missed)) for h in hosts],
    )
    out.family(
        "hostkeeper_fleet_backup_newest_age_seconds",
        "gauge",
        "Age of the newest archive of any backup set of each host.",
        [({"host": h.host}, h.newest_backup_age_seconds) for h in hosts],
    )
    out.family(
        "hostkeeper_fleet_last_restore_test_success",
        "gauge",
        "1 when each host's newest restore test passed, 0 when it failed.",
        [
            ({"host": h.host}, h.last_restore_test.ok)
            for h in hosts
            if h.last_restore_test is not None
        ],
    )
    out.family(
        "hostkeeper_fleet_alerts_firing",
        "gauge",
        "Firing alerts of each host by severity (host_silent included).",
        [
            ({"host": h.host, "severity": severity}, count)
            for h in hosts
            for severity, count in h.alerts_firing.items()
        ],
    )
    return out.text()
