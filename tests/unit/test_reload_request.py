"""Which recorded reload attempt answers a waiter, and where the verb looks for it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.daemon_state import is_daemon_process
from hostkeeper.adapters.reload_request import answer, state_dir_of

SIGNALLED = 5_000_000


def state(pid: int = 42, started: int | None = SIGNALLED, **attempt: Any) -> dict[str, Any]:
    reload = None
    if started is not None:
        reload = {"sequence": 3, "started_monotonic_usec": started, "result": "ok"} | attempt
    return {"pid": pid, "reload": reload}


def test_an_attempt_that_began_after_the_signal_answers_it() -> None:
    recorded = state(started=SIGNALLED + 1)

    assert answer(recorded, 42, SIGNALLED) == recorded["reload"]


def test_an_attempt_that_began_as_the_signal_was_sent_answers_it() -> None:
    assert answer(state(started=SIGNALLED), 42, SIGNALLED) is not None


def test_an_attempt_under_way_before_the_signal_does_not_answer_it() -> None:
    # Finished after the signal, but it read the file before the waiter's edit may have.
    recorded = state(started=SIGNALLED - 1, finished_at="later", result="failed")

    assert answer(recorded, 42, SIGNALLED) is None


@pytest.mark.parametrize(
    "recorded",
    [
        pytest.param(None, id="no state file"),
        pytest.param(state(started=None), id="no reload yet"),
        pytest.param(state(pid=43, started=SIGNALLED + 1), id="another daemon's state"),
        pytest.param({"pid": 42, "reload": {"result": "ok"}}, id="no start time"),
    ],
)
def test_no_answer_without_an_attempt_of_this_daemon(recorded: dict[str, Any] | None) -> None:
    assert answer(recorded, 42, SIGNALLED) is None


def test_state_dir_comes_from_a_valid_file(tmp_path: Path) -> None:
    config = tmp_path / "hostkeeper.yaml"
    config.write_text(f"version: 1\npaths:\n  state_dir: {tmp_path / 'state'}\n")

    assert state_dir_of(str(config)) == str(tmp_path / "state")


def test_state_dir_comes_from_a_file_the_daemon_would_refuse(tmp_path: Path) -> None:
    config = tmp_path / "hostkeeper.yaml"
    config.write_text(
        f"version: 1\npaths:\n  state_dir: {tmp_path / 'state'}\ndaemon:\n  bogus: 1\n"
    )

    assert state_dir_of(str(config)) == str(tmp_path / "state")


@pytest.mark.parametrize("text", ["paths: [unclosed\n", "just a string\n", "paths: {}\n"])
def test_state_dir_defaults_when_the_file_does_not_say(tmp_path: Path, text: str) -> None:
    config = tmp_path / "hostkeeper.yaml"
    config.write_text(text)

    assert state_dir_of(str(config)) == "/var/lib/hostkeeper"


@pytest.fixture
def process() -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> int:
        child = subprocess.Popen([*argv])
        started.append(child)
        return child.pid

    yield start
    for child in started:
        child.kill()
        child.wait()


def test_a_hostkeeper_daemon_is_recognised_by_its_arguments(process: Any) -> None:
    sleeper = "import time; time.sleep(60)"
    daemon = process(sys.executable, "-c", sleeper, "--config", "x.yaml", "hostkeeper", "daemon")
    other_verb = process(sys.executable, "-c", sleeper, "hostkeeper", "reload")
    named_alike = process(sys.executable, "-c", sleeper, "/srv/hostkeeper-daemon")

    assert is_daemon_process(daemon)
    assert not is_daemon_process(other_verb)
    assert not is_daemon_process(named_alike)
    assert not is_daemon_process(os.getpid())
    assert not is_daemon_process(0)
