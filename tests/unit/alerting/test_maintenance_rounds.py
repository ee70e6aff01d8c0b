"""Evaluation rounds with maintenance windows, against a real SQLite store: run windows,
planned windows from the configuration, ad hoc ones, their notices, and the statistics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.alerting.evaluator import evaluate_rules
from hostkeeper.alerting.stats import effectiveness
from hostkeeper.config import Config
from hostkeeper.core.alerts import AlertState, EventKind
from hostkeeper.core.runs import RunStatus, Trigger
from hostkeeper.core.windows import WindowKind
from hostkeeper.services import maintenance
from tests.unit.alerting.test_evaluator import Outbox, add_score

# A Tuesday, 21:00 UTC: an hour before the planned window of the tests below.
T0 = datetime(2026, 3, 3, 21, 0, tzinfo=UTC)
RULES = [
    {"name": "low_score", "when": "health_score < 50", "channels": ["hook"]},
    {
        "name": "always_told",
        "when": "health_score < 50",
        "channels": ["hook"],
        "maintenance": "ignore",
    },
]
CHANNELS = [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/"}]


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.fixture
def configure(make_config: Callable[..., Config]) -> Callable[..., Config]:
    def build(rules: list[dict[str, Any]] | None = None, **sections: Any) -> Config:
        procedures = {
            "weekly": {
                "schedule": {"cron": "0 3 * * sun"},
                "steps": [{"run": ["true"]}],
                "maintenance": {"grace": "5m"},
            }
        }
        return make_config(
            procedures,
            alerts={"rules": rules or RULES, "channels": CHANNELS},
            notify={"on": ["failure", "window"], "channels": ["hook"]},
            **sections,
        )

    return build


def firing_payloads(outbox: Outbox, rule: str) -> list[dict[str, Any]]:
    rows = alert_store.recent_notifications(outbox.store, limit=1000)
    return [r.payload for r in reversed(rows) if r.kind == "firing" and r.payload["rule"] == rule]


def notices(outbox: Outbox) -> list[tuple[str, str]]:
    rows = alert_store.recent_notifications(outbox.store, limit=1000)
    return [(r.payload["rule"], r.payload["state"]) for r in reversed(rows) if r.kind == "window"]


def run_window(config: Config, store: Store, start: float) -> tuple[int, int]:
    run_id = run_store.start_run(store, "weekly", Trigger.MANUAL, minutes(start))
    window_id = maintenance.open_run_window(config, store, "weekly", run_id, minutes(start))
    assert window_id is not None
    return run_id, window_id


def test_an_alert_caused_by_a_run_is_held_then_notified_saying_so(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure()
    outbox = Outbox(store, config)
    _, window_id = run_window(config, store, 0)
    add_score(store, 30.0, minutes(1))
    round_ = evaluate_rules(config, store, outbox, minutes(1))
    assert round_.held == ["low_score"]
    assert firing_payloads(outbox, "low_score") == []
    assert len(firing_payloads(outbox, "always_told")) == 1  # maintenance: ignore
    maintenance.close_run_window(store, window_id, minutes(10))
    evaluate_rules(config, store, outbox, minutes(14))
    assert firing_payloads(outbox, "low_score") == []  # the grace: 5m after the end
    evaluate_rules(config, store, outbox, minutes(15))
    [payload] = firing_payloads(outbox, "low_score")
    assert "began during maintenance: run weekly" in payload["summary"]
    assert payload["details"]["maintenance"].startswith(f"began during run weekly (#{window_id})")
    alert = next(a for a in alert_store.list_alerts(store) if a.rule == "low_score")
    assert alert.maintenance_window == window_id and alert.fired_at == minutes(1)
    events = alert_store.events_of(store, alert.id or 0)
    assert [(e.kind, e.detail) for e in events if e.kind is EventKind.RELEASED] == [
        (EventKind.RELEASED, "maintenance over")
    ]


def test_an_alert_that_clears_before_the_run_ends_is_never_notified_and_counted_apart(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure()
    outbox = Outbox(store, config)
    _, window_id = run_window(config, store, 0)
    add_score(store, 30.0, minutes(1))
    evaluate_rules(config, store, outbox, minutes(1))
    add_score(store, 90.0, minutes(2))
    evaluate_rules(config, store, outbox, minutes(2))
    maintenance.close_run_window(store, window_id, minutes(3))
    evaluate_rules(config, store, outbox, minutes(30))
    assert firing_payloads(outbox, "low_score") == []
    alert = next(a for a in alert_store.list_alerts(store) if a.rule == "low_score")
    assert alert.state is AlertState.RESOLVED and alert.maintenance_window == window_id
    report = effectiveness(config, store, minutes(-60), minutes(60))
    low = next(r for r in report.rules if r.rule == "low_score")
    assert (low.fired, low.flaps, low.during_maintenance) == (0, 0, 1)
    told = next(r for r in report.rules if r.rule == "always_told")
    assert (told.fired, told.flaps, told.during_maintenance) == (1, 1, 0)


def test_a_window_whose_run_crashed_closes_from_the_runs_end(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure()
    run_id, window_id = run_window(config, store, 0)
    run_store.finish_run(store, run_id, RunStatus.ABORTED, minutes(4))
    maintenance.hold_policy(config, store, minutes(20))
    row = window_store.get_window(store, window_id)
    assert row.closed_at == minutes(4) and row.hold_until == minutes(9)


def test_a_procedure_can_open_no_window_or_one_scoped_to_some_rules(
    make_config: Callable[..., Config], store: Store
) -> None:
    config = make_config(
        {
            "quiet": {
                "schedule": {"every": "1h"},
                "steps": [{"run": ["true"]}],
                "maintenance": {"window": False},
            },
            "scoped": {
                "schedule": {"every": "1h"},
                "steps": [{"run": ["true"]}],
                "maintenance": {"rules": ["low_score"]},
            },
        },
        alerts={"rules": RULES, "channels": CHANNELS},
    )
    assert maintenance.open_run_window(config, store, "quiet", 1, minutes(0)) is None
    run_id = run_store.start_run(store, "scoped", Trigger.MANUAL, minutes(0))
    window_id = maintenance.open_run_window(config, store, "scoped", run_id, minutes(0))
    assert window_id is not None
    row = window_store.get_window(store, window_id)
    assert row.rules == ("low_score",) and row.grace == timedelta(minutes=5)


def test_a_planned_window_holds_alerts_and_is_announced_started_and_ended(
    configure: Callable[..., Config], store: Store
) -> None:
    planned = {
        "name": "patch-night",
        "schedule": {"cron": "0 22 * * tue"},
        "duration": "1h",
        "announce": "24h",
        "reason": "kernel updates",
        "grace": "0s",
    }
    config = configure(maintenance={"windows": [planned]})
    outbox = Outbox(store, config)
    add_score(store, 90.0, minutes(0))
    evaluate_rules(config, store, outbox, minutes(0))  # 21:00: an hour before
    [(label, state)] = notices(outbox)
    assert state == "announced" and label.startswith("maintenance window #")
    [future] = window_store.future_windows(store, minutes(0))
    assert future.kind is WindowKind.PLANNED and future.starts_at == minutes(60)
    evaluate_rules(config, store, outbox, minutes(30))
    assert len(notices(outbox)) == 1  # announced once
    add_score(store, 30.0, minutes(61))
    evaluate_rules(config, store, outbox, minutes(61))
    assert [s for _, s in notices(outbox)] == ["announced", "started"]
    assert firing_payloads(outbox, "low_score") == []
    evaluate_rules(config, store, outbox, minutes(120))
    assert [s for _, s in notices(outbox)] == ["announced", "started", "ended"]
    [payload] = firing_payloads(outbox, "low_score")
    assert "planned patch-night" in payload["summary"]
    windows = [r.payload for r in alert_store.recent_notifications(store) if r.kind == "window"]
    started = next(payload for payload in windows if payload["state"] == "started")
    assert started["details"]["reason"] == "kernel updates"


def test_a_planned_window_left_out_of_the_configuration_is_dropped_or_closed(
    configure: Callable[..., Config], store: Store
) -> None:
    planned = {
        "name": "patch-night",
        "schedule": {"cron": "0 22 * * tue"},
        "duration": "2h",
        "announce": "24h",
    }
    maintenance.refresh(configure(maintenance={"windows": [planned]}), store, minutes(0))
    assert len(window_store.future_windows(store, minutes(0))) == 1
    maintenance.refresh(configure(), store, minutes(1))
    assert window_store.future_windows(store, minutes(1)) == []
    maintenance.refresh(configure(maintenance={"windows": [planned]}), store, minutes(70))
    [running] = window_store.holding_windows(store, minutes(70))
    maintenance.refresh(configure(), store, minutes(80))
    closed = window_store.get_window(store, running.id)
    assert closed.closed_at == minutes(80) and closed.closed_by == "configuration"


def test_an_adhoc_window_notifies_its_start_and_its_early_stop(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure()
    outbox = Outbox(store, config)
    row = maintenance.start_window(
        config,
        store,
        minutes(0),
        duration=timedelta(hours=2),
        reason="disk swap",
        opened_by="alice",
    )
    evaluate_rules(config, store, outbox, minutes(1))
    [stopped] = maintenance.stop_windows(store, minutes(10), "bob")
    assert stopped.id == row.id and stopped.closed_by == "bob"
    evaluate_rules(config, store, outbox, minutes(11))
    assert [s for _, s in notices(outbox)] == ["started", "ended"]
    assert maintenance.stop_windows(store, minutes(12), "bob") == []


def test_maintenance_start_refuses_unknown_rules_and_stop_refuses_other_kinds(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure()
    with pytest.raises(maintenance.MaintenanceError, match="no rule named 'nope'"):
        maintenance.start_window(
            config,
            store,
            minutes(0),
            duration=timedelta(hours=1),
            reason=None,
            opened_by="alice",
            rules=["nope"],
        )
    _, window_id = run_window(config, store, 0)
    with pytest.raises(maintenance.MaintenanceError, match="its run ends it"):
        maintenance.stop_windows(store, minutes(1), "alice", window_id)


def test_a_window_before_the_alert_began_does_not_mark_it(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure()
    outbox = Outbox(store, config)
    add_score(store, 30.0, minutes(0))
    evaluate_rules(config, store, outbox, minutes(0))
    run_window(config, store, 1)
    evaluate_rules(config, store, outbox, minutes(2))
    assert len(firing_payloads(outbox, "low_score")) == 1
    alert = next(a for a in alert_store.list_alerts(store) if a.rule == "low_score")
    assert alert.maintenance_window is None
