"""Who runs this command: the person to record with a note, a window or an incident."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping


def invoking_user(environ: Mapping[str, str] | None = None, euid: int | None = None) -> str:
    """The login behind this process: `SUDO_USER` when sudo switched to another user (as
    `sudo hostkeeper note ...` does), else the effective user's name."""
    environ = os.environ if environ is None else environ
    euid = os.geteuid() if euid is None else euid
    effective = _name_of(euid)
    through_sudo = environ.get("SUDO_USER", "").strip()
    if through_sudo and through_sudo != effective:
        return through_sudo
    return effective


def _name_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry (a container, a deleted user)
        return f"uid {uid}"
