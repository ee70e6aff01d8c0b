"""The report files under report_dir, listed for the dashboard and served read-only.

Only `report_dir/FOLDER/NAME.html|json` is ever served: the two names are checked
against strict patterns, and both are opened without following a symlink (the folder
relative to report_dir, on report_dir's filesystem), so a request cannot reach any
other file.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from hostkeeper.adapters.fs import UnsafeRoot, open_root, open_subdirectory

FOLDER = re.compile(r"[a-z][a-z0-9_]{0,40}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,120}\.(html|json)")
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "json": "application/json"}
MAX_BYTES = 32 * 1024 * 1024  # reports are far smaller; this bounds a mistake
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


@dataclass(frozen=True)
class ReportFile:
    folder: str
    name: str
    size: int
    modified: datetime

    @property
    def url(self) -> str:
        return f"/reports/{self.folder}/{self.name}"


def list_reports(report_dir: str | Path, per_folder: int = 30) -> dict[str, list[ReportFile]]:
    """The newest `per_folder` reports of each folder, newest first; {} if none."""
    try:
        root_fd = open_root(report_dir)
    except (UnsafeRoot, OSError):
        return {}
    found: dict[str, list[ReportFile]] = {}
    try:
        device = os.fstat(root_fd).st_dev
        with os.scandir(root_fd) as entries:
            folders = sorted(
                e.name
                for e in entries
                if e.is_dir(follow_symlinks=False) and FOLDER.fullmatch(e.name)
            )
        for folder in folders:
            try:
                folder_fd = open_subdirectory(root_fd, folder, device)
            except OSError:
                continue
            try:
                reports = _reports_in(folder_fd, folder)
            finally:
                os.close(folder_fd)
            reports.sort(key=lambda report: (report.modified, report.name), reverse=True)
            if reports:
                found[folder] = reports[:per_folder]
    finally:
        os.close(root_fd)
    return found


def _reports_in(folder_fd: int, folder: str) -> list[ReportFile]:
    reports = []
    with os.scandir(folder_fd) as entries:
        for entry in entries:
            if not (entry.is_file(follow_symlinks=False) and NAME.fullmatch(entry.name)):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            modified = datetime.fromtimestamp(info.st_mtime, UTC)
            reports.append(ReportFile(folder, entry.name, info.st_size, modified))
    return reports


def read_report(report_dir: str | Path, folder: str, name: str) -> tuple[bytes, str] | None:
    """The bytes and content type of report_dir/folder/name, or None if it is not a
    report (bad name, missing, a symlink, not a regular file, too large)."""
    match = NAME.fullmatch(name)
    if match is None or FOLDER.fullmatch(folder) is None:
        return None
    try:
        root_fd = open_root(report_dir)
    except (UnsafeRoot, OSError):
        return None
    try:
        folder_fd = open_subdirectory(root_fd, folder, os.fstat(root_fd).st_dev)
        try:
            fd = os.open(name, READ_FLAGS, dir_fd=folder_fd)
        finally:
            os.close(folder_fd)
    except OSError:
        return None
    finally:
        os.close(root_fd)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return None
        return handle.read(MAX_BYTES), CONTENT_TYPES[match[1]]
