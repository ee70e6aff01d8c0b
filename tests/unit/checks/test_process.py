"""`process` checks against real subprocesses."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import psutil
import pytest

from hostkeeper.checks import measure
from hostkeeper.checks.process import matching_pids
from hostkeeper.core.health import CheckState

from .peers import make_check


@pytest.fixture
def sleeper() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A running `sleep` whose argument no other process has."""
    argument = f"300.{uuid.uuid4().int % 10**9:09d}"
    process = subprocess.Popen(["sleep", argument])
    yield f"sleep {argument}", process
    process.kill()
    process.wait()


def test_a_matching_process_satisfies_min_one(
    sleeper: tuple[str, subprocess.Popen[bytes]],
) -> None:
    match, process = sleeper
    measurement = measure(make_check(type="process", match=match), timeout=10)
    assert measurement.state is CheckState.OK
    assert measurement.value == 1.0
    assert f"pid {process.pid}" in measurement.detail


def test_fewer_than_min_is_critical(sleeper: tuple[str, subprocess.Popen[bytes]]) -> None:
    match, _ = sleeper
    measurement = measure(make_check(type="process", match=match, min=2), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert measurement.value == 1.0


def test_more_than_max_is_critical(sleeper: tuple[str, subprocess.Popen[bytes]]) -> None:
    match, _ = sleeper
    check = make_check(type="process", match=match, min=0, max=0)
    assert measure(check, timeout=10).state is CheckState.CRITICAL


def test_no_matching_process_is_critical_and_ended_processes_do_not_count(
    sleeper: tuple[str, subprocess.Popen[bytes]],
) -> None:
    match, process = sleeper
    process.kill()
    process.wait()
    measurement = measure(make_check(type="process", match=match), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert measurement.value == 0.0


def test_the_checking_process_itself_is_not_counted() -> None:
    own_command_line = " ".join(psutil.Process().cmdline())
    assert os.getpid() not in matching_pids(own_command_line)
