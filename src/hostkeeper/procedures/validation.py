"""`hostkeeper validate-system`: the operator's end-to-end check of an installation.

Each item ends PASSED, FAILED or SKIPPED (not applicable here, e.g. no backup sets
configured) with a reason:

- config: the file loads and validates; host warnings (`config validate --strict`) are
  listed but do not fail it.
- service: `systemctl is-active hostkeeper.service` where systemd runs; elsewhere the
  daemon recorded in state_dir/daemon.json must be alive.
- health check: every configured check runs now and is stored; fails on a critical or
  unknown check (a check that could not measure), or when there are no checks.
- alert path: a test notification (kind "test") through each configured channel,
  delivered synchronously with the usual retries; fails naming each channel that did
  not accept it, or when no channel is configured.
- daily report: report_dir/daily/health_report_YYYYMMDD.html for today (configured
  time zone) exists and is not empty.
- backups: the newest archive of each backup set verifies (sidecar, recorded hash and
  manifest); a set without any archive fails; so does a set whose newest restore test
  failed, or whose restore test is missing though a procedure that runs it has run.

When the configuration does not load, the items that need it fail with that reason.
Otherwise each item's line is also written, as it is decided, to
log_dir/validation/validation_YYYYMMDD_HHMMSS.log (the start time, in the configured
time zone), with the summary last.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hostkeeper.adapters.daylog import LineLog, validation_log_path
from hostkeeper.config import Config, ConfigError, load_config

SYSTEMD_DIR = Path("/run/systemd/system")
UNIT = "hostkeeper.service"
DEFAULT_ALERT_TIMEOUT = 30.0


class Verdict(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True)
class Item:
    name: str
    verdict: Verdict
    reason: str

    def line(self) -> str:
        return f"{self.name}: {self.verdict.value} ({self.reason})"

    def as_dict(self) -> dict[str, str]:
        return {"item": self.name, "result": self.verdict.value, "reason": self.reason}


@dataclass(frozen=True)
class Validation:
    items: list[Item]
    log_path: str | None = None  # its log file under log_dir/validation/, when written

    @property
    def passed(self) -> bool:
        return all(item.verdict is not Verdict.FAILED for item in self.items)

    def counts(self) -> dict[str, int]:
        return {v.value: sum(1 for i in self.items if i.verdict is v) for v in Verdict}

    def summary(self) -> str:
        counts = self.counts()
        text = f"{counts['PASSED']} passed, {counts['FAILED']} failed"
        if counts["SKIPPED"]:
            text += f", {counts['SKIPPED']} skipped"
        return (
            "system validation PASSED: " if self.passed else "system validation FAILED: "
        ) + text

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "items": [item.as_dict() for item in self.items],
            "summary": self.counts(),
            "log": self.log_path,
        }


def _passed(name: str, reason: str) -> Item:
    return Item(name, Verdict.PASSED, reason)


def _failed(name: str, reason: str) -> Item:
    return Item(name, Verdict.FAILED, reason)


def _guarded(name: str, probe: Callable[[], Item]) -> Item:
    """Run one item; an unexpected error fails that item, never the whole validation."""
    try:
        return probe()
    except Exception as error:
        return _failed(name, f"could not be checked: {type(error).__name__}: {error}")


def validate_system(
    config_path: str, *, now: datetime | None = None, alert_timeout: float = DEFAULT_ALERT_TIMEOUT
) -> Validation:
    now = now or datetime.now(UTC)
    try:
        loaded = load_config(config_path)
    except ConfigError as error:
        first = str(error.issues[0]) if error.issues else "invalid"
        more = f" and {len(error.issues) - 1} more problem(s)" if len(error.issues) > 1 else ""
        reason = f"{first}{more}"
        blocked = "not checked: the configuration does not load"
        return Validation(
            [
                _failed("config", reason),
                _failed("service", blocked),
                _failed("health check", blocked),
                _failed("alert path", blocked),
                _failed("daily report", blocked),
                _failed("backups", blocked),
            ]
        )
    config = loaded.config
    items = _LoggedItems(config, config_path, now)
    items.append(_config_item(config, config_path))
    items.append(_guarded("service", lambda: _service_item(config)))
    store: Any = None
    try:
        from hostkeeper.services.store_setup import prepare_store

        store = prepare_store(config)
    except Exception as error:
        store_error = f"the database cannot be opened: {type(error).__name__}: {error}"
    try:
        if store is None:
            items.append(_failed("health check", store_error))
            items.append(_failed("alert path", store_error))
        else:
            items.append(_guarded("health check", lambda: _health_item(config, store, now)))
            items.append(_guarded("alert path", lambda: _alert_item(config, store, alert_timeout)))
        items.append(_guarded("daily report", lambda: _report_item(config, now)))
        if store is None:
            items.append(_failed("backups", store_error))
        else:
            items.append(_guarded("backups", lambda: _backup_item(config, store, now)))
    finally:
        if store is not None:
            store.dispose()
    validation = Validation(list(items), items.path)
    items.finish(validation.summary())
    return validation


class _LoggedItems(list[Item]):
    """The items, each also written to the validation log as soon as it is decided; a
    log that cannot be written costs the log, never the validation."""

    def __init__(self, config: Config, config_path: str, now: datetime) -> None:
        super().__init__()
        self.zone = zone = ZoneInfo(config.timezone)
        self.path: str | None = None
        self._log: LineLog | None = None
        try:
            self._log = LineLog(validation_log_path(config.paths.log_dir, now.astimezone(zone)))
            self.path = str(self._log.path)
        except OSError:
            return
        self._write(f"validate-system started with {config_path}")

    def append(self, item: Item) -> None:
        super().append(item)
        self._write(item.line())

    def finish(self, summary: str) -> None:
        self._write(summary)
        if self._log is not None:
            self._log.close()

    def _write(self, text: str) -> None:
        if self._log is None:
            return
        stamp = datetime.now(self.zone).strftime("%Y-%m-%d %H:%M:%S")
        try:
            self._log.write(f"{stamp} {text}")
        except OSError:
            self._log.close()
            self._log = None


def _config_item(config: Config, config_path: str) -> Item:
    from hostkeeper.config.environment import environment_problems

    warnings = environment_problems(config)
    reason = (
        f"{config_path} valid: {len(config.procedures)} procedures, {len(config.checks)} checks, "
        f"{len(config.alerts.channels)} channels"
    )
    if warnings:
        listed = "; ".join(
            f"{'.'.join(str(part) for part in location)}: {message}"
            for location, message in warnings
        )
        reason += f"; {len(warnings)} warning(s): {listed}"
    return _passed("config", reason)


def _service_item(config: Config) -> Item:
    if SYSTEMD_DIR.is_dir() and shutil.which("systemctl") is not None:
        from hostkeeper.adapters.commands import run_command

        result = run_command(["systemctl", "is-active", UNIT], timeout=10)
        unit_state = result.output.strip() or "unknown"
        if unit_state == "active":
            return _passed("service", f"{UNIT} is active")
        return _failed("service", f"{UNIT} is {unit_state}")
    from hostkeeper.adapters.daemon_state import read_state

    state = read_state(config.paths.state_dir)
    if state is None:
        return _failed(
            "service",
            f"no systemd here and no daemon has run (no daemon.json in {config.paths.state_dir})",
        )
    if not state["running"]:
        return _failed("service", f"daemon not running (last pid {state.get('pid')})")
    return _passed("service", f"daemon running, pid {state['pid']} (no systemd here)")


def _health_item(config: Config, store: Any, now: datetime) -> Item:
    from hostkeeper.core.health import CheckState
    from hostkeeper.steps.health_check import check_round, select_checks

    checks = select_checks(config)
    if not checks:
        return _failed("health check", "no checks configured")
    round_ = check_round(config, store, checks, now=now)
    bad = [
        f"{r.name} {r.state.value}" + (f": {r.detail}" if r.detail else "")
        for r in round_.results
        if r.state in (CheckState.CRITICAL, CheckState.UNKNOWN)
    ]
    counts = ", ".join(f"{n} {state}" for state, n in round_.counts().items() if n)
    score = f", score {round_.score:.0f}" if round_.score is not None else ""
    if bad:
        return _failed("health check", "; ".join(bad))
    return _passed("health check", f"{len(round_.results)} checks ran: {counts}{score}")


def _alert_item(config: Config, store: Any, timeout: float) -> Item:
    from hostkeeper.adapters.store import alerts as alert_store
    from hostkeeper.alerting.service import channel_map
    from hostkeeper.channels.base import Message, utc_now
    from hostkeeper.channels.delivery import Backoff, DeliveryWorker

    channels = [channel.name for channel in config.alerts.channels]
    if not channels:
        return _failed("alert path", "no alert channels configured")
    message = Message(
        kind="test",
        rule="validate-system",
        severity="info",
        state="test",
        summary="TEST notification from hostkeeper validate-system; no action needed",
        host=store.host,
        at=utc_now(),
        details={"sent_by": "hostkeeper validate-system"},
    )
    backoff = Backoff(attempts=3, budget=max(timeout - 2.0, 1.0))
    with DeliveryWorker(store, lambda: channel_map(config), backoff) as worker:
        ids = [(name, worker.submit(name, message)) for name in channels]
        worker.drain(timeout)
    failures, sent = [], []
    for name, notification_id in ids:
        if notification_id is None:
            sent.append(f"{name} (does not carry tests)")
            continue
        row = alert_store.get_notification(store, notification_id)
        if row.state == "sent":
            sent.append(name)
        else:
            failures.append(f"channel {name}: {row.last_error or row.state}")
    if failures:
        return _failed("alert path", "; ".join(failures))
    return _passed("alert path", f"test notification delivered via {', '.join(sent)}")


def _report_item(config: Config, now: datetime) -> Item:
    from hostkeeper.reports.common import report_path

    path = report_path(config, now, "daily", "health_report", "html")
    if not path.is_file():
        return _failed("daily report", f"{path} does not exist")
    if path.stat().st_size == 0:
        return _failed("daily report", f"{path} is empty")
    return _passed("daily report", str(path))


def _backup_item(config: Config, store: Any, now: datetime) -> Item:
    from hostkeeper.services.status import backup_statuses
    from hostkeeper.steps.verify_backups import verify

    if not config.backups:
        return Item("backups", Verdict.SKIPPED, "no backup sets configured")
    results = verify(config, store, now)
    verified = {item.backup_set for item in results}
    problems = [
        f"{name}: no archive yet"
        for name in (b.name for b in config.backups)
        if name not in verified
    ]
    problems += [
        f"{item.backup_set}: {item.result.path.name}: {item.result.detail}"
        for item in results
        if not item.result.ok
    ]
    # The restore-test verdict is the status model's, as `status` and the dashboard show it.
    problems += [
        f"{backup.set}: {backup.restore_test_problem}"
        for backup in backup_statuses(store, config, now)
        if backup.restore_test_problem
    ]
    if problems:
        return _failed("backups", "; ".join(problems))
    names = ", ".join(item.result.path.name for item in results)
    return _passed("backups", f"newest archive verified: {names}")
