"""PostgreSQL stopped while daemons run procedures and collect metrics: they keep their
schedule and the watchdog, spool runs and samples locally, say so in `status`, and
replay everything in order when the database is back.

The outage lasts 60 s (HOSTKEEPER_TEST_OUTAGE_SECONDS shortens it while working on
this test).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from fleet_sites import Fleet, Member
from notify_socket import NotifySocket
from tests.peers import missing_peer
from tests.postgres_server import PostgresServer, find_bindir

from conftest import wait_until

OUTAGE_SECONDS = float(os.environ.get("HOSTKEEPER_TEST_OUTAGE_SECONDS", "60"))
WATCHDOG_USEC = 3_000_000
METRICS_INTERVAL = 1.0


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    """A server of this test's own: it is stopped and started again."""
    bindir = find_bindir()
    if bindir is None:
        missing_peer("PostgreSQL server binaries not installed (apt-get install postgresql)")
    if importlib.util.find_spec("psycopg") is None:
        missing_peer("psycopg is not installed (pip install 'psycopg[binary]')")
    running = PostgresServer(bindir)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def fleet(tmp_path: Path, server: PostgresServer) -> Iterator[Fleet]:
    made = Fleet(tmp_path, server.new_database())
    yield made
    made.kill_all()


@pytest.fixture
def sockets() -> Iterator[dict[str, NotifySocket]]:
    made = {name: NotifySocket() for name in ("host-a", "host-b")}
    yield made
    for socket in made.values():
        socket.close()


def _unreachable_since(member: Member) -> object | None:
    state: dict[str, object] = member.site.daemon_state() or {}
    return state.get("store_unreachable_since")


def _finished_runs(member: Member) -> list[dict[str, Any]]:
    """The runs the daemon logged as finished (the spool's and the store's alike)."""
    assert member.daemon is not None
    return [
        e
        for e in member.daemon.events()
        if e.get("event") == "run finished" and e.get("procedure") == "pulse"
    ]


def _stored_runs(member: Member) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = json.loads(
        member.cli("--json", "runs", "--procedure", "pulse", "--limit", "100000").stdout
    )
    return runs


def _spool_idle(member: Member) -> bool:
    state = member.site.daemon_state() or {}
    return state.get("store_unreachable_since") is None and not state.get("spool")


def test_a_database_outage_loses_no_run_and_never_stops_the_watchdog(
    fleet: Fleet, server: PostgresServer, sockets: dict[str, NotifySocket]
) -> None:
    members = [
        fleet.add(name, metrics_interval=f"{METRICS_INTERVAL:g}s") for name in ("host-a", "host-b")
    ]
    for member in members:
        fleet.start(member, sockets[member.name], WATCHDOG_USEC)
    fleet.wait_all_running(members[0])
    for member in members:
        wait_until(partial(_finished_runs, member), timeout=30, what="a pulse before")

    paused_at, outage_start = time.monotonic(), datetime.now(UTC)
    server.pause()
    for member in members:
        state = wait_until(
            partial(_unreachable_since, member),
            timeout=30,
            what=f"{member.name} noticing the outage",
        )
        assert datetime.fromisoformat(str(state)) >= outage_start.replace(microsecond=0)
    status = members[0].cli("status", check=False)
    assert status.returncode == 1
    assert "store unreachable" in status.stderr
    assert "store unreachable for the daemon since" in status.stdout
    for member in members:
        assert member.daemon is not None
        member.daemon.wait_for_event(
            lambda e: e.get("event") == "run kept in the local spool",
            timeout=30,
            what="a run kept in the spool",
        )
    time.sleep(max(OUTAGE_SECONDS - (time.monotonic() - paused_at), 0.0))
    server.resume()
    resumed_at, outage_end = time.monotonic(), datetime.now(UTC)

    for member in members:
        wait_until(partial(_spool_idle, member), timeout=60, what=f"{member.name} replayed")
    for member in members:
        assert member.daemon is not None and member.daemon.stop() == 0

    for member in members:
        # The watchdog: never a gap systemd would kill for, across the whole outage.
        pings = [m.at for m in sockets[member.name].with_key("WATCHDOG", "1") if m.at <= resumed_at]
        before = [at for at in pings if at < paused_at]
        during = [at for at in pings if at >= paused_at]
        assert before and during
        gaps = [later - earlier for earlier, later in pairwise([before[-1], *during])]
        assert max(gaps) < WATCHDOG_USEC / 1e6, f"{member.name}: watchdog gaps {gaps}"
        # Every run the daemon finished is stored, once, in the order it started.
        logged, stored = _finished_runs(member), _stored_runs(member)
        real = [r for r in stored if r["status"] not in ("skipped", "missed")]
        assert len(real) == len(logged)
        assert {r["status"] for r in real} == {"succeeded"}
        by_id = sorted(stored, key=lambda r: r["id"])
        assert [r["started_at"] for r in by_id] == sorted(r["started_at"] for r in stored)
        during_outage = [
            r for r in real if outage_start < datetime.fromisoformat(r["started_at"]) < outage_end
        ]
        assert during_outage, f"{member.name}: no run started during the outage"
        assert all(len(r["steps"]) == 1 for r in during_outage)
        # Metric samples kept coming; none was dropped.
        shown = json.loads(
            member.cli(
                "--json", "metrics", "show", "cpu.percent", "--since", "30m", "--resolution", "raw"
            ).stdout
        )
        times = [datetime.fromisoformat(p["at"]).timestamp() for p in shown["points"]]
        covering = [
            t for t in times if outage_start.timestamp() - 5 <= t <= outage_end.timestamp() + 5
        ]
        assert covering and covering[0] <= outage_start.timestamp() + 5 * METRICS_INTERVAL
        sample_gaps = [later - earlier for earlier, later in pairwise(covering)]
        assert max(sample_gaps) < 5 * METRICS_INTERVAL, f"{member.name}: sample gaps {sample_gaps}"


QUIET = 'nightly:\n  schedule: {hour: 3, minute: 0}\n  steps:\n    - run: ["true"]\n'


def test_a_reload_while_the_database_is_away_keeps_the_daemon_running(
    fleet: Fleet, server: PostgresServer, sockets: dict[str, NotifySocket]
) -> None:
    """Nothing has written since the outage began, so the spool has not noticed it; the
    reload's status line reads the store, which does not answer."""
    member = fleet.add("host-a", procedures=QUIET, metrics_interval="1h")
    socket = sockets["host-a"]
    daemon = fleet.start(member, socket, WATCHDOG_USEC)
    server.pause()
    try:
        after = len(socket.messages)
        daemon.send(signal.SIGHUP)
        daemon.wait_for_event(
            lambda e: e.get("event") == "configuration reloaded", timeout=30, what="the reload"
        )
        _, ready = socket.wait_key("READY", "1", after=after, timeout=30)
        assert "store unreachable since" in str(ready.status), ready.raw
        wait_until(partial(_unreachable_since, member), timeout=10, what="status noticing")
        # Still alive and still feeding the watchdog a while later.
        pings = len(socket.with_key("WATCHDOG", "1"))
        wait_until(
            lambda: len(socket.with_key("WATCHDOG", "1")) >= pings + 3,
            timeout=30,
            what="watchdog pings after the reload",
        )
        assert daemon.process.poll() is None, daemon.stderr
    except AssertionError as failure:
        raise AssertionError(f"{failure}\ndaemon stderr:\n{daemon.stderr[-4000:]}") from None
    finally:
        server.resume()
    # Nothing waits in the spool: the spooler asks the store until it answers again.
    wait_until(partial(_spool_idle, member), timeout=30, what="the store answering again")
    assert daemon.stop() == 0, daemon.stderr
    assert "Traceback" not in daemon.stderr, daemon.stderr
