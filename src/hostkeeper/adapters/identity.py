"""Who is running this command: the name recorded with a confirmation or a manual run."""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping


def user_name(uid: int) -> str:
    """The login name of `uid`, or `uid N` when the password database has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def invoking_user(environ: Mapping[str, str] | None = None, uid: int | None = None) -> str:
    """The person behind this process: through sudo, the user who ran sudo (SUDO_USER),
    and the account sudo switched to when that is not root (`alice (as deploy)`);
    otherwise the login name of the real user id.

    SUDO_USER is an environment variable anyone can set, so it never hides the real
    account: a non-root process that claims another user is shown as that claim *as*
    itself.
    """
    environ = os.environ if environ is None else environ
    uid = os.getuid() if uid is None else uid
    account = user_name(uid)
    sudo_user = (environ.get("SUDO_USER") or "").strip()
    if not sudo_user or sudo_user == account:
        return account
    if uid == 0:
        return sudo_user
    return f"{sudo_user} (as {account})"
