from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hostkeeper.adapters.locks import FileLock, LockHeld

HoldLock = Callable[[Path], subprocess.Popen[str]]


def test_lock_records_the_holder_pid_and_clears_it_on_release(tmp_path: Path) -> None:
    import os

    path = tmp_path / "locks" / "p.lock"
    with FileLock(path):
        assert path.read_text() == f"{os.getpid()}\n"
    assert path.read_text() == ""


def test_lock_held_by_another_process_raises_with_its_pid(
    tmp_path: Path, hold_lock: HoldLock
) -> None:
    path = tmp_path / "p.lock"
    holder = hold_lock(path)
    with pytest.raises(LockHeld) as caught, FileLock(path):
        pass
    assert caught.value.holder == f"pid {holder.pid}"
    assert str(path) in str(caught.value)


def test_lock_is_free_again_after_the_holder_releases_it(
    tmp_path: Path, hold_lock: HoldLock
) -> None:
    path = tmp_path / "p.lock"
    holder = hold_lock(path)
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=10)
    with FileLock(path):
        pass


def test_lock_of_a_killed_holder_is_released_by_the_kernel(
    tmp_path: Path, hold_lock: HoldLock
) -> None:
    path = tmp_path / "p.lock"
    holder = hold_lock(path)
    holder.kill()
    holder.wait(timeout=10)
    with FileLock(path):
        pass


def test_two_locks_on_one_file_exclude_each_other_within_a_process(tmp_path: Path) -> None:
    path = tmp_path / "p.lock"
    with FileLock(path), pytest.raises(LockHeld):
        FileLock(path).acquire()


def test_blocking_lock_waits_for_the_holder(tmp_path: Path, hold_lock: HoldLock) -> None:
    path = tmp_path / "p.lock"
    holder = hold_lock(path)
    acquired = threading.Event()

    def wait_for_lock() -> None:
        with FileLock(path, blocking=True):
            acquired.set()

    waiter = threading.Thread(target=wait_for_lock)
    waiter.start()
    time.sleep(0.3)
    assert not acquired.is_set()
    assert holder.stdin is not None
    holder.stdin.close()
    waiter.join(timeout=10)
    assert acquired.is_set()


def test_lock_does_not_follow_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    link = tmp_path / "p.lock"
    link.symlink_to(target)
    with pytest.raises(OSError), FileLock(link):
        pass
    assert target.read_text() == "keep"
