"""Several real daemons on loopback sharing one real PostgreSQL: the fleet view shows each
of them, and of three watchers exactly one tells a real HTTP receiver when a host falls
silent, also after the watcher that held the lease is killed."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerting_peers import Receiver, http_receiver
from fleet_sites import Fleet

from conftest import wait_until
from hostkeeper.services.status_model import FleetStatus, HostStatus


@pytest.fixture
def fleet(tmp_path: Path, postgres_server: Any) -> Iterator[Fleet]:
    made = Fleet(tmp_path, postgres_server.new_database())
    yield made
    made.kill_all()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as running:
        yield running


def test_the_fleet_view_shows_every_daemon_and_drills_down_to_each(fleet: Fleet) -> None:
    viewer = fleet.add("host-a", dashboard=True)
    fleet.add("host-b")
    fleet.add("host-c")
    fleet.start_all()
    fleet.wait_all_running(viewer)

    def pulsed() -> dict[str, Any] | None:
        view = viewer.fleet()
        last = {h["host"]: h["procedures"][0]["last_status"] for h in view["hosts"]}
        return view if set(last.values()) == {"succeeded"} else None

    view = wait_until(pulsed, timeout=60, interval=0.5, what="a pulse run on every host")
    assert [h["host"] for h in view["hosts"]] == ["host-a", "host-b", "host-c"]
    assert all(h["failing"] == [] and h["version"] for h in view["hosts"])
    table = viewer.cli("fleet").stdout.splitlines()
    assert table[0].split()[:3] == ["HOST", "STATE", "HEALTH"]
    assert [line.split()[:2] for line in table[1:]] == [
        [name, "running"] for name in ("host-a", "host-b", "host-c")
    ]

    status, body = viewer.get("/api/fleet")
    served = FleetStatus.model_validate(json.loads(body))
    assert [h.host for h in served.hosts] == ["host-a", "host-b", "host-c"]
    assert {h.state for h in served.hosts} == {"running"}

    status, page = viewer.get("/fleet")
    assert status == 200
    for name in ("host-a", "host-b", "host-c"):
        assert f'<a href="/hosts/{name}/">{name}</a>' in page

    status, page = viewer.get("/hosts/host-b/")
    assert status == 200 and "hostkeeper — host-b" in page and "pulse" in page
    status, body = viewer.get("/hosts/host-c/api/status")
    remote = HostStatus.model_validate(json.loads(body))
    assert remote.host == "host-c" and [p.procedure for p in remote.procedures] == ["pulse"]
    assert remote.daemon is not None and remote.daemon.running

    # `status --host` computes the same thing from the same store, with host-c's scope.
    listed = json.loads(viewer.cli("--json", "status", "--host", "host-c").stdout)
    assert [p["procedure"] for p in listed["procedures"]] == ["pulse"]
    assert listed["daemon"]["running"] and listed["host"] == "host-c"

    status, text = viewer.get("/fleet/metrics")
    for name in ("host-a", "host-b", "host-c"):
        assert f'hostkeeper_fleet_host_state{{host="{name}",state="running"}} 1' in text


def _told(receiver: Receiver) -> list[tuple[str, str, str]]:
    return [(b["host"], b["rule"], b["kind"]) for b in receiver.bodies()]


def test_one_of_three_watchers_notifies_once_per_silent_host_after_the_holder_is_killed(
    fleet: Fleet, receiver: Receiver
) -> None:
    watchers = [fleet.add(name, watch=True, receiver=receiver.url) for name in ("w1", "w2", "w3")]
    plain = fleet.add("plain")
    fleet.start_all()
    fleet.wait_all_running(watchers[0])

    def holder() -> str | None:
        holding = [
            w.name
            for w in watchers
            if w.daemon is not None
            and any(
                e.get("event") == "watching the fleet for silent hosts" for e in w.daemon.events()
            )
        ]
        return holding[0] if len(holding) == 1 else None

    first = wait_until(holder, timeout=30, what="one watcher holding the lease")
    killed = fleet.members[first]
    assert killed.daemon is not None and plain.daemon is not None
    killed.daemon.send(signal.SIGKILL)
    killed.daemon.wait()
    assert plain.daemon.stop() == 0

    expected = {(first, "host_silent", "firing"), ("plain", "host_silent", "firing")}
    wait_until(lambda: set(_told(receiver)) >= expected, timeout=60, what="both silent hosts told")
    survivors = [w for w in watchers if w.name != first]
    took_over = [
        w.name
        for w in survivors
        if w.daemon is not None
        and any(e.get("event") == "watching the fleet for silent hosts" for e in w.daemon.events())
    ]
    assert len(took_over) == 1

    # The plain host comes back: it is told heard again, in a later round than the firing
    # ones, so by then a second watcher notifying, or one notifying twice, would show.
    fleet.start(plain)
    resolved = ("plain", "host_silent", "resolved")
    wait_until(lambda: resolved in _told(receiver), timeout=60, what="plain heard again")
    assert sorted(_told(receiver)) == sorted([*expected, resolved])
    view = survivors[0].fleet()
    states = {h["host"]: h["state"] for h in view["hosts"]}
    assert states == {first: "silent", "plain": "running", **{w.name: "running" for w in survivors}}
    firing = {h["host"]: h["alerts_firing"]["critical"] for h in view["hosts"]}
    assert firing == {first: 1, "plain": 0, **{w.name: 0 for w in survivors}}
