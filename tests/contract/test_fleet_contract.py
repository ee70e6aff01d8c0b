"""The fleet on either backend: heartbeat rows, the fleet view computed per host from
the scope each host recorded, and the rounds of the watch for silent hosts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import fleet as fleet_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.files import record_archive, record_restore_test
from hostkeeper.adapters.store.windows import NewWindow
from hostkeeper.alerting.fleet_watch import evaluate_silent_hosts
from hostkeeper.channels.base import Message
from hostkeeper.config import Config, parse_config
from hostkeeper.core.alerts import AlertState
from hostkeeper.core.fleet import HOST_SILENT_RULE
from hostkeeper.core.runs import RunStatus, Trigger
from hostkeeper.core.windows import WindowKind
from hostkeeper.services.fleet_status import (
    build_fleet,
    heartbeat,
    recorded_host_status,
    summarise,
)
from hostkeeper.services.status import build_status
from hostkeeper.services.status_model import as_json

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SILENT_AFTER = timedelta(minutes=5)


def _config(tmp_path: Path, procedures: dict[str, object], **extra: object) -> Config:
    data: dict[str, object] = {
        "paths": {"state_dir": str(tmp_path / "state")},
        "procedures": procedures,
        "backups": [{"name": "etc", "sources": [str(tmp_path)]}],
        "alerts": {"channels": [{"name": "pager", "type": "log"}]},
        **extra,
    }
    return parse_config(yaml.safe_dump(data), "test.yaml").config


def _beat(store: Store, config: Config, at: datetime, next_runs: dict[str, str | None]) -> None:
    """A heartbeat as the daemon of `store.host` writes it (services.fleet_status)."""
    daemon = {
        "version": "9.9.9",
        "pid": 4242,
        "started_at": (at - timedelta(hours=1)).isoformat(),
        "config_loaded_at": (at - timedelta(hours=1)).isoformat(),
        "last_reload": "ok",
    }
    upcoming = {
        name: datetime.fromisoformat(moment) if moment else None
        for name, moment in next_runs.items()
    }
    fleet_store.record_heartbeat(store, heartbeat(store, config, at, daemon, upcoming))


def _run(store: Store, procedure: str, status: RunStatus, at: datetime) -> None:
    run_store.record_finished_run(store, procedure, Trigger.SCHEDULED, status, at, "", at)


def test_a_heartbeat_row_is_written_once_per_host_and_a_stop_is_recorded(
    store: Store, tmp_path: Path
) -> None:
    config = _config(tmp_path, {"daily": {"schedule": {"hour": 2}, "steps": ["cleanup"]}})
    other = store.for_host("host-b")
    _beat(store, config, NOW - timedelta(minutes=2), {})
    _beat(store, config, NOW, {"daily": "2026-12-05T02:00:00+00:00"})
    _beat(other, config, NOW - timedelta(minutes=1), {})
    rows = fleet_store.fleet_hosts_rows(store)
    assert [row.host for row in rows] == ["host-a", "host-b"]
    assert rows[0].heartbeat_at == NOW and rows[0].stopped_at is None
    assert json.loads(rows[0].next_runs) == {"daily": "2026-12-05T02:00:00+00:00"}
    assert fleet_store.heartbeats(store) == {
        "host-a": NOW,
        "host-b": NOW - timedelta(minutes=1),
    }
    fleet_store.record_stop(other, NOW)
    stopped = fleet_store.host_row(store, "host-b")
    assert stopped is not None and stopped.stopped_at == NOW
    _beat(other, config, NOW + timedelta(seconds=30), {})
    again = fleet_store.host_row(store, "host-b")
    assert again is not None and again.stopped_at is None


def test_the_fleet_view_computes_each_host_from_its_own_recorded_scope(
    store: Store, tmp_path: Path
) -> None:
    config_a = _config(
        tmp_path,
        {
            "daily": {"schedule": {"hour": 2}, "steps": [{"backup": "etc"}]},
            "weekly": {"schedule": {"cron": "0 3 * * sun"}, "steps": [{"restore_test": "etc"}]},
        },
    )
    config_b = _config(tmp_path, {"hourly": {"schedule": {"every": "1h"}, "steps": ["cleanup"]}})
    b = store.for_host("host-b")
    _run(store, "daily", RunStatus.FAILED, NOW - timedelta(hours=10))
    _run(store, "weekly", RunStatus.MISSED, NOW - timedelta(days=1))
    _run(b, "hourly", RunStatus.SUCCEEDED, NOW - timedelta(minutes=30))
    _run(b, "daily", RunStatus.FAILED, NOW - timedelta(hours=1))  # not in b's scope
    record_archive(
        store,
        backup_set="etc",
        path="/b/etc-1.tar.gz",
        created_at=NOW - timedelta(hours=26),
        size=10,
        files=1,
        sha256="0" * 64,
    )
    record_restore_test(
        store,
        backup_set="etc",
        archive="/b/etc-1.tar.gz",
        at=NOW - timedelta(hours=20),
        ok=False,
        files_checked=1,
        seconds=1.0,
        detail="mismatch",
    )
    _beat(store, config_a, NOW - timedelta(seconds=20), {"daily": "2026-12-05T02:00:00+00:00"})
    _beat(b, config_b, NOW - timedelta(minutes=30), {"hourly": None})
    fleet = build_fleet(store, NOW, SILENT_AFTER)
    a_row, b_row = fleet.hosts
    assert (a_row.host, a_row.state, b_row.host, b_row.state) == (
        "host-a",
        "running",
        "host-b",
        "silent",
    )
    assert a_row.failing == ["daily"] and a_row.missed == ["weekly"]
    assert [p.procedure for p in a_row.procedures] == ["daily", "weekly"]
    assert a_row.procedures[0].next_run == datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    assert a_row.newest_backup_age_seconds == 26 * 3600
    assert a_row.last_restore_test is not None and not a_row.last_restore_test.ok
    assert b_row.failing == [] and [p.procedure for p in b_row.procedures] == ["hourly"]
    assert b_row.newest_backup_age_seconds is None and b_row.stale_backups == ["etc"]
    assert b_row.heartbeat_age_seconds == 30 * 60
    assert b_row.dashboard == "/hosts/host-b/"
    # The drill-down is the same status model the local host computes from its config.
    recorded = recorded_host_status(store, "host-a", NOW, SILENT_AFTER)
    assert recorded is not None
    local = build_status(
        store,
        config_a,
        now=NOW,
        next_runs={"daily": datetime(2026, 12, 5, 2, 0, tzinfo=UTC)},
        daemon_state=as_json(recorded.daemon) if recorded.daemon else None,
    )
    assert as_json(recorded) == as_json(local)
    # The fleet row is that same status, summarised by the host when it beat.
    published = summarise(recorded)
    assert (a_row.failing, a_row.missed, a_row.procedures, a_row.stale_backups) == (
        published.failing,
        published.missed,
        published.procedures,
        published.stale_backups,
    )
    assert a_row.summary_at == NOW - timedelta(seconds=20)


def test_a_host_with_an_unreadable_scope_is_still_listed(store: Store) -> None:
    fleet_store.record_heartbeat(
        store,
        fleet_store.HostBeat(
            version="1",
            pid=1,
            started_at=NOW,
            at=NOW,
            config_loaded_at=NOW,
            last_reload="ok",
            dashboard_url=None,
            scope='{"not": "a scope"}',
            next_runs="[]",
        ),
    )
    [row] = build_fleet(store, NOW, SILENT_AFTER).hosts
    assert (row.host, row.state, row.procedures) == ("host-a", "running", [])


class Recorder:
    """Stands in for the delivery worker: keeps what the round hands over."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Message]] = []

    def submit(self, channel: str, message: Message) -> int | None:
        self.sent.append((channel, message))
        return len(self.sent)


def test_a_silent_host_notifies_once_and_resolves_when_heard_again(
    store: Store, tmp_path: Path
) -> None:
    config = _config(
        tmp_path,
        {},
        fleet={"channels": ["pager"], "silent_after": "5m"},
        alerts={"repeat": "0s", "channels": [{"name": "pager", "type": "log"}]},
    )
    sender = Recorder()
    watched = NOW - timedelta(hours=1)
    heard = {"host-a": NOW - timedelta(seconds=10), "host-b": NOW - timedelta(minutes=6)}
    first = evaluate_silent_hosts(config, store, sender, NOW, heard, watched)
    assert first.silent == ["host-b"] and first.notified == [("host-b", "firing")]
    [(channel, message)] = sender.sent
    assert (channel, message.host, message.rule, message.severity) == (
        "pager",
        "host-b",
        HOST_SILENT_RULE,
        "critical",
    )
    assert "host-b" in message.summary
    # The alert is host-b's own, and a second round (by any watcher) does not repeat it.
    [alert] = alert_store.list_alerts(store.for_host("host-b"), ["firing"])
    assert alert.rule == HOST_SILENT_RULE
    later = NOW + timedelta(minutes=1)
    second = evaluate_silent_hosts(config, store, sender, later, heard, watched)
    assert second.silent == ["host-b"] and second.notified == [] and len(sender.sent) == 1
    heard["host-b"] = later
    third = evaluate_silent_hosts(config, store, sender, later, heard, watched)
    assert third.notified == [("host-b", "resolved")]
    assert alert_store.list_alerts(store.for_host("host-b"), ["firing"]) == []
    resolved = alert_store.list_alerts(store.for_host("host-b"))[0]
    assert resolved.state is AlertState.RESOLVED


def test_heartbeats_older_than_the_watch_itself_do_not_make_a_host_silent(
    store: Store, tmp_path: Path
) -> None:
    """After a database outage every heartbeat is old: hosts are given silent_after from
    the moment the watcher sees the store again."""
    config = _config(tmp_path, {}, fleet={"channels": ["pager"], "silent_after": "5m"})
    sender = Recorder()
    heard = {"host-b": NOW - timedelta(minutes=20)}
    watched = NOW - timedelta(minutes=2)
    assert evaluate_silent_hosts(config, store, sender, NOW, heard, watched).silent == []
    later = watched + timedelta(minutes=5, seconds=1)
    assert evaluate_silent_hosts(config, store, sender, later, heard, watched).silent == ["host-b"]
    assert len(sender.sent) == 1


def test_a_silence_on_the_host_keeps_the_watch_quiet(store: Store, tmp_path: Path) -> None:
    config = _config(tmp_path, {}, fleet={"channels": ["pager"]})
    host_b = store.for_host("host-b")
    alert_store.add_silence(host_b, HOST_SILENT_RULE, NOW, NOW + timedelta(hours=2), "planned")
    sender = Recorder()
    heard = {"host-b": NOW - timedelta(minutes=30)}
    result = evaluate_silent_hosts(config, store, sender, NOW, heard, NOW - timedelta(hours=1))
    assert result.silent == ["host-b"] and sender.sent == []
    assert alert_store.list_alerts(host_b, ["firing"])[0].rule == HOST_SILENT_RULE


def test_the_fleet_row_names_the_maintenance_windows_holding_alerts(
    store: Store, tmp_path: Path
) -> None:
    config = _config(tmp_path, {"daily": {"schedule": {"hour": 2}, "steps": [{"backup": "etc"}]}})
    window_id = window_store.open_window(
        store,
        NewWindow(
            kind=WindowKind.INCIDENT,
            starts_at=NOW - timedelta(minutes=10),
            ends_at=None,
            grace=timedelta(minutes=5),
            rules=None,
            reason="disk swap",
            opened_by="alice",
        ),
    )
    _beat(store, config, NOW - timedelta(seconds=5), {"daily": None})
    [row] = build_fleet(store, NOW, SILENT_AFTER).hosts
    assert row.maintenance == [f"incident #{window_id} disk swap"]

    window_store.close_window(store, window_id, NOW - timedelta(minutes=8))  # + 5m grace
    _beat(store, config, NOW, {"daily": None})
    [row] = build_fleet(store, NOW, SILENT_AFTER).hosts
    assert row.maintenance == []
