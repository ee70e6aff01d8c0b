"""The advisory lease on a real PostgreSQL: one holder among racing processes, and a
holder that is killed hands it on."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hostkeeper.adapters.store import Store, open_store
from hostkeeper.adapters.store.lease import AdvisoryLease
from hostkeeper.adapters.store.migrate import current_revision
from hostkeeper.adapters.store.schema import SCHEMA_REVISION
from tests.postgres_server import PostgresServer

NAME = "hostkeeper.test.lease"


@pytest.fixture
def database(postgres_server: PostgresServer) -> str:
    return postgres_server.new_database()


@pytest.fixture
def stores(database: str) -> Iterator[list[Store]]:
    opened = [open_store(database, host=f"watcher-{n}") for n in range(3)]
    yield opened
    for store in opened:
        store.dispose()


def test_of_three_racing_watchers_exactly_one_holds(stores: list[Store]) -> None:
    leases = [AdvisoryLease(store, NAME) for store in stores]
    barrier = threading.Barrier(len(leases))
    results: dict[int, bool] = {}

    def race(index: int) -> None:
        barrier.wait()
        results[index] = leases[index].hold()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(leases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results.values()) == [False, False, True]
    holder = next(n for n, held in results.items() if held)
    # Asking again changes nothing: the holder keeps it, the others still cannot take it.
    assert [lease.hold() for lease in leases] == [n == holder for n in range(3)]
    leases[holder].release()
    taken = [lease.hold() for lease in leases]
    assert taken.count(True) == 1
    for lease in leases:
        lease.release()


def test_a_holder_whose_session_ends_loses_the_lease_to_another(stores: list[Store]) -> None:
    first, second = AdvisoryLease(stores[0], NAME), AdvisoryLease(stores[1], NAME)
    assert first.hold() and not second.hold()
    with stores[2].engine.connect() as admin:
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND granted"
            )
        )
        admin.commit()
    assert second.hold()
    assert not first.hold()  # its session is gone; the lock is the other one's now
    second.release()


def test_a_killed_holder_process_hands_the_lease_on(database: str, tmp_path: Path) -> None:
    ready = tmp_path / "held"
    script = textwrap.dedent(
        f"""
        import pathlib, time
        from hostkeeper.adapters.store import open_store
        from hostkeeper.adapters.store.lease import AdvisoryLease
        lease = AdvisoryLease(open_store({database!r}, host="doomed"), {NAME!r})
        assert lease.hold()
        pathlib.Path({str(ready)!r}).write_text("yes")
        time.sleep(300)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None, "the holder process died before holding"
            assert time.monotonic() < deadline, "the holder process never held the lease"
            time.sleep(0.1)
        survivor = open_store(database, host="survivor")
        lease = AdvisoryLease(survivor, NAME)
        assert not lease.hold()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 30
        while not lease.hold():
            assert time.monotonic() < deadline, "the lease was not handed on"
            time.sleep(0.1)
        lease.release()
        survivor.dispose()
    finally:
        process.kill()
        process.wait(10)


def test_a_lease_refuses_sqlite(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'hk.db'}")
    with pytest.raises(ValueError, match="PostgreSQL"):
        AdvisoryLease(store, NAME)
    store.dispose()


def test_hosts_starting_at_once_migrate_the_shared_database_once(
    database: str, tmp_path: Path
) -> None:
    """Each host's migration lock file is its own; the database's advisory lock makes
    the others wait and find the schema current."""
    script = textwrap.dedent(
        """
        import sys, pathlib
        from hostkeeper.adapters.store import open_store
        from hostkeeper.adapters.store.migrate import migrate
        state = pathlib.Path(sys.argv[2])
        migrate(open_store(sys.argv[1]), state / "migrate.lock", state / "db-backups")
        """
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, database, str(tmp_path / f"host-{n}")],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    errors = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
    store = open_store(database)
    assert current_revision(store) == SCHEMA_REVISION
    store.dispose()
