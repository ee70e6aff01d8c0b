"""Every reader of the status model tells the same maintenance story from a real store:
`status --json`'s model, STATUS=, /api/maintenance, /metrics and the dashboard page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hostkeeper.adapters.store import Store, window_silences
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.windows import NewWindow
from hostkeeper.config import Config
from hostkeeper.core.alerts import AlertEvent, AlertRecord, AlertState, Evaluation, EventKind
from hostkeeper.core.silence_plan import SilenceRecord, SilenceState
from hostkeeper.core.windows import WindowKind
from hostkeeper.daemon.status_line import summary_line
from hostkeeper.services.status import build_status
from hostkeeper.services.status_model import HostStatus
from hostkeeper.web import api
from hostkeeper.web.dashboard import render_dashboard
from hostkeeper.web.prometheus import render

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config(
        {"weekly": {"schedule": {"cron": "0 3 * * sun"}, "steps": [{"run": ["true"]}]}},
        alerts={"rules": [{"name": "cpu", "when": "cpu.percent > 90"}]},
        maintenance={
            "windows": [
                {"name": "patch-night", "schedule": {"cron": "0 22 * * tue"}, "duration": "2h"}
            ]
        },
    )


def held_alert(store: Store, window_id: int) -> None:
    record = AlertRecord(
        rule="cpu",
        severity="warning",
        state=AlertState.FIRING,
        pending_since=NOW - minutes(2),
        fired_at=NOW - minutes(2),
        maintenance_window=window_id,
    )
    alert_store.save_evaluation(store, Evaluation(record, (AlertEvent(EventKind.FIRING, NOW),)))


@pytest.fixture
def status(store: Store, config: Config) -> HostStatus:
    run = window_store.open_window(
        store, NewWindow(WindowKind.RUN, NOW - minutes(5), name="weekly", grace=minutes(5))
    )
    adhoc = window_store.open_window(
        store,
        NewWindow(
            WindowKind.ADHOC,
            NOW - minutes(30),
            NOW - minutes(1),
            minutes(5),
            reason="disk swap",
            opened_by="alice",
        ),
    )
    window_store.open_window(  # over: no longer listed
        store, NewWindow(WindowKind.ADHOC, NOW - minutes(90), NOW - minutes(60), minutes(5))
    )
    window_store.open_window(  # of a procedure the configuration does not have
        store, NewWindow(WindowKind.RUN, NOW - minutes(3), name="gone", grace=minutes(5))
    )
    held_alert(store, run)
    failing = SilenceRecord(SilenceState.PENDING, attempts=3, next_attempt_at=NOW + minutes(1))
    window_silences.save_silence(store, adhoc, "am", failing, NOW, "create: HTTP 503 from am")
    return build_status(store, config, now=NOW, next_runs={})


def test_the_model_lists_the_windows_holding_alerts_in_force(status: HostStatus) -> None:
    maintenance = status.maintenance
    assert maintenance.active is True
    assert [(w.kind, w.name, w.in_grace) for w in maintenance.windows] == [
        ("adhoc", None, True),
        ("run", "weekly", False),
    ]
    adhoc, run = maintenance.windows
    assert adhoc.hold_until == NOW + minutes(4) and adhoc.opened_by == "alice"
    assert run.ends_at is None and run.hold_until is None and run.rules is None
    assert maintenance.held_alerts == 1
    [upcoming] = maintenance.upcoming
    assert upcoming.name == "patch-night" and upcoming.starts_at == NOW + timedelta(hours=10)
    [silence] = maintenance.silences
    assert (silence.window_id, silence.state, silence.failed_attempts) == (adhoc.id, "pending", 3)
    assert silence.error == "create: HTTP 503 from am"
    [alert] = status.alerts.firing
    assert alert.maintenance_window == run.id and alert.held is True


def test_status_line_metrics_api_and_page_say_the_same(status: HostStatus, store: Store) -> None:
    adhoc, run = status.maintenance.windows
    line = summary_line(status.procedures, set(), status.maintenance)
    expected = f"maintenance: adhoc #{adhoc.id} disk swap (grace), run weekly #{run.id}"
    assert line.startswith(expected + " (1 alerts held) | "), line

    samples = _samples(render(status))
    assert samples["hostkeeper_maintenance_active"] == 1
    assert samples['hostkeeper_maintenance_windows{kind="run"}'] == 1
    assert samples['hostkeeper_maintenance_windows{kind="adhoc"}'] == 1
    assert samples['hostkeeper_maintenance_windows{kind="incident"}'] == 0
    assert samples["hostkeeper_alerts_held"] == 1
    assert samples["hostkeeper_maintenance_silence_failures"] == 1

    served = api.dispatch("maintenance", {}, store, lambda: status)
    assert served == api.dispatch("status", {}, store, lambda: status)["maintenance"]
    assert served["windows"][1]["name"] == "weekly"

    page = render_dashboard(store, status)
    assert "1 alerts held" in page and "disk swap" in page
    assert "HTTP 503 from am" in page and "began in #" in page


def test_nothing_held_reads_as_inactive_everywhere(store: Store, config: Config) -> None:
    status = build_status(store, config, now=NOW, next_runs={})
    assert status.maintenance.active is False and status.maintenance.windows == []
    assert "maintenance" not in summary_line(status.procedures, set(), status.maintenance)
    assert _samples(render(status))["hostkeeper_maintenance_active"] == 0


def _samples(exposition: str) -> dict[str, Any]:
    found = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    assert all(re.match(r"^[a-z_]+(\{.*\})?$", name) for name in found)
    return found
