"""`file_age`: age of the newest regular file at or under `path`.

The walk never follows symbolic links (neither to files nor into directories), so a link
pointing elsewhere cannot make a stale tree look fresh, and stops at the check's timeout.
No file at all (missing path, empty directory) is critical: a freshness check exists to
notice that the files stopped coming. A path that cannot be read is unknown.
"""

from __future__ import annotations

import os
import stat
import time

from hostkeeper.checks import CheckUnavailable
from hostkeeper.checks.units import format_age
from hostkeeper.config.checks import FileAgeCheck
from hostkeeper.core.health import CheckState, Measurement, state_for_high

TYPE = "file_age"
CONFIG = FileAgeCheck


def measure(check: FileAgeCheck, timeout: float) -> Measurement:
    try:
        top = os.lstat(check.path)
    except FileNotFoundError:
        return Measurement(CheckState.CRITICAL, f"{check.path} does not exist")
    except OSError as error:
        raise CheckUnavailable(f"cannot read {check.path}: {error.strerror}") from None
    if stat.S_ISREG(top.st_mode):
        newest: tuple[float, str] | None = (top.st_mtime, check.path)
    elif stat.S_ISDIR(top.st_mode):
        newest = newest_file(check.path, time.monotonic() + timeout)
    else:
        raise CheckUnavailable(f"{check.path} is neither a regular file nor a directory")
    if newest is None:
        return Measurement(CheckState.CRITICAL, f"no files under {check.path}")
    mtime, path = newest
    age = max(time.time() - mtime, 0.0)
    return Measurement(
        state_for_high(age, check.warning.total_seconds(), check.critical.total_seconds()),
        f"newest file {path} is {format_age(age)} old",
        value=round(age, 1),
        unit="s",
    )


def newest_file(root: str, deadline: float) -> tuple[float, str] | None:
    """(mtime, path) of the newest regular file under `root`, links not followed.

    Raises CheckUnavailable when `root` cannot be listed or the walk passes `deadline`;
    subdirectories that cannot be listed are skipped.
    """
    newest: tuple[float, str] | None = None
    pending = [root]
    first = True
    while pending:
        if time.monotonic() > deadline:
            raise CheckUnavailable(f"walking {root} took longer than the check's timeout")
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        mtime = entry.stat(follow_symlinks=False).st_mtime
                        if newest is None or mtime > newest[0]:
                            newest = (mtime, entry.path)
        except OSError as error:
            if first:
                raise CheckUnavailable(f"cannot list {root}: {error.strerror}") from None
        first = False
    return newest
