"""Reading the credentials file (`paths.credentials_file`) for `run:` steps' `secret_env`.

Read at each run, so a rotated secret needs no reload. The file must be a regular file
(not a symlink) that no other user can read or write: hostkeeper refuses to hand out a
secret that is not kept secret.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence

from hostkeeper.core.envfile import parse_env_file

MAX_CREDENTIALS_BYTES = 1024 * 1024


class CredentialsError(Exception):
    """The credentials cannot be read; the message never holds a value."""


def read_credentials(path: str, names: Sequence[str]) -> dict[str, str]:
    """The values of `names` from the credentials file at `path`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        raise CredentialsError(f"cannot read credentials_file {path}: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CredentialsError(f"credentials_file {path} is not a regular file")
        if info.st_mode & (stat.S_IRWXO | stat.S_IWGRP):
            raise CredentialsError(
                f"credentials_file {path} is accessible to other users (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); chmod 600 it"
            )
        data = os.read(fd, MAX_CREDENTIALS_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_CREDENTIALS_BYTES:
        raise CredentialsError(f"credentials_file {path} is larger than 1 MiB")
    try:
        values = parse_env_file(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        reason = "it is not UTF-8" if isinstance(error, UnicodeDecodeError) else str(error)
        raise CredentialsError(f"credentials_file {path}: {reason}") from None
    missing = [name for name in names if name not in values]
    if missing:
        raise CredentialsError(
            f"credentials_file {path} has no {', '.join(missing)} (secret_env of the step)"
        )
    return {name: values[name] for name in names}
