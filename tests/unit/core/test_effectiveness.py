"""Alert effectiveness: counts, rates, flaps, times to acknowledge and resolve, noisiest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostkeeper.core.effectiveness import (
    DEFAULT_FLAP_WINDOW,
    AlertFacts,
    EffectivenessReport,
    RuleEffectiveness,
    flap_window,
    is_flap,
    summarize,
)

START = datetime(2026, 3, 2, tzinfo=UTC)
END = START + timedelta(days=7)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def fired(
    rule: str,
    fire: float,
    resolve: float | None = None,
    ack: float | None = None,
    false_positive: bool = False,
    sent: int = 1,
    repeats: int = 0,
) -> AlertFacts:
    return AlertFacts(
        rule=rule,
        pending_since=at(fire),
        fired_at=at(fire),
        resolved_at=None if resolve is None else at(resolve),
        acknowledged_at=None if ack is None else at(ack),
        false_positive=false_positive,
        notifications_sent=sent,
        repeats=repeats,
    )


def row(report: EffectivenessReport, rule: str) -> RuleEffectiveness:
    return next(r for r in report.rules if r.rule == rule)


def test_every_configured_rule_has_a_row_even_without_alerts() -> None:
    report = summarize([], {"quiet": timedelta(minutes=5)}, START, END)
    quiet = row(report, "quiet")
    assert quiet.fired == 0
    assert quiet.false_positive_rate is None and quiet.mean_time_to_resolve_seconds is None
    assert report.noisiest == ()


def test_counts_rates_and_mean_times() -> None:
    alerts = [
        fired("disk", 0, resolve=60, ack=10, sent=2),
        fired("disk", 100, resolve=130, ack=130, sent=2, repeats=1),
        fired("disk", 200, resolve=203, false_positive=True, sent=2),
        fired("disk", 300, sent=1),
    ]
    report = summarize(alerts, {"disk": timedelta(minutes=2)}, START, END)
    disk = row(report, "disk")
    assert disk.fired == 4
    assert disk.notifications_sent == 7
    assert disk.repeats == 1
    assert disk.false_positives == 1 and disk.false_positive_rate == 0.25
    assert disk.acknowledged == 2
    assert disk.mean_time_to_acknowledge_seconds == (10 * 60 + 30 * 60) / 2
    assert disk.resolved == 3
    assert disk.mean_time_to_resolve_seconds == (60 * 60 + 30 * 60 + 3 * 60) / 3
    assert disk.still_firing == 1


def test_flap_is_a_quick_unacknowledged_resolution_counted_apart_from_false_positives() -> None:
    alerts = [
        fired("cpu", 0, resolve=5),  # flap: resolved within `for` (10m), nobody acked
        fired("cpu", 100, resolve=104, ack=102),  # acknowledged: someone cared
        fired("cpu", 200, resolve=260),  # lasted an hour
        fired("cpu", 300, resolve=302, false_positive=True),  # a false positive, not a flap
    ]
    report = summarize(alerts, {"cpu": timedelta(minutes=10)}, START, END)
    cpu = row(report, "cpu")
    assert cpu.flaps == 1 and cpu.flap_rate == 0.25
    assert cpu.false_positives == 1


def test_flap_window_is_the_rules_for_or_a_default_without_one() -> None:
    assert flap_window(timedelta(minutes=10)) == timedelta(minutes=10)
    assert flap_window(timedelta(0)) == DEFAULT_FLAP_WINDOW
    quick = fired("r", 0, resolve=4)
    assert is_flap(quick, flap_window(timedelta(0)))
    assert not is_flap(fired("r", 0, resolve=6), flap_window(timedelta(0)))
    assert not is_flap(fired("r", 0), flap_window(timedelta(0)))  # still firing


def test_ack_after_resolution_does_not_rescue_a_flap() -> None:
    late_ack = fired("r", 0, resolve=2, ack=30)
    assert is_flap(late_ack, timedelta(minutes=5))


def test_alerts_fired_outside_the_period_are_not_counted_as_fired() -> None:
    before = fired("r", -60, resolve=10)
    report = summarize([before], {"r": timedelta(0)}, START, END)
    assert row(report, "r").fired == 0


def test_pending_alerts_cancelled_by_for_are_counted() -> None:
    cancelled = AlertFacts(
        rule="r",
        pending_since=at(5),
        fired_at=None,
        resolved_at=at(7),
        acknowledged_at=None,
        false_positive=False,
        cancelled=True,
    )
    report = summarize([cancelled, cancelled], {"r": timedelta(minutes=10)}, START, END)
    assert row(report, "r").cancelled_by_for == 2
    assert row(report, "r").fired == 0


def test_noisiest_rules_rank_by_notifications_then_noise() -> None:
    alerts = [
        fired("chatty", 0, resolve=1, sent=10),
        fired("flappy", 0, resolve=1, sent=3),
        fired("flappy", 5, resolve=6, sent=0),
        fired("steady", 0, resolve=100, ack=5, sent=3),
    ]
    windows = {name: timedelta(minutes=5) for name in ("chatty", "flappy", "steady", "idle")}
    report = summarize(alerts, windows, START, END)
    assert report.noisiest == ("chatty", "flappy", "steady")
    assert report.totals()["fired"] == 4
    assert report.totals()["flaps"] == 3


def test_rule_removed_from_the_config_still_reports_its_alerts() -> None:
    report = summarize([fired("gone", 0, resolve=30)], {}, START, END)
    assert row(report, "gone").fired == 1
    assert row(report, "gone").flaps == 0  # 30 minutes is past the default window


def test_report_as_dict_is_json_ready() -> None:
    import json

    report = summarize([fired("r", 0, resolve=2)], {"r": timedelta(0)}, START, END)
    data = json.loads(json.dumps(report.as_dict()))
    assert data["period"]["start"] == START.isoformat()
    assert data["rules"][0]["rule"] == "r"
    assert data["totals"]["flaps"] == 1


def maintenance_alert(
    rule: str, fire: float, resolve: float | None, notified: bool, sent: int = 0
) -> AlertFacts:
    return AlertFacts(
        rule=rule,
        pending_since=at(fire),
        fired_at=at(fire),
        resolved_at=None if resolve is None else at(resolve),
        acknowledged_at=None,
        false_positive=False,
        notifications_sent=sent,
        during_maintenance=True,
        notified=notified,
    )


def test_alerts_of_maintenance_are_counted_apart_neither_flaps_nor_fired() -> None:
    alerts = [
        fired("cpu", 10, resolve=11),  # a flap
        maintenance_alert("cpu", 20, resolve=21, notified=False),  # would be a flap
        maintenance_alert("cpu", 30, resolve=90, notified=True, sent=2),
        maintenance_alert("cpu", 40, resolve=None, notified=False),
    ]
    report = summarize(alerts, {"cpu": timedelta(0)}, START, END)
    cpu = row(report, "cpu")
    assert cpu.fired == 1 and cpu.flaps == 1 and cpu.flap_rate == 1.0
    assert cpu.resolved == 1 and cpu.still_firing == 0
    assert cpu.during_maintenance == 3 and cpu.notified_after_maintenance == 1
    assert cpu.notifications_sent == 3  # deliveries are deliveries, whatever caused them
    totals = report.totals()
    assert totals["during_maintenance"] == 3 and totals["notified_after_maintenance"] == 1
    assert report.as_dict()["rules"][0]["during_maintenance"] == 3


def test_a_rule_whose_alerts_all_came_from_maintenance_has_no_rates() -> None:
    report = summarize(
        [maintenance_alert("web", 5, resolve=6, notified=False)], {"web": timedelta(0)}, START, END
    )
    web = row(report, "web")
    assert web.fired == 0 and web.false_positive_rate is None and web.flap_rate is None
    assert web.mean_time_to_resolve_seconds is None
    assert report.noisiest == ()
