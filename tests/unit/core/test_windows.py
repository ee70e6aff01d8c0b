"""Maintenance windows: their span, grace and scope, and which of them holds a rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hostkeeper.core.windows import (
    HoldPolicy,
    Window,
    WindowKind,
    hold_until,
    holding,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def window(
    start: float,
    end: float | None = None,
    closed: float | None = None,
    grace: float = 0,
    rules: set[str] | None = None,
    id: int = 1,
) -> Window:
    return Window(
        id=id,
        kind=WindowKind.ADHOC,
        start=at(start),
        planned_end=None if end is None else at(end),
        closed_at=None if closed is None else at(closed),
        grace=timedelta(minutes=grace),
        rules=frozenset(rules) if rules is not None else None,
    )


def holder(policy: HoldPolicy, rule: str, minute: float) -> int | None:
    """The id of the window holding `rule` at `minute`, or None."""
    found = policy.window_for(rule, at(minute))
    return None if found is None else found.id


@pytest.mark.parametrize(
    ("end", "closed", "expected"),
    [
        (None, None, None),
        (20, None, 25),
        (None, 15, 20),
        (20, 15, 20),  # stopped early: the grace counts from the stop
        (20, 30, 25),  # closed late: the planned end counts
    ],
)
def test_hold_until_is_the_earlier_end_plus_the_grace(
    end: float | None, closed: float | None, expected: float | None
) -> None:
    result = hold_until(
        None if end is None else at(end), None if closed is None else at(closed), timedelta(0)
    )
    grace = timedelta(minutes=5)
    with_grace = hold_until(
        None if end is None else at(end), None if closed is None else at(closed), grace
    )
    assert with_grace == (None if expected is None else at(expected))
    assert result == (None if expected is None else at(expected) - grace)
    assert window(10, end, closed, grace=5).hold_until == with_grace


@pytest.mark.parametrize(
    ("minute", "open_", "holding_", "grace_"),
    [
        (9.99, False, False, False),  # before
        (10, True, True, False),  # the start belongs to the window
        (19.99, True, True, False),
        (20, False, True, True),  # the end starts the grace
        (24.99, False, True, True),
        (25, False, False, False),  # the grace is over
    ],
)
def test_open_holding_and_grace_around_the_edges(
    minute: float, open_: bool, holding_: bool, grace_: bool
) -> None:
    span = window(10, 20, grace=5)
    assert span.open_at(at(minute)) is open_
    assert span.holding_at(at(minute)) is holding_
    assert span.in_grace(at(minute)) is grace_


def test_a_window_without_an_end_holds_until_closed() -> None:
    span = window(10)
    assert span.end is None and span.hold_until is None
    assert span.open_at(at(10_000)) and span.holding_at(at(10_000))
    assert not span.holding_at(at(9))


def test_scope_none_covers_every_rule_and_a_list_only_its_rules() -> None:
    assert window(0).covers("anything")
    scoped = window(0, rules={"web_up"})
    assert scoped.covers("web_up") and not scoped.covers("disk_low")


def test_window_for_picks_a_covering_window_that_holds_now() -> None:
    policy = HoldPolicy(
        (
            window(0, 10, id=1),
            window(5, 30, rules={"web_up"}, id=2),
            window(40, 50, id=3),
        )
    )
    assert holder(policy, "disk_low", 5) == 1
    assert holder(policy, "web_up", 5) == 2
    assert holder(policy, "disk_low", 20) is None  # only web_up is held then
    assert holder(policy, "web_up", 20) == 2
    assert holder(policy, "disk_low", 35) is None
    assert holder(policy, "disk_low", 45) == 3


def test_window_for_prefers_the_window_holding_longest() -> None:
    policy = HoldPolicy((window(0, 60, id=1), window(10, None, id=2), window(5, 20, id=3)))
    assert holder(policy, "r", 15) == 2
    finite = HoldPolicy((window(0, 60, id=1), window(5, 20, id=3)))
    assert holder(finite, "r", 15) == 1


def test_held_needs_a_mark_a_holding_window_and_time_left() -> None:
    policy = HoldPolicy((window(0, 60),), max_hold=timedelta(minutes=30))
    assert not policy.held("r", None, at(1), at(2))  # began outside maintenance
    assert policy.held("r", 1, None, at(2))  # pending: nothing to notify yet anyway
    assert policy.held("r", 1, at(1), at(30.99))
    assert not policy.held("r", 1, at(1), at(31))  # the maximum hold is over
    assert not policy.held("r", 1, at(1), at(61))  # the window is over


def test_release_reason_says_why_a_held_alert_notifies() -> None:
    policy = HoldPolicy((window(0, 60),))
    assert policy.release_reason("r", at(70)) == "maintenance over"
    assert policy.release_reason("r", at(40)) == "held for the maximum of 30m"
    long_hold = HoldPolicy((window(0, 600),), max_hold=timedelta(hours=2))
    assert long_hold.release_reason("r", at(130)) == "held for the maximum of 2h"


def test_holding_lists_open_and_grace_windows_oldest_first() -> None:
    windows = [window(30, 40, id=3), window(0, 10, grace=5, id=1), window(12, id=2)]
    assert [w.id for w in holding(windows, at(13))] == [1, 2]
    assert [w.id for w in holding(windows, at(35))] == [2, 3]
