"""Newest releases from a package index's simple API (PyPI or a mirror; http(s):// or
file://), a handful of pages at a time.

An index that cannot be reached ends the whole lookup with IndexUnreachable (one clear
warning for the audit, not one per package); a project the index does not have (404)
is simply not reported as outdated.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from packaging.version import Version

from hostkeeper.core.package_index import (
    JSON_TYPE,
    IndexPageError,
    versions_on_page,
)

MAX_PAGE_BYTES = 16 * 1024 * 1024
WORKERS = 8
_ACCEPT = f"{JSON_TYPE}, text/html;q=0.1"


class IndexUnreachable(Exception):
    """The index did not answer (refused, no route, name not found, timed out)."""


def available_versions(
    index_url: str, names: Iterable[str], timeout: float
) -> dict[str, set[Version]]:
    """Canonical name -> the versions the index offers (not yanked), for each of `names`
    the index has. Raises IndexUnreachable."""
    base = index_url if index_url.endswith("/") else index_url + "/"
    pending = sorted(set(names))
    if not pending:
        return {}
    # The first page alone tells whether the index answers at all.
    found: dict[str, set[Version]] = {}
    first = _versions(base, pending[0], timeout)
    if first is not None:
        found[pending[0]] = first
    with ThreadPoolExecutor(WORKERS, thread_name_prefix="index") as pool:
        futures = {name: pool.submit(_versions, base, name, timeout) for name in pending[1:]}
        try:
            for name, future in futures.items():
                versions = future.result()
                if versions is not None:
                    found[name] = versions
        except IndexUnreachable:
            for future in futures.values():
                future.cancel()
            raise
    return found


def _versions(base: str, name: str, timeout: float) -> set[Version] | None:
    body, content_type = _fetch(f"{base}{name}/", timeout)
    if body is None:
        return None
    try:
        return versions_on_page(body, content_type)
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
