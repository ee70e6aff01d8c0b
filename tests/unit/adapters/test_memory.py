"""Freed memory goes back to the system when the daemon asks."""

from __future__ import annotations

import platform
import resource

import pytest

from hostkeeper.adapters.memory import release_free_memory

glibc_only = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's; elsewhere nothing is asked"
)


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


@glibc_only
def test_memory_freed_below_a_live_block_is_returned() -> None:
    # 48 MiB in 1 KiB blocks (malloc's heap, not mmap), then one block above them that
    # stays: freeing the rest leaves a hole malloc keeps, since it only gives back on
    # its own what lies at the top of the heap.
    blocks = [bytes(1024) for _ in range(48 * 1024)]
    pinned = bytes(1024)
    del blocks
    before = _resident_mib()
    assert release_free_memory() is True
    after = _resident_mib()
    assert before - after > 24, (before, after)
    assert len(pinned) == 1024
