"""The status model: the one typed answer to "how is this host doing".

Built in one place (`hostkeeper.services.status`) and read by every view: `status
[--json]`, `schedule [--json]`, STATUS=, the dashboard, `/api/*`, `/metrics`, the daily
report and `validate-system`. `/api/*` and `--json` print these models with one
serialisation (`as_json`), so the same data has the same shape everywhere. What each
field means ("last result", "failing", "next run", backup freshness) is written in
docs/status.md. Every time carries its UTC offset; unknown fields are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer

# ISO 8601 with the offset spelled `+00:00`, as every reader printed it before the model.
Time = Annotated[AwareDatetime, PlainSerializer(datetime.isoformat, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DaemonStatus(_Model):
    """The daemon as its state file (state_dir/daemon.json) tells it."""

    running: bool
    pid: int
    started_at: Time
    config_file: str
    config_loaded_at: Time
    last_reload: str  # "ok" or the first line of the error that kept the old config
    last_reload_ok: bool
    last_reload_at: Time | None
    version: str
    dashboard_url: str | None
    # A remote database the daemon cannot reach: since when (None: it answers), and what
    # waits in its local spool (run_events, samples, dropped_samples, rejected).
    store_unreachable_since: Time | None = None
    spool: dict[str, int] | None = None


class ProcedureStatus(_Model):
    """One configured procedure: its schedule and what its real runs did."""

    procedure: str
    schedule: str
    enabled: bool
    timezone: str
    splay_seconds: float  # the host's fleet.splay offset its scheduled runs are shifted by
    steps: list[str]
    next_run: Time | None
    # The last result: the newest real run, whatever became of it (missed and skipped
    # included); dry runs never count.
    last_run: Time | None
    last_status: str | None
    last_trigger: str | None
    last_duration_seconds: float | None
    last_error: str | None
    # The newest real run that executed to an end (succeeded, warning, failed, aborted):
    # what `failing` and /metrics' last_run_success are about.
    last_outcome: str | None
    last_success: Time | None
    failing: bool
    runs_by_status: dict[str, int]


class CheckStatus(_Model):
    """One configured check and its newest stored result (state None: never run)."""

    name: str
    type: str
    state: str | None
    value: float | None
    unit: str | None
    detail: str | None
    checked_at: Time | None
    duration_seconds: float | None


class HealthStatus(_Model):
    score: float | None
    score_computed_at: Time | None
    state: str | None  # the worst state among the checks' newest results
    checks: list[CheckStatus]


class AlertStatus(_Model):
    id: int
    rule: str
    severity: str
    state: str  # pending or firing
    since: Time | None  # when it fired (pending: when it became pending)
    acknowledged: bool
    summary: str | None
    # The maintenance window it began in: held until the window ends (or max_hold).
    maintenance_window: int | None
    held: bool  # not notified yet because of that window


class SilenceStatus(_Model):
    rule: str
    until: Time
    reason: str | None


class FailedDelivery(_Model):
    id: int
    channel: str
    kind: str
    error: str | None


class AlertsStatus(_Model):
    firing: list[AlertStatus]  # oldest first
    pending: list[AlertStatus]
    last_7_days: dict[str, int]  # alerts that became pending in the last 7 days, by state
    silences: list[SilenceStatus]
    failed_deliveries: list[FailedDelivery]  # newest first, at most 10
    dropped_deliveries: dict[str, int]  # channel -> notifications dropped, its queue full


class WindowStatus(_Model):
    """A maintenance window holding alerts now: open, or in its grace after it ended."""

    id: int
    kind: str  # run | planned | adhoc | incident
    name: str | None  # the procedure of a run, the name of a planned window
    reason: str | None  # why; an incident's title
    severity: str | None  # incidents
    started_at: Time
    ends_at: Time | None  # the planned end; None: until its run ends or it is stopped
    closed_at: Time | None  # when it was stopped, or its run ended
    hold_until: Time | None  # alerts starting before this are held; None: no end yet
    in_grace: bool  # it has ended; alerts starting now are still held
    rules: list[str] | None  # the rules it holds; None: every rule
    opened_by: str | None
    run_id: int | None
    incident_id: int | None  # the incident a run's window belongs to


class UpcomingWindowStatus(_Model):
    """The next occurrence of a planned window of the configuration."""

    name: str
    starts_at: Time
    ends_at: Time
    reason: str | None
    rules: list[str] | None


class WindowSilenceStatus(_Model):
    """A window's silence in one Alertmanager channel."""

    window_id: int
    channel: str
    state: str  # pending | active | ending | deleted
    silence_id: str | None
    ends_at: Time | None
    failed_attempts: int  # in a row; retried
    error: str | None  # the last attempt's error, while one is failing


class MaintenanceStatus(_Model):
    active: bool  # a window holds alerts now
    windows: list[WindowStatus]  # holding now, oldest first
    upcoming: list[UpcomingWindowStatus]  # soonest first
    held_alerts: int  # active alerts not notified because they began in a window
    silences: list[WindowSilenceStatus]  # of the windows holding now, and failing ones


class ArchiveStatus(_Model):
    archive: str
    created_at: Time
    age_seconds: float
    size_bytes: int | None
    files: int | None
    verified_at: Time | None
    verify_ok: bool | None


class RestoreTestStatus(_Model):
    archive: str
    tested_at: Time
    ok: bool
    files_checked: int | None
    detail: str | None


class BackupStatus(_Model):
    set: str
    newest: ArchiveStatus | None
    restore_test: RestoreTestStatus | None
    restore_test_problem: str | None  # why the restore test is not in order, if it is not
    fresh: bool  # the newest archive is at most stale_after_seconds old
    stale_after_seconds: float


class MetricsStatus(_Model):
    newest_sample_at: Time | None
    values: dict[str, float]  # the key metrics' newest values


class NotificationCount(_Model):
    channel: str
    state: str
    count: int


class FileTotals(_Model):
    bytes_freed: int
    files_deleted: int
    files_compressed: int
    files_rotated: int


class DependencyStatus(_Model):
    """The dependency audit: when it last ran and its open findings by severity."""

    audited_at: Time
    open: dict[str, int]  # critical, high, medium, low, info
    warnings: list[str]  # what the last audit could not check


class ChecklistItemStatus(_Model):
    """One checklist item of a run: its state and the evidence (docs/checklists.md)."""

    section: str
    name: str
    text: str
    source: str  # step | precondition | check | manual
    reference: str | None  # the step's label, the precondition's kind, the check's name
    state: str  # done | warning | crossed | open
    evidence: str | None  # what the run record (or the person confirming) says
    at: Time | None  # when that was recorded
    confirmed_by: str | None
    note: str | None


class ChecklistStatus(_Model):
    """The checklist of one run of a procedure that has one."""

    run_id: int
    procedure: str
    run_status: str
    trigger: str
    started_at: Time
    finished_at: Time | None
    started_by: str | None
    reason: str | None
    dry_run: bool
    items: list[ChecklistItemStatus]
    counts: dict[str, int]  # items by state, every state listed

    @property
    def open_items(self) -> list[ChecklistItemStatus]:
        return [item for item in self.items if item.state == "open"]


class HostStatus(_Model):
    host: str
    generated_at: Time
    daemon: DaemonStatus | None  # None: no daemon has run with this state directory
    health: HealthStatus
    procedures: list[ProcedureStatus]
    alerts: AlertsStatus
    backups: list[BackupStatus]
    metrics: MetricsStatus
    notifications: list[NotificationCount]
    file_totals: dict[str, FileTotals]  # by kind (rotate, cleanup)
    step_failures: dict[str, int]  # failed or aborted steps of real runs, by procedure
    dependencies: DependencyStatus | None = None  # None: no dependency audit stored
    # The newest real run's checklist of each configured procedure that has one.
    checklists: list[ChecklistStatus]
    maintenance: MaintenanceStatus

    @property
    def failing(self) -> list[ProcedureStatus]:
        return [p for p in self.procedures if p.failing]

    @property
    def stale_backups(self) -> list[BackupStatus]:
        return [b for b in self.backups if not b.fresh]


# -- the fleet: every host of a shared store (docs/fleet.md) --------------------------------


class FleetProcedure(_Model):
    """One procedure of a host in the fleet view: its last result and next run."""

    procedure: str
    last_run: Time | None
    last_status: str | None
    failing: bool
    next_run: Time | None


class FleetRestoreTest(_Model):
    """The newest restore test of any of a host's backup sets."""

    set: str
    tested_at: Time
    ok: bool


class HostSummary(BaseModel):
    """What a host's daemon publishes of its own `HostStatus` with every heartbeat
    (`fleet_hosts.summary`), so a fleet view of hundreds of hosts is one read."""

    # A fleet upgrades one host at a time: a newer host's summary may carry more fields.
    model_config = ConfigDict(extra="ignore", frozen=True)

    computed_at: Time
    health_score: float | None
    health_state: str | None
    failing: list[str]
    missed: list[str]
    procedures: list[FleetProcedure]
    newest_backup_at: Time | None  # the newest archive of any set
    stale_backups: list[str]
    last_restore_test: FleetRestoreTest | None
    # Maintenance windows holding alerts, e.g. "run weekly #12", "incident #3 disk swap"
    # (absent from a summary of a release before windows: none).
    maintenance: list[str] = []


class FleetHost(_Model):
    """One host's row in the fleet view: its heartbeat, the summary of its own status
    model it published with it, and its firing alerts as the store has them now."""

    host: str
    # running | silent (no heartbeat for longer than fleet.silent_after) | stopped (it
    # recorded a clean stop)
    state: str
    last_heartbeat: Time
    heartbeat_age_seconds: float
    version: str
    started_at: Time
    summary_at: Time | None  # when the host computed the figures below (None: never)
    health_score: float | None
    health_state: str | None
    failing: list[str]  # procedures whose newest completed run failed or aborted
    missed: list[str]  # procedures whose last result is a missed fire
    procedures: list[FleetProcedure]
    newest_backup_age_seconds: float | None  # the newest archive of any set
    stale_backups: list[str]
    last_restore_test: FleetRestoreTest | None
    maintenance: list[str]  # its maintenance windows holding alerts at its last heartbeat
    alerts_firing: dict[str, int]  # severity -> firing alerts (host_silent included)
    dashboard: str  # this host's dashboard, served from the same store: /hosts/HOST/


class FleetStatus(_Model):
    generated_at: Time
    silent_after_seconds: float
    hosts: list[FleetHost]  # by name


def as_json(value: _Model | Sequence[_Model]) -> Any:
    """The one serialisation of `/api/*` and `--json`: JSON types, ISO 8601 times."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return [item.model_dump(mode="json") for item in value]
