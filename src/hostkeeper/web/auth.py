"""Who may read the dashboard: the bearer token, its file, and the login cookie.

The token lives in a file: `dashboard.token_file`, or `state_dir/dashboard.token`,
created with mode 0600 on first start when none is configured. It is read again
whenever the file changes (checked on every request, by inode, size and mtime), so a
changed token takes effect at once and a removed file refuses every request until a
reload makes a new one (the default file) or the file is back (a configured one).

A client shows the token as `Authorization: Bearer TOKEN` (Prometheus:
`authorization: {credentials_file: ...}`) or as the cookie set by `/login?token=TOKEN`
(`hostkeeper dashboard url` prints that address): HttpOnly, SameSite=Strict.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import quote

from hostkeeper.config import Config

DEFAULT_FILE_NAME = "dashboard.token"
MIN_TOKEN_LENGTH = 16
MAX_TOKEN_FILE_BYTES = 4096
COOKIE_NAME = "hostkeeper_token"
LOGIN_PATH = "/login"


class TokenUnavailable(Exception):
    """The token file is missing, unreadable or holds no usable token."""


def token_path(config: Config) -> Path:
    """Where the dashboard's token is: the configured file or the one under state_dir."""
    configured = config.dashboard.token_file
    return Path(configured) if configured else Path(config.paths.state_dir) / DEFAULT_FILE_NAME


def create_default_token(path: Path) -> bool:
    """Write a new random token to `path` (mode 0600) unless it exists; True if written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return False
    try:
        os.write(fd, (secrets.token_urlsafe(32) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def read_token(path: Path) -> str:
    """The token in `path`; raises TokenUnavailable saying why (never the token)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        raise TokenUnavailable(
            f"cannot read the dashboard token {path}: {error.strerror}"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise TokenUnavailable(f"the dashboard token {path} is not a regular file")
        data = os.read(fd, MAX_TOKEN_FILE_BYTES)
    finally:
        os.close(fd)
    token = data.decode("utf-8", errors="replace").strip()
    if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() or not c.isprintable() for c in token):
        raise TokenUnavailable(
            f"the dashboard token in {path} is not one word of at least "
            f"{MIN_TOKEN_LENGTH} characters"
        )
    return token


@dataclass(frozen=True)
class _Seen:
    identity: tuple[int, int, int, int]  # device, inode, size, mtime in ns
    token: str


class TokenSource:
    """The current token of one file, reread when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: _Seen | None = None
        self._lock = threading.Lock()

    def current(self) -> str:
        """The token; raises TokenUnavailable when there is none to accept."""
        try:
            info = os.stat(self.path, follow_symlinks=False)
        except OSError as error:
            raise TokenUnavailable(
                f"cannot read the dashboard token {self.path}: {error.strerror}"
            ) from None
        identity = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
        with self._lock:
            if self._seen is not None and self._seen.identity == identity:
                return self._seen.token
        token = read_token(self.path)
        with self._lock:
            self._seen = _Seen(identity, token)
        return token


def is_authorized(authorization: str | None, cookie_header: str | None, token: str) -> bool:
    """Whether a request shows `token`: as its bearer token, or through the login cookie.
    Compared in constant time, so the time taken says nothing about the token."""
    if authorization is not None:
        scheme, _, value = authorization.partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else ""
        return hmac.compare_digest(presented.encode(), token.encode())
    if cookie_header:
        cookies: SimpleCookie = SimpleCookie()
        with contextlib.suppress(CookieError):
            cookies.load(cookie_header)
        morsel = cookies.get(COOKIE_NAME)
        if morsel is not None:
            return hmac.compare_digest(morsel.value.encode(), cookie_value(token).encode())
    return False


def cookie_value(token: str) -> str:
    """What the login cookie holds: derived from the token (so a new token logs every
    browser out), in cookie-safe characters, and not the token itself."""
    return hmac.new(token.encode(), b"hostkeeper dashboard login", hashlib.sha256).hexdigest()


def login_cookie(token: str) -> str:
    """The Set-Cookie value that keeps a browser logged in for its session."""
    return f"{COOKIE_NAME}={cookie_value(token)}; Path=/; HttpOnly; SameSite=Strict"


def login_url(base_url: str, token: str) -> str:
    """The address that logs a browser in: `/login?token=...` on the dashboard."""
    return base_url.rstrip("/") + f"{LOGIN_PATH}?token={quote(token, safe='')}"
