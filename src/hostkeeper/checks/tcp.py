"""`tcp`: ok when a TCP connection to host:port opens within the timeout.

Refused, reset, unreachable or timed out: critical (the service is not reachable). A
host name that does not resolve: unknown, as in Nagios' check_tcp (the check could not
tell whether the service is up).
"""

from __future__ import annotations

import socket
import time

from hostkeeper.checks import CheckUnavailable
from hostkeeper.config.checks import TcpCheck
from hostkeeper.core.health import CheckState, Measurement

TYPE = "tcp"
CONFIG = TcpCheck


def measure(check: TcpCheck, timeout: float) -> Measurement:
    target = f"{check.host}:{check.port}"
    started = time.monotonic()
    try:
        connection = socket.create_connection((check.host, check.port), timeout=timeout)
    except socket.gaierror as error:
        raise CheckUnavailable(f"cannot resolve {check.host}: {error.strerror}") from None
    except TimeoutError:
        return Measurement(CheckState.CRITICAL, f"{target}: no connection within {timeout:g}s")
    except OSError as error:
        return Measurement(CheckState.CRITICAL, f"{target}: {error.strerror or error}")
    seconds = time.monotonic() - started
    connection.close()
    return Measurement(
        CheckState.OK,
        f"{target} accepted a connection in {seconds * 1000:.1f} ms",
        value=round(seconds, 4),
        unit="s",
    )
