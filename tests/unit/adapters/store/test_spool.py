"""The local spool file: order, the size bound (samples dropped first and counted, run
events never), set-aside events, run ids, and what survives a reopen."""

from __future__ import annotations

from pathlib import Path

from hostkeeper.adapters.store.spool import RUN_FINISH, RUN_START, SAMPLES, STEP, Spool


def _samples(count: int, base: float = 0.0) -> dict[str, object]:
    return {"samples": [["cpu.percent", base + n, 1.0] for n in range(count)]}


def test_events_come_back_in_the_order_they_were_added(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", 10**6)
    assert spool.empty
    first = spool.append(RUN_START, {"procedure": "daily"})
    second = spool.append(SAMPLES, _samples(3), count=3)
    third = spool.append(STEP, {"run": -first})
    assert not spool.empty
    assert [(e.seq, e.kind) for e in spool.head()] == [
        (first, RUN_START),
        (second, SAMPLES),
        (third, STEP),
    ]
    spool.done(first, first, 41)
    assert spool.stored_id(first) == 41
    spool.done(second)
    spool.done(third)
    assert spool.empty and spool.head() == []


def test_past_its_size_the_oldest_samples_go_first_and_are_counted(tmp_path: Path) -> None:
    one_batch = len('{"samples":' + str(_samples(10)["samples"]).replace(" ", "") + "}")
    spool = Spool(tmp_path / "spool.db", 3 * one_batch + 100)
    start = spool.append(RUN_START, {"procedure": "daily"})
    batches = [spool.append(SAMPLES, _samples(10, 100.0 * n), count=10) for n in range(5)]
    kept = [e.seq for e in spool.head()]
    assert kept[0] == start  # never a run event
    assert kept[-1] == batches[-1]  # never what was just added
    assert batches[0] not in kept and batches[1] not in kept
    stats = spool.stats()
    assert stats.dropped_samples == 10 * (5 - (len(kept) - 1))
    assert stats.run_events == 1 and stats.samples == 10 * (len(kept) - 1)


def test_run_events_are_kept_whatever_the_size(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", 10)
    for n in range(20):
        spool.append(STEP, {"run": 5, "step": {"output": "x" * 100, "n": n}})
    assert spool.stats().run_events == 20 and spool.stats().dropped_samples == 0


def test_a_refused_event_is_set_aside_and_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db", 10**6)
    seq = spool.append(STEP, {"run": 99})
    spool.append(SAMPLES, _samples(1), count=1)
    [refused, _] = spool.head()
    spool.reject(refused, "violates foreign key")
    assert [e.kind for e in spool.head()] == [SAMPLES]
    assert spool.stats().rejected == 1 and seq == refused.seq


def test_runs_left_going_are_found_and_what_waits_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    spool = Spool(path, 10**6)
    going = spool.append(RUN_START, {"procedure": "daily"})
    ended = spool.append(RUN_START, {"procedure": "weekly"})
    spool.append(RUN_FINISH, {"run": -ended, "status": "succeeded"})
    spool.append(RUN_START, {"procedure": "hourly", "finished": {"status": "skipped"}})
    replayed = spool.append(RUN_START, {"procedure": "monthly"})
    spool.done(replayed, replayed, 7)  # its start is in the store, its end nowhere
    spool.close()
    again = Spool(path, 10**6)
    assert not again.empty
    assert again.unfinished_local_runs() == [going, replayed]
    assert again.stored_id(replayed) == 7
    again.forget_run(replayed)
    assert again.stored_id(replayed) is None
