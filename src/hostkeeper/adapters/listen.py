"""Whether the dashboard's listen address can be bound on this host (`config validate`)."""

from __future__ import annotations

import errno
import socket


def bind_problem(host: str, port: int) -> str | None:
    """Why a server could never listen on host:port here, or None.

    A probe socket is bound to the host on a free port and closed at once. The port
    itself is not tried: a port in use is a state of the moment (and is the running
    daemon's own while it serves it), and one below 1024 depends on who validates.
    """
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        return f"{host!r} does not resolve to an address of this host: {reason}"
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this host"
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return None
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None
