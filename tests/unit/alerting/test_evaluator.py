"""Evaluation rounds against a real SQLite store: persisted state, restarts, acks,
silences, each kind of rule, retired rules and Alertmanager refreshes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.adapters.store.database import inserted_id
from hostkeeper.adapters.store.schema import (
    baseline_stats,
    baseline_versions,
    check_results,
    health_scores,
    samples,
    series,
)
from hostkeeper.alerting.evaluator import evaluate_rules
from hostkeeper.alerting.service import channel_map
from hostkeeper.channels.delivery import DeliveryWorker
from hostkeeper.config import Config
from hostkeeper.core.alerts import AlertState

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

CHANNELS = [
    {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/"},
    {"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:9/", "resend": "5m"},
]


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.fixture
def configure(make_config: Callable[..., Config]) -> Callable[..., Config]:
    def build(*rules: dict[str, Any], repeat: str = "4h") -> Config:
        return make_config(alerts={"repeat": repeat, "rules": list(rules), "channels": CHANNELS})

    return build


class Outbox:
    """A delivery worker that is never started: submissions are recorded, not sent."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.worker = DeliveryWorker(store, lambda: channel_map(config))

    def submit(self, channel: str, message: Any) -> int | None:
        return self.worker.submit(channel, message)

    def sent(self) -> list[tuple[str, str]]:
        rows = alert_store.recent_notifications(self.store, limit=1000)
        return [(row.channel, row.kind) for row in reversed(rows)]


def add_score(store: Store, score: float | None, at: datetime) -> None:
    with store.write() as connection:
        connection.execute(
            insert(health_scores).values(host=store.host, score=score, computed_at=at)
        )


def add_sample(store: Store, name: str, value: float, at: datetime) -> None:
    with store.write() as connection:
        found = connection.execute(
            series.select().where(series.c.host == store.host, series.c.name == name)
        ).first()
        series_id = (
            found.id
            if found
            else inserted_id(connection.execute(insert(series).values(host=store.host, name=name)))
        )
        connection.execute(
            insert(samples).values(series_id=series_id, ts=at.timestamp(), value=value)
        )


def test_rule_fires_after_for_and_notifies_each_channel_once(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure(
        {"name": "low_score", "when": "health_score < 50", "for": "5m", "channels": ["hook"]}
    )
    outbox = Outbox(store, config)
    add_score(store, 30.0, minutes(0))
    first = evaluate_rules(config, store, outbox, minutes(0))
    assert first.pending == ["low_score"] and outbox.sent() == []
    evaluate_rules(config, store, outbox, minutes(4))
    third = evaluate_rules(config, store, outbox, minutes(5))
    assert third.firing == ["low_score"]
    assert third.notifications == [("low_score", "firing")]
    for minute in range(6, 30):
        evaluate_rules(config, store, outbox, minutes(minute))
    assert outbox.sent() == [("hook", "firing")]
    [alert] = alert_store.list_alerts(store)
    assert alert.state is AlertState.FIRING and alert.fired_at == minutes(5)
    assert alert.summary == "health_score is 30 (health_score < 50)"
    kinds = [event.kind.value for event in alert_store.events_of(store, alert.id or 0)]
    assert kinds == ["pending", "firing", "notified"]


def test_restart_mid_for_keeps_the_timer_and_a_restart_while_firing_sends_nothing(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure(
        {"name": "low_score", "when": "health_score < 50", "for": "10m", "channels": ["hook"]}
    )
    add_score(store, 30.0, minutes(0))
    evaluate_rules(config, store, Outbox(store, config), minutes(0))
    evaluate_rules(config, store, Outbox(store, config), minutes(6))
    store.dispose()  # the daemon stops; a new process opens the same database
    reopened = open_store(str(store.engine.url), host=store.host)
    outbox = Outbox(reopened, config)
    assert evaluate_rules(config, reopened, outbox, minutes(9)).pending == ["low_score"]
    assert evaluate_rules(config, reopened, outbox, minutes(10)).firing == ["low_score"]
    reopened.dispose()
    again = open_store(str(store.engine.url), host=store.host)
    evaluate_rules(config, again, Outbox(again, config), minutes(20))
    assert Outbox(again, config).sent() == [("hook", "firing")]
    again.dispose()


def test_resolution_is_notified_and_a_new_alert_follows(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure({"name": "low_score", "when": "health_score < 50", "channels": ["hook"]})
    outbox = Outbox(store, config)
    add_score(store, 30.0, minutes(0))
    evaluate_rules(config, store, outbox, minutes(0))
    add_score(store, 90.0, minutes(1))
    assert evaluate_rules(config, store, outbox, minutes(1)).resolved == ["low_score"]
    add_score(store, 20.0, minutes(2))
    evaluate_rules(config, store, outbox, minutes(2))
    assert outbox.sent() == [("hook", "firing"), ("hook", "resolved"), ("hook", "firing")]
    states = [a.state for a in alert_store.list_alerts(store)]
    assert states == [AlertState.FIRING, AlertState.RESOLVED]


def test_acknowledged_alert_is_not_repeated(configure: Callable[..., Config], store: Store) -> None:
    config = configure(
        {"name": "low_score", "when": "health_score < 50", "channels": ["hook"]}, repeat="1h"
    )
    outbox = Outbox(store, config)
    add_score(store, 30.0, minutes(0))
    evaluate_rules(config, store, outbox, minutes(0))
    evaluate_rules(config, store, outbox, minutes(60))
    [alert] = alert_store.list_alerts(store)
    alert_store.acknowledge(store, alert.id or 0, minutes(61))
    for minute in (120, 180, 240):
        evaluate_rules(config, store, outbox, minutes(minute))
    assert outbox.sent() == [("hook", "firing"), ("hook", "repeat")]
    assert alert_store.get_alert(store, alert.id or 0).acknowledged_at == minutes(61)


def test_silenced_rule_changes_state_but_sends_nothing(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure({"name": "low_score", "when": "health_score < 50", "channels": ["hook"]})
    outbox = Outbox(store, config)
    alert_store.add_silence(store, "low_score", minutes(0), minutes(30), "maintenance window")
    add_score(store, 30.0, minutes(1))
    assert evaluate_rules(config, store, outbox, minutes(1)).firing == ["low_score"]
    assert outbox.sent() == []
    alert_store.lift_silences(store, "low_score", minutes(5))
    evaluate_rules(config, store, outbox, minutes(6))
    assert outbox.sent() == [("hook", "firing")]


def test_metric_rule_reads_the_newest_sample(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure({"name": "load", "when": "load.5m >= 4", "channels": ["hook"]})
    outbox = Outbox(store, config)
    add_sample(store, "load.5m", 1.0, minutes(0))
    add_sample(store, "load.5m", 6.0, minutes(1))
    result = evaluate_rules(config, store, outbox, minutes(1))
    assert result.firing == ["load"]
    assert alert_store.list_alerts(store)[0].value == 6.0
    # Collection stopped: an old sample is no data, and the alert stays as it was.
    later = evaluate_rules(config, store, outbox, minutes(60))
    assert later.no_data == ["load"] and later.firing == ["load"]


def test_check_rule_reads_the_newest_result(configure: Callable[..., Config], store: Store) -> None:
    config = configure({"name": "disk", "check": "root_disk", "channels": ["hook"]})
    config = config.model_copy(update={"checks": make_checks()})
    outbox = Outbox(store, config)
    for minute, state in ((0, "ok"), (1, "critical")):
        with store.write() as connection:
            connection.execute(
                insert(check_results).values(
                    host=store.host,
                    check_name="root_disk",
                    check_type="disk_free",
                    state=state,
                    value=3.0,
                    detail="3% free",
                    checked_at=minutes(minute),
                )
            )
    assert evaluate_rules(config, store, outbox, minutes(2)).firing == ["disk"]
    assert alert_store.list_alerts(store)[0].summary == "check root_disk is critical: 3% free"


def make_checks() -> list[Any]:
    from pydantic import TypeAdapter

    from hostkeeper.config.checks import Check

    return [
        TypeAdapter(Check).validate_python(
            {
                "name": "root_disk",
                "type": "disk_free",
                "path": "/",
                "warning": "20%",
                "critical": "10%",
            }
        )
    ]


def test_baseline_rule_uses_the_active_baseline(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure(
        {"name": "cpu", "metric": "cpu.percent", "above_baseline": 3.0, "channels": ["hook"]}
    )
    outbox = Outbox(store, config)
    with store.write() as connection:
        for version, status, mean in ((1, "superseded", 80.0), (2, "active", 20.0)):
            version_id = inserted_id(
                connection.execute(
                    insert(baseline_versions).values(
                        host=store.host,
                        version=version,
                        created_at=minutes(0),
                        window_start=minutes(-100),
                        window_end=minutes(0),
                        status=status,
                    )
                )
            )
            connection.execute(
                insert(baseline_stats).values(
                    version_id=version_id, metric="cpu.percent", n=5000, mean=mean, stddev=5.0
                )
            )
    add_sample(store, "cpu.percent", 50.0, minutes(1))
    assert evaluate_rules(config, store, outbox, minutes(1)).firing == ["cpu"]
    summary = alert_store.list_alerts(store)[0].summary or ""
    assert "6.0 standard deviations from its baseline mean 20" in summary


def test_alert_of_a_removed_rule_resolves_quietly(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure({"name": "low_score", "when": "health_score < 50", "channels": ["hook"]})
    outbox = Outbox(store, config)
    add_score(store, 30.0, minutes(0))
    evaluate_rules(config, store, outbox, minutes(0))
    without = configure()
    evaluate_rules(without, store, outbox, minutes(1))
    [alert] = alert_store.list_alerts(store)
    assert alert.state is AlertState.RESOLVED
    assert outbox.sent() == [("hook", "firing")]
    assert alert_store.events_of(store, alert.id or 0)[-1].detail == (
        "rule removed from the configuration"
    )


def test_firing_alert_is_refreshed_in_alertmanager_every_resend(
    configure: Callable[..., Config], store: Store
) -> None:
    config = configure({"name": "low_score", "when": "health_score < 50", "channels": ["am"]})
    add_score(store, 30.0, minutes(0))
    real_now = datetime.now(UTC)
    outbox = Outbox(store, config)
    # The delivery log stamps submissions with the real clock: evaluate at real times.
    evaluate_rules(config, store, outbox, real_now)
    evaluate_rules(config, store, outbox, real_now + timedelta(minutes=4))
    assert outbox.sent() == [("am", "firing")]
    evaluate_rules(config, store, outbox, real_now + timedelta(minutes=5, seconds=1))
    assert outbox.sent() == [("am", "firing"), ("am", "refresh")]
