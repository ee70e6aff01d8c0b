"""JSON over HTTP (urllib), shared by the webhook and Alertmanager channels (its alerts
and its silences).

5xx, 408 and 429 replies and network errors are transient; other 4xx replies,
redirects (never followed: they would carry the credentials elsewhere) and malformed
URLs are permanent. `timeout` bounds the whole attempt, not each read. Credentials in
the URL (`https://user:pass@host/...`) are sent as HTTP basic auth; no error text names
them, nor the URL's query values, token-like path segments or, for a channel with
`secret_path: true`, its path.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from hostkeeper import __version__
from hostkeeper.channels.base import DeliveryError, permanent, transient
from hostkeeper.channels.deadline import AttemptDeadline
from hostkeeper.core.redact import redact_text, redact_url

_TRANSIENT_STATUS = {408, 425, 429}


@dataclass(frozen=True)
class Target:
    """A URL split into what is requested, its basic-auth header, and what may be shown."""

    url: str
    authorization: str | None
    shown: str
    secrets: tuple[str, ...]


def split_credentials(url: str, secret_path: bool = False) -> Target:
    """The URL without its userinfo, the basic-auth header it implies, and its redacted
    form; with `secret_path`, the URL's path is a credential too and never shown."""
    hidden: list[str] = []
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:
        return Target(url, None, redact_url(url), ())
    if secret_path and len(parts.path) > 1:
        hidden.append(parts.path)
    authorization = None
    if username is not None or password is not None:
        user, secret = unquote(username or ""), unquote(password or "")
        hidden += [user, secret, username or "", password or ""]
        pair = f"{user}:{secret}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        netloc = parts.netloc.rpartition("@")[2]
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    shown = redact_url(url, hidden)
    if secret_path and len(parts.path) > 1:
        shown = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], "/***", "", ""))
    return Target(url, authorization, shown, tuple(hidden))


def post_json(
    url: str,
    body: Any,
    timeout: float,
    headers: dict[str, str] | None = None,
    secret_path: bool = False,
) -> str:
    """POST `body` as JSON; `HTTP <status>` on success, DeliveryError otherwise."""
    status, _ = request_json("POST", url, body, timeout, headers, secret_path)
    return f"HTTP {status}"


def request_json(
    method: str,
    url: str,
    body: Any,
    timeout: float,
    headers: dict[str, str] | None = None,
    secret_path: bool = False,
) -> tuple[int, Any]:
    """Send `body` (None: no body) as JSON with `method`; (status, the decoded answer, or
    None when it is empty or not JSON). Raises DeliveryError, transient or not."""
    target = split_credentials(url, secret_path)
    try:
        status, answer = _send(target, method, body, timeout, headers or {})
    except DeliveryError as error:
        # Whatever a library put into the text, it leaves here redacted.
        raise DeliveryError(
            redact_text(str(error), target.secrets), transient=error.transient
        ) from None
    try:
        return status, json.loads(answer) if answer.strip() else None
    except ValueError:
        return status, None


def _send(
    target: Target, method: str, body: Any, timeout: float, headers: dict[str, str]
) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body, default=str).encode()
    try:
        request = urllib.request.Request(target.url, data=data, method=method)  # noqa: S310 (http/https only, checked by the config)
    except ValueError as error:
        raise permanent(f"{target.shown}: {error}") from None
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", f"hostkeeper/{__version__}")
    if target.authorization and not any(k.lower() == "authorization" for k in headers):
        request.add_header("Authorization", target.authorization)
    for name, value in headers.items():
        request.add_header(name, value)
    shown = target.shown
    with AttemptDeadline(timeout) as deadline:
        opener = urllib.request.build_opener(
            _NoRedirects(), _DeadlineHTTPHandler(deadline), _DeadlineHTTPSHandler(deadline)
        )
        try:
            with opener.open(request, timeout=timeout) as response:
                answer: bytes = response.read(65536)  # within the deadline too
                if deadline.expired:
                    raise transient(f"{shown}: no complete answer within {timeout:g}s")
                return int(response.status), answer
        except DeliveryError:
            raise
        except urllib.error.HTTPError as error:
            detail = _snippet(error)
            text = f"HTTP {error.code} from {shown}" + (f": {detail}" if detail else "")
            if 300 <= error.code < 400:
                text += " (redirects are not followed)"
            retry = error.code >= 500 or error.code in _TRANSIENT_STATUS
            raise DeliveryError(text, transient=retry) from None
        except Exception as error:  # every failure becomes a DeliveryError
            if deadline.expired:
                raise transient(f"{shown}: no complete answer within {timeout:g}s") from None
            raise _classify(error, shown, timeout) from None


def _classify(error: Exception, shown: str, timeout: float) -> DeliveryError:
    if isinstance(error, urllib.error.URLError):
        reason = error.reason
        if isinstance(reason, str) and "unknown url type" in reason:
            return permanent(f"{shown}: {reason}")
        return transient(f"{shown}: {reason}")
    if isinstance(error, TimeoutError):
        return transient(f"{shown}: no answer within {timeout:g}s")
    if isinstance(error, (ConnectionError, OSError, http.client.HTTPException)):
        return transient(f"{shown}: {error or type(error).__name__}")
    if isinstance(error, ValueError):
        return permanent(f"{shown}: {error}")
    return permanent(f"{shown}: {type(error).__name__}: {error}")


def _snippet(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read(300).decode(errors="replace").strip()
    except (OSError, http.client.HTTPException):
        return ""
    return " ".join(body.split())[:200]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, deadline: AttemptDeadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, deadline: AttemptDeadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: AttemptDeadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_WatchedHTTPConnection, deadline=self._deadline), req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: AttemptDeadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(partial(_WatchedHTTPSConnection, deadline=self._deadline), req)
