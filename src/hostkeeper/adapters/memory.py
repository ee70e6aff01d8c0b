"""Handing memory the daemon has freed back to the system.

glibc's malloc keeps what a process frees, in the middle of its heaps as well as at the
top, and returns it only when asked (`malloc_trim`). A daemon that parses a large file
or runs a backup now and then would otherwise keep each peak's pages for as long as it
runs. Where the C library has no such call (musl), there is nothing to ask.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Ask malloc to return the free pages it holds; whether it released any (False as
    well where the C library cannot be asked). Takes well under a millisecond."""
    return _TRIM is not None and _TRIM(0) == 1
