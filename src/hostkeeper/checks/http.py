"""`http`: GET the URL and compare the response status with `expect_status`.

The status is the one the server gave: redirects are not followed (expect 301 to check a
redirect) and proxies from the environment are not used, so the check measures the
service itself. States: the expected status, ok; another status, a refused or reset
connection, a TLS failure or no response within the timeout, critical; a host name that
does not resolve, unknown (as in Nagios' check_http). The value is the time to the
response headers.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
from typing import Any

from hostkeeper import __version__
from hostkeeper.checks import CheckUnavailable
from hostkeeper.config.checks import HttpCheck
from hostkeeper.core.health import CheckState, Measurement

TYPE = "http"
CONFIG = HttpCheck


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # hand the 3xx response back as it is


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def measure(check: HttpCheck, timeout: float) -> Measurement:
    request = urllib.request.Request(  # noqa: S310 - the scheme is validated as http(s)
        check.url, headers={"User-Agent": f"hostkeeper/{__version__} (health check)"}
    )
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:  # a status >= 400 (or an unfollowed redirect)
        status = error.code
        error.close()
    except urllib.error.URLError as error:
        return _connection_failure(check, error.reason, timeout)
    except http.client.InvalidURL as error:
        raise CheckUnavailable(f"cannot request {check.url}: {error}") from None
    except (OSError, http.client.HTTPException) as error:
        return _connection_failure(check, error, timeout)
    seconds = time.monotonic() - started
    state = CheckState.OK if status == check.expect_status else CheckState.CRITICAL
    expected = "" if state is CheckState.OK else f", expected {check.expect_status}"
    return Measurement(
        state,
        f"HTTP {status} in {seconds * 1000:.0f} ms{expected}",
        value=round(seconds, 4),
        unit="s",
    )


def _connection_failure(check: HttpCheck, reason: object, timeout: float) -> Measurement:
    if isinstance(reason, socket.gaierror):
        raise CheckUnavailable(f"cannot resolve the host of {check.url}: {reason.strerror}")
    if isinstance(reason, TimeoutError):
        return Measurement(CheckState.CRITICAL, f"no response within {timeout:g}s")
    if isinstance(reason, ssl.SSLError):
        return Measurement(CheckState.CRITICAL, f"TLS failed: {reason}")
    if isinstance(reason, OSError):
        return Measurement(CheckState.CRITICAL, f"cannot connect: {reason.strerror or reason}")
    return Measurement(CheckState.CRITICAL, f"request failed: {reason}")
