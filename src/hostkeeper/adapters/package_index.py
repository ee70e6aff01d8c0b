"""Newest releases from a package index's simple API (PyPI or a mirror; http(s):// or
file://), a handful of pages at a time.

An index that cannot be reached ends the whole lookup with IndexUnreachable (one clear
warning for the audit, not one per package); a project the index does not have (404)
is simply not reported as outdated.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from packaging.version import Version

from hostkeeper.core.package_index import (
    JSON_TYPE,
    IndexPageError,
    newest_release,
    versions_on_page,
)

MAX_PAGE_BYTES = 16 * 1024 * 1024
WORKERS = 8
_ACCEPT = f"{JSON_TYPE}, text/html;q=0.1"


class IndexUnreachable(Exception):
    """The index did not answer (refused, no route, name not found, timed out)."""


def newer_versions(
    index_url: str, installed: Mapping[str, str], timeout: float
) -> dict[str, Version]:
    """Canonical name -> the newest release above the installed version, for each
    installed distribution that has one. Raises IndexUnreachable."""
    base = index_url if index_url.endswith("/") else index_url + "/"
    names = sorted(installed)
    if not names:
        return {}
    # The first page alone tells whether the index answers at all.
    first = _newest(base, names[0], installed[names[0]], timeout)
    found = {names[0]: first} if first is not None else {}
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="index") as pool:
        futures = {
            name: pool.submit(_newest, base, name, installed[name], timeout) for name in names[1:]
        }
        try:
            for name, future in futures.items():
                newest = future.result()
                if newest is not None:
                    found[name] = newest
        except IndexUnreachable:
            for future in futures.values():
                future.cancel()
            raise
    return found


def _newest(base: str, name: str, installed: str, timeout: float) -> Version | None:
    body, content_type = _fetch(f"{base}{name}/", timeout)
    if body is None:
        return None
    try:
        return newest_release(versions_on_page(body, content_type), installed)
    except IndexPageError:
        return None


def _fetch(url: str, timeout: float) -> tuple[str | None, str]:
    if urlsplit(url).scheme == "file":
        path = Path(urllib.request.url2pathname(urlsplit(url).path))
        page = path / "index.html"
        if not path.parent.is_dir():
            raise IndexUnreachable(f"{url}: no such directory")
        try:
            return page.read_text(encoding="utf-8", errors="replace"), "text/html"
        except FileNotFoundError:
            return None, ""
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT})  # noqa: S310 (http or file, checked by config)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_PAGE_BYTES)
            return (
                body.decode(response.headers.get_content_charset() or "utf-8", "replace"),
                response.headers.get("Content-Type", ""),
            )
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None, ""
        raise IndexUnreachable(f"{url}: HTTP {error.code} {error.reason}") from None
    except OSError as error:  # URLError and TimeoutError are OSErrors
        reason = getattr(error, "reason", error)
        raise IndexUnreachable(f"{url}: {reason}") from None
