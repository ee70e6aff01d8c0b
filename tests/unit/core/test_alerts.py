"""The alert state machine: lifecycle, hysteresis, silences, repeats, acks, restarts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from hostkeeper.core.alerts import (
    AlertRecord,
    AlertState,
    EventKind,
    NotificationKind,
    Observation,
    RuleTiming,
    Silence,
    acknowledge,
    evaluate,
    mark_false_positive,
    silenced,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOLDS = Observation(True, 42.0, "value 42")
CLEAR = Observation(False, 10.0, "value 10")
NO_DATA = Observation(None)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def rule(
    for_: float = 0, clear_for: float = 0, repeat: float = 240, severity: str = "warning"
) -> RuleTiming:
    return RuleTiming("cpu_anomaly", severity, minutes(for_), minutes(clear_for), minutes(repeat))


@dataclass
class Timeline:
    """Feeds observations minute by minute, keeping only what would be persisted."""

    timing: RuleTiming
    silences: Sequence[Silence] = ()
    alert: AlertRecord | None = None
    notifications: list[tuple[datetime, NotificationKind]] = field(default_factory=list)
    events: list[tuple[datetime, EventKind]] = field(default_factory=list)

    def at(self, minute: float, observation: Observation) -> AlertRecord | None:
        now = T0 + minutes(minute)
        result = evaluate(self.timing, self.alert, observation, now, self.silences)
        if result.notify is not None:
            self.notifications.append((now, result.notify))
        self.events += [(event.at, event.kind) for event in result.events]
        self.alert = result.alert
        return result.alert

    def run(self, start: float, end: float, observation: Observation, step: float = 1) -> None:
        minute = start
        while minute <= end:
            self.at(minute, observation)
            minute += step

    def sent(self) -> list[tuple[float, str]]:
        return [((at - T0).total_seconds() / 60, kind.value) for at, kind in self.notifications]

    # A method, not a property: a type checker narrows a property after one assert and
    # would not see that `at` and `run` change it.
    def state(self) -> AlertState | None:
        return self.alert.state if self.alert else None


# -- lifecycle ------------------------------------------------------------------------------


def test_no_alert_while_the_condition_is_clear() -> None:
    timeline = Timeline(rule(for_=5))
    timeline.run(0, 30, CLEAR)
    assert timeline.alert is None
    assert timeline.events == []


def test_condition_is_pending_until_it_has_held_for_the_for_duration() -> None:
    timeline = Timeline(rule(for_=5))
    timeline.run(0, 4, HOLDS)
    assert timeline.state() is AlertState.PENDING
    assert timeline.notifications == []
    timeline.at(5, HOLDS)
    assert timeline.state() is AlertState.FIRING
    assert timeline.alert is not None and timeline.alert.fired_at == T0 + minutes(5)
    assert timeline.sent() == [(5, "firing")]


def test_rule_without_for_fires_on_the_first_evaluation() -> None:
    timeline = Timeline(rule(for_=0))
    alert = timeline.at(0, HOLDS)
    assert alert is not None and alert.state is AlertState.FIRING
    assert alert.pending_since == alert.fired_at == T0
    assert [kind for _, kind in timeline.events] == [
        EventKind.PENDING,
        EventKind.FIRING,
        EventKind.NOTIFIED,
    ]
    assert timeline.sent() == [(0, "firing")]


def test_pending_alert_that_clears_is_cancelled_and_never_notified() -> None:
    timeline = Timeline(rule(for_=5))
    timeline.run(0, 3, HOLDS)
    timeline.at(4, CLEAR)
    assert timeline.state() is AlertState.CANCELLED
    assert timeline.notifications == []
    # The next time it holds, a new alert starts its own `for` from scratch.
    timeline.at(6, HOLDS)
    assert timeline.state() is AlertState.PENDING
    assert timeline.alert is not None and timeline.alert.pending_since == T0 + minutes(6)
    assert timeline.alert.id is None  # a new row, not the cancelled one


def test_firing_alert_resolves_when_the_condition_clears_without_clear_for() -> None:
    timeline = Timeline(rule(for_=0))
    timeline.run(0, 10, HOLDS)
    timeline.at(11, CLEAR)
    assert timeline.state() is AlertState.RESOLVED
    assert timeline.alert is not None and timeline.alert.resolved_at == T0 + minutes(11)
    assert timeline.sent() == [(0, "firing"), (11, "resolved")]


def test_resolved_alert_is_followed_by_a_new_alert_when_the_condition_returns() -> None:
    timeline = Timeline(rule(for_=2))
    timeline.run(0, 3, HOLDS)
    first = timeline.at(4, CLEAR)
    timeline.run(5, 8, HOLDS)
    second = timeline.alert
    assert first is not None and first.state is AlertState.RESOLVED
    assert second is not None and second.state is AlertState.FIRING
    assert second.pending_since == T0 + minutes(5)
    assert second.notifications == 1
    assert timeline.sent() == [(2, "firing"), (4, "resolved"), (7, "firing")]


def test_value_and_summary_follow_the_latest_observation() -> None:
    timeline = Timeline(rule(for_=5))
    timeline.at(0, HOLDS)
    alert = timeline.at(1, Observation(True, 77.0, "value 77"))
    assert alert is not None and alert.value == 77.0 and alert.summary == "value 77"


def test_severity_follows_the_rule_after_a_reload() -> None:
    timeline = Timeline(rule(for_=0))
    timeline.at(0, HOLDS)
    timeline.timing = rule(for_=0, severity="critical")
    alert = timeline.at(1, HOLDS)
    assert alert is not None and alert.severity == "critical"


# -- flapping and hysteresis ----------------------------------------------------------------


def test_flapping_input_never_fires_a_rule_with_for() -> None:
    timeline = Timeline(rule(for_=5))
    for minute in range(60):
        timeline.at(minute, HOLDS if minute % 2 == 0 else CLEAR)
    assert timeline.notifications == []
    assert EventKind.FIRING not in [kind for _, kind in timeline.events]
    cancelled = [kind for _, kind in timeline.events if kind is EventKind.CANCELLED]
    assert len(cancelled) == 30


def test_flapping_input_without_hysteresis_notifies_on_every_flap() -> None:
    timeline = Timeline(rule(for_=0, clear_for=0))
    for minute in range(10):
        timeline.at(minute, HOLDS if minute % 2 == 0 else CLEAR)
    assert [kind for _, kind in timeline.sent()] == ["firing", "resolved"] * 5


def test_clear_for_keeps_a_flapping_alert_firing_with_one_notification() -> None:
    timeline = Timeline(rule(for_=0, clear_for=5))
    for minute in range(60):
        timeline.at(minute, HOLDS if minute % 2 == 0 else CLEAR)
    assert timeline.state() is AlertState.FIRING
    assert timeline.sent() == [(0, "firing")]


def test_clear_for_resolves_only_after_the_condition_stayed_clear_that_long() -> None:
    timeline = Timeline(rule(for_=0, clear_for=5))
    timeline.run(0, 10, HOLDS)
    timeline.run(11, 15, CLEAR)
    assert timeline.state() is AlertState.FIRING
    assert timeline.alert is not None and timeline.alert.clear_since == T0 + minutes(11)
    timeline.at(16, CLEAR)
    assert timeline.state() is AlertState.RESOLVED
    assert timeline.sent() == [(0, "firing"), (16, "resolved")]


def test_condition_returning_during_clear_for_restarts_the_clear_period() -> None:
    timeline = Timeline(rule(for_=0, clear_for=5))
    timeline.run(0, 10, HOLDS)
    timeline.run(11, 14, CLEAR)
    timeline.at(15, HOLDS)
    assert timeline.alert is not None and timeline.alert.clear_since is None
    timeline.run(16, 20, CLEAR)
    assert timeline.state() is AlertState.FIRING
    timeline.at(21, CLEAR)
    assert timeline.state() is AlertState.RESOLVED
    assert timeline.alert is not None and timeline.alert.resolved_at == T0 + minutes(21)


def test_no_data_neither_advances_nor_resets_a_pending_alert() -> None:
    timeline = Timeline(rule(for_=5))
    timeline.at(0, HOLDS)
    timeline.run(1, 3, NO_DATA)
    assert timeline.state() is AlertState.PENDING
    assert timeline.alert is not None and timeline.alert.pending_since == T0
    timeline.at(5, HOLDS)
    assert timeline.state() is AlertState.FIRING


def test_no_data_does_not_resolve_a_firing_alert_nor_interrupt_clear_for() -> None:
    timeline = Timeline(rule(for_=0, clear_for=5))
    timeline.at(0, HOLDS)
    timeline.run(1, 30, NO_DATA)
    assert timeline.state() is AlertState.FIRING
    timeline.at(31, CLEAR)
    timeline.run(32, 34, NO_DATA)
    assert timeline.alert is not None and timeline.alert.clear_since == T0 + minutes(31)
    timeline.at(36, CLEAR)
    assert timeline.state() is AlertState.RESOLVED


def test_no_data_starts_no_alert() -> None:
    timeline = Timeline(rule())
    timeline.run(0, 10, NO_DATA)
    assert timeline.alert is None


# -- restarts -------------------------------------------------------------------------------


def persisted(alert: AlertRecord | None) -> AlertRecord | None:
    """What a new process reads back: the record with a database id, nothing else."""
    return None if alert is None else replace(alert, id=alert.id or 7)


def test_restart_mid_for_keeps_the_pending_timer() -> None:
    before = Timeline(rule(for_=10))
    before.run(0, 6, HOLDS)
    # The daemon stops at minute 6 and starts again at minute 9: a new timeline, same record.
    after = Timeline(rule(for_=10), alert=persisted(before.alert))
    after.at(9, HOLDS)
    assert after.state() is AlertState.PENDING
    after.at(10, HOLDS)
    assert after.state() is AlertState.FIRING
    assert after.sent() == [(10, "firing")]


def test_restart_after_for_elapsed_fires_on_the_first_evaluation() -> None:
    before = Timeline(rule(for_=10))
    before.at(0, HOLDS)
    after = Timeline(rule(for_=10), alert=persisted(before.alert))
    after.at(30, HOLDS)
    assert after.state() is AlertState.FIRING
    assert after.alert is not None and after.alert.pending_since == T0


def test_restart_of_a_firing_alert_sends_nothing_again() -> None:
    before = Timeline(rule(for_=0, repeat=240))
    before.run(0, 5, HOLDS)
    after = Timeline(rule(for_=0, repeat=240), alert=persisted(before.alert))
    after.run(7, 120, HOLDS)
    assert before.sent() == [(0, "firing")]
    assert after.notifications == []
    assert after.alert is not None and after.alert.notifications == 1


def test_restart_during_clear_for_keeps_counting_the_clear_period() -> None:
    before = Timeline(rule(for_=0, clear_for=5))
    before.run(0, 3, HOLDS)
    before.run(4, 6, CLEAR)
    after = Timeline(rule(for_=0, clear_for=5), alert=persisted(before.alert))
    after.at(9, CLEAR)
    assert after.state() is AlertState.RESOLVED
    assert after.sent() == [(9, "resolved")]


def test_restart_with_the_condition_gone_cancels_a_pending_alert() -> None:
    before = Timeline(rule(for_=10))
    before.run(0, 4, HOLDS)
    after = Timeline(rule(for_=10), alert=persisted(before.alert))
    after.at(8, CLEAR)
    assert after.state() is AlertState.CANCELLED
    assert after.notifications == []


def test_repeat_after_restart_counts_from_the_last_notification() -> None:
    before = Timeline(rule(for_=0, repeat=60))
    before.run(0, 50, HOLDS)
    after = Timeline(rule(for_=0, repeat=60), alert=persisted(before.alert))
    after.run(59, 61, HOLDS)
    assert after.sent() == [(60, "repeat")]


# -- repeat and acknowledgement -------------------------------------------------------------


def test_still_firing_alert_is_repeated_every_repeat_interval() -> None:
    timeline = Timeline(rule(for_=0, repeat=60))
    timeline.run(0, 185, HOLDS)
    assert timeline.sent() == [(0, "firing"), (60, "repeat"), (120, "repeat"), (180, "repeat")]
    assert timeline.alert is not None and timeline.alert.notifications == 4


def test_repeat_zero_never_repeats() -> None:
    timeline = Timeline(rule(for_=0, repeat=0))
    timeline.run(0, 600, HOLDS, step=10)
    assert timeline.sent() == [(0, "firing")]


def test_acknowledged_alert_is_not_repeated_but_still_resolves_with_a_notification() -> None:
    timeline = Timeline(rule(for_=0, repeat=60))
    timeline.run(0, 30, HOLDS)
    assert timeline.alert is not None
    acked, event = acknowledge(timeline.alert, T0 + minutes(31))
    assert event is not None and event.kind is EventKind.ACKNOWLEDGED
    timeline.alert = acked
    timeline.run(32, 300, HOLDS)
    timeline.at(301, CLEAR)
    assert timeline.sent() == [(0, "firing"), (301, "resolved")]


def test_acknowledging_twice_keeps_the_first_time() -> None:
    alert = AlertRecord("r", "warning", AlertState.FIRING, T0, fired_at=T0, id=1)
    first, _ = acknowledge(alert, T0 + minutes(1))
    second, event = acknowledge(first, T0 + minutes(2))
    assert second.acknowledged_at == T0 + minutes(1)
    assert event is None


@pytest.mark.parametrize("state", [AlertState.RESOLVED, AlertState.CANCELLED])
def test_inactive_alert_cannot_be_acknowledged(state: AlertState) -> None:
    alert = AlertRecord("r", "warning", state, T0, id=3)
    with pytest.raises(ValueError, match="only active alerts"):
        acknowledge(alert, T0)


def test_acknowledgement_ends_with_the_alert() -> None:
    timeline = Timeline(rule(for_=0, repeat=60))
    timeline.at(0, HOLDS)
    assert timeline.alert is not None
    timeline.alert, _ = acknowledge(timeline.alert, T0 + minutes(1))
    timeline.at(2, CLEAR)
    timeline.run(3, 100, HOLDS)
    assert timeline.sent() == [(0, "firing"), (2, "resolved"), (3, "firing"), (63, "repeat")]


# -- silences -------------------------------------------------------------------------------


def silence(start: float, end: float, lifted: float | None = None) -> Silence:
    return Silence(
        "cpu_anomaly",
        T0 + minutes(end),
        created_at=T0 + minutes(start),
        lifted_at=None if lifted is None else T0 + minutes(lifted),
    )


def test_silence_suppresses_the_firing_notification_but_not_the_state() -> None:
    timeline = Timeline(rule(for_=0), silences=[silence(0, 60)])
    timeline.run(0, 30, HOLDS)
    assert timeline.state() is AlertState.FIRING
    assert timeline.notifications == []
    assert (T0, EventKind.SUPPRESSED) in timeline.events


def test_alert_that_fires_and_resolves_inside_a_silence_sends_nothing() -> None:
    timeline = Timeline(rule(for_=0), silences=[silence(0, 60)])
    timeline.run(0, 10, HOLDS)
    timeline.at(11, CLEAR)
    assert timeline.state() is AlertState.RESOLVED
    assert timeline.notifications == []


def test_alert_still_firing_when_its_silence_ends_is_notified_then() -> None:
    timeline = Timeline(rule(for_=0), silences=[silence(0, 30)])
    timeline.run(0, 35, HOLDS)
    assert timeline.sent() == [(30, "firing")]


def test_lifted_silence_lets_the_firing_notification_out() -> None:
    timeline = Timeline(rule(for_=0), silences=[silence(0, 600, lifted=12)])
    timeline.run(0, 15, HOLDS)
    assert timeline.sent() == [(12, "firing")]


def test_resolution_of_a_notified_alert_is_sent_even_during_a_silence() -> None:
    timeline = Timeline(rule(for_=0), silences=[silence(10, 100)])
    timeline.run(0, 20, HOLDS)
    timeline.at(21, CLEAR)
    assert timeline.sent() == [(0, "firing"), (21, "resolved")]


def test_silence_suppresses_repeats_and_they_resume_afterwards() -> None:
    timeline = Timeline(rule(for_=0, repeat=60), silences=[silence(50, 150)])
    timeline.run(0, 200, HOLDS)
    assert timeline.sent() == [(0, "firing"), (150, "repeat")]


def test_silence_across_resolution_does_not_silence_the_next_alert_after_it_ends() -> None:
    timeline = Timeline(rule(for_=0), silences=[silence(0, 20)])
    timeline.run(0, 5, HOLDS)
    timeline.at(6, CLEAR)
    timeline.run(25, 26, HOLDS)
    assert timeline.sent() == [(25, "firing")]


def test_silence_for_another_rule_changes_nothing() -> None:
    other = Silence("disk_low", T0 + minutes(60), created_at=T0)
    timeline = Timeline(rule(for_=0), silences=[other])
    timeline.at(0, HOLDS)
    assert timeline.sent() == [(0, "firing")]


@pytest.mark.parametrize(
    ("silences", "minute", "expected"),
    [
        ([silence(0, 10)], 5, True),
        ([silence(0, 10)], 10, False),  # `until` is exclusive
        ([silence(2, 10)], 1, False),  # not yet started
        ([silence(0, 10, lifted=3)], 4, False),
        ([silence(0, 10, lifted=3)], 2, True),
        ([], 0, False),
    ],
)
def test_silenced_at_a_given_time(
    silences: Iterable[Silence], minute: float, expected: bool
) -> None:
    assert silenced("cpu_anomaly", silences, T0 + minutes(minute)) is expected


# -- false positives --------------------------------------------------------------------------


def test_fired_alert_can_be_marked_false_positive_once() -> None:
    alert = AlertRecord("r", "warning", AlertState.RESOLVED, T0, fired_at=T0, id=4)
    marked, event = mark_false_positive(alert, T0 + minutes(5))
    assert marked.false_positive
    assert event is not None and event.kind is EventKind.FALSE_POSITIVE
    again, second = mark_false_positive(marked, T0 + minutes(6))
    assert again.false_positive and second is None


def test_alert_that_never_fired_cannot_be_marked_false_positive() -> None:
    alert = AlertRecord("r", "warning", AlertState.CANCELLED, T0, id=5)
    with pytest.raises(ValueError, match="never fired"):
        mark_false_positive(alert, T0)


def test_unchanged_evaluation_reports_no_change() -> None:
    timeline = Timeline(rule(for_=0, repeat=600))
    timeline.at(0, HOLDS)
    previous = timeline.alert
    result = evaluate(rule(for_=0, repeat=600), previous, HOLDS, T0 + minutes(1))
    assert not result.changed_from(previous)
    moved = evaluate(rule(for_=0, repeat=600), previous, Observation(True, 50.0), T0 + minutes(2))
    assert moved.changed_from(previous)
