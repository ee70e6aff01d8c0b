"""One pass of the silence keeper against the real Alertmanager: it creates a window's
silence, extends it when its end comes near, makes it again when someone deleted it in
Alertmanager, and deletes it when the window is over."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alerting_peers import Alertmanager, alertmanager

from hostkeeper.adapters.store import Store, window_silences
from hostkeeper.adapters.store import windows as window_store
from hostkeeper.adapters.store.windows import NewWindow
from hostkeeper.alerting.silences import sync_silences
from hostkeeper.config import Config
from hostkeeper.core.silence_plan import HORIZON, SilenceAction
from hostkeeper.core.windows import WindowKind
from hostkeeper.services.store_setup import prepare_store


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Alertmanager]:
    with alertmanager(tmp_path / "am") as running:
        yield running


@pytest.fixture
def setup(
    make_config: Callable[..., Config], manager: Alertmanager
) -> Iterator[tuple[Config, Store]]:
    config = make_config(
        alerts={
            "rules": [{"name": "disk_low", "when": "health_score < 50"}],
            "channels": [
                {"name": "am", "type": "alertmanager", "url": manager.url, "timeout": "5s"},
                {"name": "quiet", "type": "alertmanager", "url": manager.url, "silence": False},
            ],
        }
    )
    store = prepare_store(config)
    yield config, store
    store.dispose()


def silences(manager: Alertmanager) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{manager.url}/api/v2/silences", timeout=5) as response:  # noqa: S310 (loopback)
        found: list[dict[str, Any]] = json.load(response)
    return {silence["id"]: silence for silence in found}


def expire_by_hand(manager: Alertmanager, silence_id: str) -> None:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{manager.url}/api/v2/silence/{silence_id}", method="DELETE"
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310 (loopback)
        pass


def ends(silence: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(silence["endsAt"].replace("Z", "+00:00"))


def near_its_end(store: Store, window_id: int, now: datetime) -> None:
    """Make the stored silence look as if its end were ten minutes away."""
    [row] = window_silences.silences_of(store, [window_id])
    soon = replace(row.record, ends_at=now + timedelta(minutes=10))
    window_silences.save_silence(store, window_id, row.channel, soon, now)


def test_a_silence_is_created_extended_made_again_and_deleted(
    setup: tuple[Config, Store], manager: Alertmanager
) -> None:
    config, store = setup
    now = datetime.now(UTC)
    window_id = window_store.open_window(
        store, NewWindow(WindowKind.ADHOC, now, now + timedelta(hours=3), reason="rack move")
    )

    [created] = sync_silences(config, store, now)
    assert (created.channel, created.action, created.error) == ("am", SilenceAction.CREATE, None)
    made = silences(manager)[created.silence_id or ""]
    assert made["status"]["state"] == "active" and "rack move" in made["comment"]
    assert abs(ends(made) - (now + HORIZON)) < timedelta(seconds=1)
    assert sync_silences(config, store, now + timedelta(minutes=1)) == []  # nothing due

    # Later, as the daemon would: the silence keeps its id and its start, only ends later.
    near_its_end(store, window_id, now)
    later = now + timedelta(minutes=1)
    [extended] = sync_silences(config, store, later)
    assert extended.action is SilenceAction.EXTEND and extended.silence_id == created.silence_id
    assert len(silences(manager)) == 1
    kept = silences(manager)[created.silence_id or ""]
    assert abs(ends(kept) - (later + HORIZON)) < timedelta(seconds=1)
    assert kept["startsAt"] == made["startsAt"]

    expire_by_hand(manager, created.silence_id or "")
    near_its_end(store, window_id, now)
    [again] = sync_silences(config, store, now)
    assert again.action is SilenceAction.EXTEND and again.error is None
    assert again.silence_id != created.silence_id
    assert silences(manager)[again.silence_id or ""]["status"]["state"] == "active"

    window_store.close_window(store, window_id, now)  # no grace: over at once
    [deleted] = sync_silences(config, store, now + timedelta(seconds=1))
    assert deleted.action is SilenceAction.DELETE and deleted.error is None
    states = {sid: s["status"]["state"] for sid, s in silences(manager).items()}
    assert states == {created.silence_id: "expired", again.silence_id: "expired"}
    assert sync_silences(config, store, now + timedelta(seconds=2)) == []
