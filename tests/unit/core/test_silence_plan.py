"""What to do about a window's Alertmanager silence: create, extend, delete or wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hostkeeper.core.silence_plan import (
    FIRST_RETRY,
    HORIZON,
    LONGEST_RETRY,
    SilenceAction,
    SilenceRecord,
    SilenceState,
    SilenceStep,
    desired_end,
    plan_silence,
    retry_at,
)
from hostkeeper.core.windows import Window, WindowKind

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def window(end: float | None = None, closed: float | None = None, grace: float = 0) -> Window:
    return Window(
        id=1,
        kind=WindowKind.ADHOC,
        start=at(0),
        planned_end=None if end is None else at(end),
        closed_at=None if closed is None else at(closed),
        grace=timedelta(minutes=grace),
    )


def active(ends: float, silence_id: str = "abc") -> SilenceRecord:
    return SilenceRecord(SilenceState.ACTIVE, silence_id, at(ends))


def test_a_holding_window_without_a_silence_creates_one_until_its_end_or_the_horizon() -> None:
    assert plan_silence(window(end=30, grace=5), None, at(1)) == SilenceStep(
        SilenceAction.CREATE, at(35)
    )
    assert plan_silence(window(end=600), None, at(1)) == SilenceStep(
        SilenceAction.CREATE, at(1) + HORIZON
    )
    assert plan_silence(window(), None, at(1)) == SilenceStep(SilenceAction.CREATE, at(61))


def test_a_pending_or_expired_silence_is_created_again() -> None:
    pending = SilenceRecord(SilenceState.PENDING, attempts=2, next_attempt_at=at(5))
    assert plan_silence(window(), pending, at(4)) is None  # not yet: backing off
    assert plan_silence(window(), pending, at(5)) == SilenceStep(SilenceAction.CREATE, at(65))
    assert plan_silence(window(), active(ends=10), at(10)) == SilenceStep(
        SilenceAction.CREATE, at(70)
    )


def test_an_active_silence_is_extended_when_half_its_horizon_is_left() -> None:
    record = active(ends=60)
    assert plan_silence(window(), record, at(29)) is None
    assert plan_silence(window(), record, at(30)) == SilenceStep(SilenceAction.EXTEND, at(90))


def test_an_active_silence_is_extended_to_a_known_end_within_the_horizon() -> None:
    record = active(ends=60)
    assert plan_silence(window(end=70), record, at(20)) == SilenceStep(SilenceAction.EXTEND, at(70))
    assert plan_silence(window(end=70), active(ends=70), at(20)) is None
    assert plan_silence(window(end=50), record, at(20)) is None  # never shortened: deleted later


def test_a_window_that_stopped_holding_deletes_its_silence() -> None:
    stopped = window(closed=20, grace=5)
    assert plan_silence(stopped, active(ends=60), at(24)) is None  # grace: still holding
    assert plan_silence(stopped, active(ends=60), at(25)) == SilenceStep(SilenceAction.DELETE)
    ending = SilenceRecord(SilenceState.ENDING, "abc", at(60), attempts=1, next_attempt_at=at(30))
    assert plan_silence(stopped, ending, at(29)) is None
    assert plan_silence(stopped, ending, at(30)) == SilenceStep(SilenceAction.DELETE)


def test_nothing_to_call_for_silences_never_made_deleted_or_expired() -> None:
    over = window(closed=20)
    assert plan_silence(over, None, at(30)) is None
    pending = SilenceRecord(SilenceState.PENDING)
    assert plan_silence(over, pending, at(30)) == SilenceStep(SilenceAction.ABANDON)
    deleted = SilenceRecord(SilenceState.DELETED, "abc", at(20))
    assert plan_silence(over, deleted, at(30)) is None
    assert plan_silence(over, active(ends=25), at(30)) == SilenceStep(SilenceAction.ABANDON)
    assert plan_silence(window(), deleted, at(10)) is None  # a window does not come back


def test_desired_end_is_bounded_by_the_horizon() -> None:
    assert desired_end(window(end=10), at(0)) == at(10)
    assert desired_end(window(), at(0), timedelta(minutes=20)) == at(20)


def test_retries_back_off_up_to_a_ceiling() -> None:
    assert retry_at(1, T0) == T0 + FIRST_RETRY
    assert retry_at(2, T0) == T0 + 2 * FIRST_RETRY
    assert retry_at(3, T0) == T0 + 4 * FIRST_RETRY
    assert retry_at(50, T0) == T0 + LONGEST_RETRY


def test_a_window_no_longer_in_force_deletes_its_silence_while_it_would_still_hold() -> None:
    assert plan_silence(window(), active(ends=60), at(5), in_force=False) == SilenceStep(
        SilenceAction.DELETE
    )
    assert plan_silence(window(), None, at(5), in_force=False) is None
