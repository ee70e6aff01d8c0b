"""Prometheus text exposition (format 0.0.4) of a snapshot, written by hand: the format is
small, and a dependency would cost start-up time for one page."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from hostkeeper import __version__
from hostkeeper.web.snapshot import Snapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CHECK_STATES = ("ok", "warning", "critical", "unknown")
SEVERITIES = ("info", "warning", "critical")


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


def render(snapshot: Snapshot, daemon_state: Mapping[str, Any] | None) -> str:
    out = _Exposition()
    out.family(
        "hostkeeper_build_info",
        "gauge",
        "hostkeeper version running.",
        [({"version": __version__}, 1)],
    )
    procedures = snapshot.procedures
    out.family(
        "hostkeeper_procedure_last_run_timestamp_seconds",
        "gauge",
        "Start of the newest run of each procedure.",
        [({"procedure": p["procedure"]}, _ts(p["last_run"])) for p in procedures],
    )
    out.family(
        "hostkeeper_procedure_last_success_timestamp_seconds",
        "gauge",
        "End of the newest successful run of each procedure.",
        [({"procedure": p["procedure"]}, _ts(p["last_success"])) for p in procedures],
    )
    out.family(
        "hostkeeper_procedure_last_duration_seconds",
        "gauge",
        "Duration of the newest run of each procedure.",
        [({"procedure": p["procedure"]}, p["last_duration_seconds"]) for p in procedures],
    )
    out.family(
        "hostkeeper_procedure_last_run_success",
        "gauge",
        "1 when the newest run of the procedure succeeded, 0 otherwise.",
        [
            ({"procedure": p["procedure"]}, p["last_status"] in ("succeeded", "warning"))
            for p in procedures
            if p["last_status"] is not None
        ],
    )
    out.family(
        "hostkeeper_procedure_next_run_timestamp_seconds",
        "gauge",
        "Next scheduled start of each procedure.",
        [({"procedure": p["procedure"]}, _ts(p["next_run"])) for p in procedures],
    )
    out.family(
        "hostkeeper_procedure_runs_total",
        "counter",
        "Runs of each procedure by result.",
        [
            ({"procedure": p["procedure"], "status": status}, count)
            for p in procedures
            for status, count in sorted(p["runs_by_status"].items())
        ],
    )
    out.family(
        "hostkeeper_step_failures_total",
        "counter",
        "Failed or aborted steps per procedure.",
        [({"procedure": name}, count) for name, count in snapshot.step_failures.items()],
    )
    out.family(
        "hostkeeper_health_score",
        "gauge",
        "Health score 0-100 (weighted mean of check states).",
        [({}, snapshot.health_score)],
    )
    out.family(
        "hostkeeper_check_state",
        "gauge",
        "1 for the current state of each check.",
        [
            ({"check": c["name"], "state": state}, c["state"] == state)
            for c in snapshot.checks
            for state in CHECK_STATES
        ],
    )
    out.family(
        "hostkeeper_check_value",
        "gauge",
        "Value measured by each check.",
        [({"check": c["name"], "unit": c["unit"] or ""}, c["value"]) for c in snapshot.checks],
    )
    out.family(
        "hostkeeper_check_duration_seconds",
        "gauge",
        "Time each check took.",
        [({"check": c["name"]}, c["duration_seconds"]) for c in snapshot.checks],
    )
    firing = {severity: 0 for severity in SEVERITIES}
    for alert in snapshot.firing:
        firing[alert["severity"]] = firing.get(alert["severity"], 0) + 1
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
        [
            ({"channel": n["channel"], "state": n["state"]}, n["count"])
            for n in snapshot.notifications
        ],
    )
    backups = snapshot.backups
    out.family(
        "hostkeeper_backup_newest_age_seconds",
        "gauge",
        "Age of the newest archive of each backup set.",
        [({"set": b["set"]}, b["age_seconds"]) for b in backups],
    )
    out.family(
        "hostkeeper_backup_newest_size_bytes",
        "gauge",
        "Size of the newest archive of each backup set.",
        [({"set": b["set"]}, b["size_bytes"]) for b in backups],
    )
    out.family(
        "hostkeeper_backup_last_verify_success",
        "gauge",
        "1 when the newest archive last verified, 0 when verification failed.",
        [({"set": b["set"]}, b["verify_ok"]) for b in backups],
    )
    out.family(
        "hostkeeper_backup_last_restore_test_success",
        "gauge",
        "1 when the last restore test of the set passed.",
        [({"set": b["set"]}, b["restore_ok"]) for b in backups],
    )
    out.family(
        "hostkeeper_backup_last_restore_test_timestamp_seconds",
        "gauge",
        "When the last restore test of the set ran.",
        [({"set": b["set"]}, _ts(b["restore_tested_at"])) for b in backups],
    )
    totals = snapshot.file_totals
    out.family(
        "hostkeeper_files_freed_bytes_total",
        "counter",
        "Bytes freed by rotation and cleanup.",
        [({"kind": kind}, t["bytes_freed"]) for kind, t in totals.items()],
    )
    out.family(
        "hostkeeper_files_deleted_total",
        "counter",
        "Files deleted by rotation and cleanup.",
        [({"kind": kind}, t["files_deleted"]) for kind, t in totals.items()],
    )
    out.family(
        "hostkeeper_files_compressed_total",
        "counter",
        "Files compressed by rotation and cleanup.",
        [({"kind": kind}, t["files_compressed"]) for kind, t in totals.items()],
    )
    out.family(
        "hostkeeper_files_rotated_total",
        "counter",
        "Log files rotated.",
        [({"kind": kind}, t["files_rotated"]) for kind, t in totals.items()],
    )
    reload_ok = None if daemon_state is None else daemon_state.get("last_reload") == "ok"
    out.family(
        "hostkeeper_config_last_reload_successful",
        "gauge",
        "1 when the last configuration load or reload succeeded.",
        [({}, reload_ok)],
    )
    loaded_at = daemon_state.get("config_loaded_at") if daemon_state else None
    out.family(
        "hostkeeper_config_last_reload_success_timestamp_seconds",
        "gauge",
        "When the running configuration was loaded.",
        [({}, datetime.fromisoformat(loaded_at).timestamp() if loaded_at else None)],
    )
    return out.text()
