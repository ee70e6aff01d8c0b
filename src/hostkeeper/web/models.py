"""The JSON API's responses, as models: the contract `/api/*` keeps.

The server builds plain dicts (one store read per request); these models document each
response's fields and types (every time carries its UTC offset), and the tests validate
every response against them. Unknown fields are refused, so an addition is a deliberate
change here too.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class ScheduleEntry(_Model):
    procedure: str
    schedule: str
    enabled: bool
    next_run: AwareDatetime | None
    last_run: AwareDatetime | None
    last_status: str | None
    last_duration_seconds: float | None
    last_error: str | None
    last_success: AwareDatetime | None
    runs_by_status: dict[str, int]


class Step(_Model):
    position: int
    phase: str
    name: str
    label: str
    status: str
    started_at: AwareDatetime
    finished_at: AwareDatetime
    duration_seconds: float
    summary: str | None
    error: str | None
    output: str | None
    details: dict[str, Any] | None


class Run(_Model):
    id: int
    host: str
    procedure: str
    trigger: str
    status: str
    scheduled_for: AwareDatetime | None
    started_at: AwareDatetime
    finished_at: AwareDatetime | None
    duration_seconds: float | None
    error: str | None
    dry_run: bool
    steps: list[Step]


class FiringAlert(_Model):
    id: int
    rule: str
    severity: str
    since: AwareDatetime | None
    acknowledged: bool
    summary: str | None


class Alerts(_Model):
    firing: list[FiringAlert]
    last_7_days: dict[str, int]


class BackupSet(_Model):
    set: str
    newest: str | None
    created_at: AwareDatetime | None
    age_seconds: float | None
    size_bytes: int | None
    verified_at: AwareDatetime | None
    verify_ok: bool | None
    restore_tested_at: AwareDatetime | None
    restore_ok: bool | None
    restore_detail: str | None = None  # why the last restore test failed


class Check(_Model):
    name: str
    type: str
    state: str
    value: float | None
    unit: str | None
    detail: str | None
    checked_at: AwareDatetime
    duration_seconds: float | None


class Status(_Model):
    host: str
    generated_at: AwareDatetime
    daemon: dict[str, Any] | None
    health_score: float | None
    checks: list[Check]
    firing_alerts: list[FiringAlert]
    procedures: list[ScheduleEntry]
    backups: list[BackupSet]
