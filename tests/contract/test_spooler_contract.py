"""The spooler in front of a real store: while the database does not answer (a server on
a port nobody listens on), runs and samples wait in the spool; once it does, they are
replayed in order, each run once."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, text

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store import runs as run_store
from hostkeeper.adapters.store.metrics import recent_values
from hostkeeper.adapters.store.runs import StepRecord
from hostkeeper.adapters.store.spool import Spool
from hostkeeper.core.metrics import Sample
from hostkeeper.core.runs import RunStatus, StepStatus, Trigger
from hostkeeper.services.spooler import Spooler

T0 = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


@pytest.fixture
def unreachable() -> Iterator[Store]:
    """A PostgreSQL store on a loopback port nothing listens on: connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = open_store(f"postgresql+psycopg://postgres@127.0.0.1:{port}/gone", host="host-a")
    yield dead
    dead.dispose()


def _step(position: int, at: datetime, status: StepStatus = StepStatus.SUCCEEDED) -> StepRecord:
    return StepRecord(
        position,
        "steps",
        "run",
        f"run: step{position}",
        status,
        at,
        at + timedelta(seconds=1),
        details={"when": at},  # not JSON by itself: kept as the store keeps it, as text
    )


def _run(spooler: Spooler, procedure: str, at: datetime, steps: int) -> int:
    run_id = spooler.start_run(procedure, Trigger.SCHEDULED, at, scheduled_for=at)
    for position in range(steps):
        spooler.record_step(run_id, _step(position, at + timedelta(seconds=position)))
    spooler.finish_run(run_id, RunStatus.SUCCEEDED, at + timedelta(seconds=steps))
    return run_id


def test_runs_and_samples_wait_while_the_store_is_away_and_replay_in_order(
    store: Store, unreachable: Store, tmp_path: Path
) -> None:
    spooler = Spooler(unreachable, Spool(tmp_path / "spool.db", 10**7))
    first = _run(spooler, "pulse", T0, 2)
    assert first < 0 and spooler.unreachable_since is not None
    skipped = spooler.record_finished_run(
        "pulse", Trigger.SCHEDULED, RunStatus.SKIPPED, T0 + timedelta(minutes=1), "busy"
    )
    assert skipped < 0
    going = spooler.start_run("daily", Trigger.SCHEDULED, T0 + timedelta(minutes=2))
    spooler.record_step(going, _step(0, T0 + timedelta(minutes=2)))
    assert spooler.write_samples([Sample("cpu.percent", T0.timestamp() + n, n) for n in range(5)])
    assert spooler.replay() == 0  # still away: nothing lost, nothing moved
    assert spooler.stats().run_events == 7 and spooler.stats().samples == 5

    spooler.store = store  # the database answers again
    assert spooler.replay() == 8
    assert spooler.spool.empty and spooler.unreachable_since is None
    # The run still going is stored; what it records from now on goes straight there.
    spooler.record_step(going, _step(1, T0 + timedelta(minutes=3)))
    spooler.finish_run(going, RunStatus.SUCCEEDED, T0 + timedelta(minutes=4))
    assert spooler.spool.empty

    runs = sorted(run_store.list_runs(store, limit=10), key=lambda r: r.id)
    assert [(r.procedure, r.status, r.started_at) for r in runs] == [
        ("pulse", "succeeded", T0),
        ("pulse", "skipped", T0 + timedelta(minutes=1)),
        ("daily", "succeeded", T0 + timedelta(minutes=2)),
    ]
    assert [s.label for s in runs[0].steps] == ["run: step0", "run: step1"]
    assert runs[0].steps[0].details == {"when": str(T0)}
    assert [s.position for s in runs[2].steps] == [0, 1]
    values = recent_values(store, "cpu.percent", T0, T0 + timedelta(seconds=10))
    assert [point.value for point in values] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_a_run_that_began_in_the_store_ends_in_the_spool(
    store: Store, unreachable: Store, tmp_path: Path
) -> None:
    spooler = Spooler(store, Spool(tmp_path / "spool.db", 10**7))
    run_id = spooler.start_run("weekly", Trigger.SCHEDULED, T0)
    assert run_id > 0
    spooler.store = unreachable  # the database goes away in the middle of the run
    spooler.record_step(run_id, _step(0, T0, StepStatus.FAILED))
    spooler.finish_run(run_id, RunStatus.FAILED, T0 + timedelta(minutes=1), "step0 failed")
    assert spooler.stats().run_events == 2
    spooler.store = store
    spooler.replay()
    [record] = run_store.list_runs(store, "weekly")
    assert (record.id, record.status, record.error) == (run_id, "failed", "step0 failed")
    assert [s.status for s in record.steps] == [StepStatus.FAILED]


def test_a_run_replayed_twice_is_stored_once(
    store: Store, unreachable: Store, tmp_path: Path
) -> None:
    """A crash between the store's commit and the spool's: the same events come again."""
    path = tmp_path / "spool.db"
    spooler = Spooler(unreachable, Spool(path, 10**7))
    _run(spooler, "pulse", T0, 2)
    entries = spooler.spool.head()
    spooler.store = store
    spooler.replay()
    again = Spooler(store, Spool(tmp_path / "again.db", 10**7))
    for entry in entries:  # the same events, from a spool that never heard they were done
        again.spool.append(entry.kind, entry.payload)
    again.replay()
    [record] = run_store.list_runs(store, "pulse")
    assert len(record.steps) == 2


def test_runs_a_stopped_daemon_left_going_are_ended_as_aborted(
    store: Store, unreachable: Store, tmp_path: Path
) -> None:
    path = tmp_path / "spool.db"
    spooler = Spooler(unreachable, Spool(path, 10**7))
    going = spooler.start_run("daily", Trigger.SCHEDULED, T0)
    spooler.record_step(going, _step(0, T0))
    spooler.spool.close()
    restarted = Spooler(store, Spool(path, 10**7))
    assert restarted.close_abandoned(T0 + timedelta(hours=1)) == [-going]
    restarted.replay()
    [record] = run_store.list_runs(store, "daily")
    assert record.status == "aborted" and "stopped before the run finished" in str(record.error)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_samples_cut_off_mid_copy_are_spooled_as_the_server_went_away(
    store: Store, tmp_path: Path
) -> None:
    """PostgreSQL takes samples by COPY, through the driver itself: the server ending the
    session under it is still a store that does not answer, not a refused batch."""
    spooler = Spooler(store, Spool(tmp_path / "spool.db", 10**7))
    at = T0.timestamp()
    spooler.write_samples([Sample("cpu.percent", at, 1.0)])  # series known, window open
    assert spooler.spool.empty

    ended: list[int] = []

    def end_the_session(connection: Connection) -> None:
        if ended:
            return
        driver = connection.connection.driver_connection
        assert driver is not None
        pid = driver.info.backend_pid
        ended.append(pid)
        with store.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):
                gone = admin.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar_one()
                if not gone:
                    break
                time.sleep(0.05)

    event.listen(store.engine, "begin", end_the_session)
    try:
        assert spooler.write_samples([Sample("cpu.percent", at + 1, 2.0)]) == 1
    finally:
        event.remove(store.engine, "begin", end_the_session)
    assert ended
    assert spooler.unreachable_since is not None
    assert spooler.stats().samples == 1

    assert spooler.replay() == 1
    assert spooler.spool.empty and spooler.unreachable_since is None
    values = recent_values(store, "cpu.percent", T0 - timedelta(seconds=1))
    assert [point.value for point in values] == [1.0, 2.0]


def test_a_spooled_run_keeps_the_checklist_it_started_with(
    store: Store, unreachable: Store, tmp_path: Path
) -> None:
    spooler = Spooler(unreachable, Spool(tmp_path / "spool.db", 10**7))
    planned = '[{"section":"pre","name":"review","text":"Review changes","kind":"manual"}]'
    local = spooler.start_run("weekly", Trigger.SCHEDULED, T0, checklist=planned)
    spooler.finish_run(local, RunStatus.SUCCEEDED, T0 + timedelta(seconds=5))
    assert local < 0
    spooler.store = store
    assert spooler.replay() == 2
    [record] = run_store.list_runs(store, "weekly")
    assert record.checklist == planned
