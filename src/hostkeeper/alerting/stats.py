"""Alert effectiveness from the store: the facts core.effectiveness summarizes."""

from __future__ import annotations

from datetime import datetime

from hostkeeper.adapters.store import Store
from hostkeeper.adapters.store import alerts as alert_store
from hostkeeper.config import Config
from hostkeeper.core.alerts import AlertState
from hostkeeper.core.effectiveness import AlertFacts, EffectivenessReport, summarize


def effectiveness(
    config: Config, store: Store, start: datetime, end: datetime
) -> EffectivenessReport:
    """Per-rule effectiveness of this host's alerts over [start, end)."""
    records = [r for r in alert_store.alerts_between(store, start, end) if r.id is not None]
    ids = [r.id for r in records if r.id is not None]
    repeats = alert_store.repeat_counts(store, ids, start, end)
    sent: dict[int, int] = {}
    for (alert_id, kind), count in alert_store.sent_notification_counts(store, start, end).items():
        if kind != "refresh":  # Alertmanager keep-alives are not notifications to people
            sent[alert_id] = sent.get(alert_id, 0) + count
    facts = [
        AlertFacts(
            rule=r.rule,
            pending_since=r.pending_since,
            fired_at=r.fired_at,
            resolved_at=r.resolved_at,
            acknowledged_at=r.acknowledged_at,
            false_positive=r.false_positive,
            cancelled=r.state is AlertState.CANCELLED,
            notifications_sent=sent.get(r.id or 0, 0),
            repeats=repeats.get(r.id or 0, 0),
            during_maintenance=r.maintenance_window is not None,
            notified=r.notifications > 0,
        )
        for r in records
    ]
    windows = {rule.name: rule.for_ for rule in config.alerts.rules}
    return summarize(facts, windows, start, end)
