"""The alert state machine under maintenance windows: which alerts are held, until when,
and what is notified then.

Besides the named cases, one test runs every placement of an alert against a window
(every start and end minute, with and without `for`, grace and a short maximum hold)
and compares the notifications with a statement of the rule written independently."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
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
    evaluate,
)
from hostkeeper.core.windows import HoldPolicy, Window, WindowKind

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOLDS = Observation(True, 95.0, "cpu 95%")
CLEAR = Observation(False, 10.0, "cpu 10%")


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def window(
    start: float,
    end: float | None,
    grace: float = 0,
    rules: set[str] | None = None,
    id: int = 7,
    kind: WindowKind = WindowKind.RUN,
) -> Window:
    return Window(
        id=id,
        kind=kind,
        start=at(start),
        planned_end=None if end is None else at(end),
        grace=minutes(grace),
        rules=frozenset(rules) if rules is not None else None,
    )


def timing(for_: float = 0, maintenance: bool = True, name: str = "cpu") -> RuleTiming:
    return RuleTiming(name, "critical", minutes(for_), minutes(0), minutes(0), maintenance)


@dataclass
class Run:
    """Evaluates one rule minute by minute against fixed windows."""

    rule: RuleTiming
    holds: HoldPolicy
    silences: tuple[Silence, ...] = ()
    alert: AlertRecord | None = None
    sent: list[tuple[float, str]] = field(default_factory=list)
    events: list[tuple[float, EventKind, str | None]] = field(default_factory=list)
    alerts: list[AlertRecord] = field(default_factory=list)

    def at(self, minute: float, observation: Observation) -> None:
        now = at(minute)
        result = evaluate(self.rule, self.alert, observation, now, self.silences, self.holds)
        if result.notify is not None:
            self.sent.append((minute, result.notify.value))
        self.events += [(minute, e.kind, e.detail) for e in result.events]
        if result.alert is not None:
            if self.alert is None or not self.alert.state.active:
                self.alerts.append(result.alert)  # a new alert
            else:
                self.alerts[-1] = result.alert
        self.alert = result.alert

    def condition(self, holds_from: float, clears_at: float, until: float) -> None:
        """The condition holds in minutes [holds_from, clears_at), clear otherwise."""
        for minute in range(int(until) + 1):
            self.at(minute, HOLDS if holds_from <= minute < clears_at else CLEAR)


def policy(*windows: Window, max_hold: float = 30) -> HoldPolicy:
    return HoldPolicy(tuple(windows), minutes(max_hold))


# -- the four placements ---------------------------------------------------------------------


def test_alert_starting_before_the_window_is_notified_as_usual() -> None:
    run = Run(timing(), policy(window(10, 20)))
    run.condition(5, 15, until=30)
    assert run.sent == [(5, "firing"), (15, "resolved")]
    assert run.alerts[0].maintenance_window is None


def test_alert_starting_inside_and_ending_inside_the_window_sends_nothing() -> None:
    run = Run(timing(), policy(window(10, 20)))
    run.condition(12, 15, until=30)
    assert run.sent == []
    [alert] = run.alerts
    assert alert.maintenance_window == 7
    assert alert.state is AlertState.RESOLVED and alert.notifications == 0
    assert (12, EventKind.SUPPRESSED, "maintenance window #7") in run.events


def test_alert_starting_inside_and_firing_across_the_end_is_notified_at_the_end() -> None:
    run = Run(timing(), policy(window(10, 20)))
    run.condition(12, 25, until=30)
    assert run.sent == [(20, "firing"), (25, "resolved")]
    assert (20, EventKind.RELEASED, "maintenance over") in run.events
    assert run.alerts[0].fired_at == at(12)  # it fired when it did; only the notice waited


def test_alert_starting_after_the_window_is_notified_as_usual() -> None:
    run = Run(timing(), policy(window(10, 20)))
    run.condition(21, 25, until=30)
    assert run.sent == [(21, "firing"), (25, "resolved")]
    assert run.alerts[0].maintenance_window is None


def test_grace_holds_alerts_starting_after_the_end_and_delays_the_release() -> None:
    run = Run(timing(), policy(window(10, 20, grace=5)))
    run.condition(22, 40, until=40)
    assert run.alerts[0].maintenance_window == 7
    assert run.sent[0] == (25, "firing")
    late = Run(timing(), policy(window(10, 20, grace=5)))
    late.condition(25, 40, until=40)
    assert late.alerts[0].maintenance_window is None
    assert late.sent[0] == (25, "firing")


def test_an_alert_is_never_held_longer_than_the_maximum() -> None:
    run = Run(timing(), policy(window(0, None), max_hold=30))  # a window with no end
    run.condition(10, 100, until=100)
    assert run.sent == [(40, "firing"), (100, "resolved")]
    assert (40, EventKind.RELEASED, "held for the maximum of 30m") in run.events


def test_the_maximum_hold_counts_from_firing_not_from_pending() -> None:
    run = Run(timing(for_=10), policy(window(0, None), max_hold=30))
    run.condition(5, 100, until=100)
    assert run.alerts[0].fired_at == at(15)
    assert run.sent[0] == (45, "firing")


def test_pending_alert_that_began_in_the_window_fires_after_it_and_is_still_held() -> None:
    run = Run(timing(for_=10), policy(window(0, 20, grace=5)))
    run.condition(15, 60, until=60)
    assert run.alerts[0].maintenance_window == 7
    assert run.alerts[0].fired_at == at(25)  # at the very end of the grace
    assert run.sent[0] == (25, "firing")  # the hold is over by then: no wait


def test_pending_alert_from_before_the_window_is_not_held_when_it_fires_inside() -> None:
    run = Run(timing(for_=10), policy(window(10, 40)))
    run.condition(5, 60, until=60)
    assert run.alerts[0].maintenance_window is None
    assert run.sent[0] == (15, "firing")


def test_a_rule_with_maintenance_ignore_is_never_held() -> None:
    run = Run(timing(maintenance=False), policy(window(0, 60)))
    run.condition(10, 20, until=30)
    assert run.sent == [(10, "firing"), (20, "resolved")]
    assert run.alerts[0].maintenance_window is None


def test_a_window_scoped_to_other_rules_does_not_hold_this_one() -> None:
    run = Run(timing(name="cpu"), policy(window(0, 60, rules={"web_up"})))
    run.condition(10, 20, until=30)
    assert run.sent == [(10, "firing"), (20, "resolved")]
    scoped = Run(timing(name="web_up"), policy(window(0, 60, rules={"web_up"})))
    scoped.condition(10, 20, until=30)
    assert scoped.sent == []


def test_a_later_window_keeps_holding_an_alert_from_an_earlier_one() -> None:
    run = Run(timing(), policy(window(0, 20, id=1), window(15, 40, id=2), max_hold=60))
    run.condition(10, 60, until=60)
    assert run.alerts[0].maintenance_window == 1
    assert run.sent[0] == (40, "firing")


def test_repeats_follow_the_release_like_any_notification() -> None:
    rule = RuleTiming("cpu", "critical", minutes(0), minutes(0), minutes(30))
    run = Run(rule, policy(window(0, 20)))
    run.condition(10, 100, until=100)
    assert run.sent == [(20, "firing"), (50, "repeat"), (80, "repeat"), (100, "resolved")]


def test_a_silence_outlasting_the_window_keeps_the_alert_quiet() -> None:
    silence = Silence("cpu", until=at(50), created_at=at(0))
    run = Run(timing(), policy(window(0, 20)), silences=(silence,))
    run.condition(10, 100, until=100)
    assert run.sent[0] == (50, "firing")


def test_a_restart_continues_the_hold_from_the_persisted_mark() -> None:
    holds = policy(window(0, 20))
    first = evaluate(timing(), None, HOLDS, at(10), (), holds)
    assert first.alert is not None and first.notify is None
    persisted = first.alert
    middle = evaluate(timing(), persisted, HOLDS, at(15), (), holds)
    assert middle.notify is None
    released = evaluate(timing(), persisted, HOLDS, at(21), (), holds)
    assert released.notify is NotificationKind.FIRING


# -- every placement ----------------------------------------------------------------------------

WINDOW_START, WINDOW_END = 10, 20


def expected_notifications(
    holds_from: int, clears_at: int, for_: int, grace: int, max_hold: int
) -> list[tuple[float, str]]:
    """The rule, stated on its own: the alert fires `for_` minutes after the condition
    starts if it still holds then; if it started in [start, end + grace) it is held until
    end + grace, or max_hold after firing if that comes first; it is notified when the
    hold ends if it still fires then, and its resolution is sent only if it was."""
    fires = holds_from + for_
    if fires >= clears_at:
        return []  # cancelled while pending
    began_in_window = WINDOW_START <= holds_from < WINDOW_END + grace
    notify_at = fires
    if began_in_window:
        notify_at = max(fires, min(WINDOW_END + grace, fires + max_hold))
    if notify_at >= clears_at:
        return []  # resolved before the hold ended
    return [(notify_at, "firing"), (clears_at, "resolved")]


PLACEMENTS = [
    (holds_from, clears_at) for holds_from, clears_at in itertools.combinations(range(0, 42, 3), 2)
]


@pytest.mark.parametrize("for_", [0, 4])
@pytest.mark.parametrize("grace", [0, 5])
@pytest.mark.parametrize("max_hold", [3, 30])
def test_every_placement_of_an_alert_against_a_window(for_: int, grace: int, max_hold: int) -> None:
    holds = policy(window(WINDOW_START, WINDOW_END, grace=grace), max_hold=max_hold)
    for holds_from, clears_at in PLACEMENTS:
        run = Run(timing(for_=for_), holds)
        run.condition(holds_from, clears_at, until=60)
        expected = expected_notifications(holds_from, clears_at, for_, grace, max_hold)
        assert run.sent == expected, (holds_from, clears_at)
        marked = run.alerts[0].maintenance_window is not None
        assert marked is (WINDOW_START <= holds_from < WINDOW_END + grace), (holds_from,)
