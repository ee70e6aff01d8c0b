"""Human-readable log files beside the journal: one per procedure and day, one per
`validate-system`.

    log_dir/maintenance/PROCEDURE_maintenance_YYYYMMDD.log
    log_dir/validation/validation_YYYYMMDD_HHMMSS.log

`LineLog` appends whole lines: the file is opened with O_APPEND and each line is one
write(2), so `tail -f` sees every line as soon as it is written and two writers never
interleave inside a line. Before each line it checks that the path still names the file
it holds; after a rotation (the file renamed or removed) it opens the new one, so a line
lands in the rotated file or in the new one, never nowhere. Files are created 0640 and
never left readable by others.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

MAINTENANCE = "maintenance"
VALIDATION = "validation"
FILE_MODE = 0o640
DIRECTORY_MODE = 0o750
DAY_LOG = re.compile(r"(?P<procedure>.+)_maintenance_(?P<day>\d{8})\.log(?:\.gz)?")


def maintenance_log_path(log_dir: str | Path, procedure: str, day: date) -> Path:
    return Path(log_dir) / MAINTENANCE / f"{procedure}_maintenance_{day:%Y%m%d}.log"


def validation_log_path(log_dir: str | Path, at: datetime) -> Path:
    return Path(log_dir) / VALIDATION / f"validation_{at:%Y%m%d_%H%M%S}.log"


@dataclass(frozen=True)
class DayLogFile:
    path: Path
    procedure: str
    day: date
    size: int


def maintenance_logs(
    log_dir: str | Path, procedure: str | None = None, day: date | None = None
) -> list[DayLogFile]:
    """The per-day logs under log_dir/maintenance (plain or gzipped), of `procedure` and
    `day` when given, newest day first, then by procedure."""
    folder = Path(log_dir) / MAINTENANCE
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for entry in entries:
        match = DAY_LOG.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            when = datetime.strptime(match["day"], "%Y%m%d").date()
        except ValueError:
            continue
        if (procedure is None or match["procedure"] == procedure) and (day in (None, when)):
            size = entry.stat(follow_symlinks=False).st_size
            found.append(DayLogFile(Path(entry.path), match["procedure"], when, size))
    return sorted(found, key=lambda f: (-f.day.toordinal(), f.procedure, f.path.name))


class LineLog:
    """Appends lines to `path`, reopening it after a rotation.

    Raises OSError from the constructor when the file cannot be opened (a missing or
    read-only log_dir); `write` raises OSError too. Callers that must not fail over a log
    file catch it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._open()

    def write(self, line: str) -> None:
        """Append `line` (a newline is added) as one write."""
        data = (line.rstrip("\n") + "\n").encode("utf-8", errors="replace")
        with self._lock:
            if self._fd is None or self._rotated():
                self._reopen()
            assert self._fd is not None
            view = memoryview(data)
            while view:  # a regular file takes it all at once, but a signal may split it
                written = os.write(self._fd, view)
                view = view[written:]

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> LineLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _rotated(self) -> bool:
        try:
            current = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return True
        return (current.st_dev, current.st_ino) != self._identity

    def _reopen(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        self._open()

    def _open(self) -> None:
        self.path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW
        created = True
        try:
            fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            created = False
            fd = os.open(self.path, flags)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EINVAL, "not a regular file", str(self.path))
            mode = stat.S_IMODE(info.st_mode)
            if created and mode != FILE_MODE:  # the umask may have taken bits away
                os.fchmod(fd, FILE_MODE)
            elif mode & 0o007 and info.st_uid == os.geteuid():
                os.fchmod(fd, mode & ~0o007)  # never readable by all, whoever opened it up
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        self._identity = (info.st_dev, info.st_ino)
