"""A package index's project page (the "simple" API, PEP 503 HTML or PEP 691 JSON) read
into release versions, and the newest release an installed version could move to.

Pure: the text of a page in, versions out. Yanked files (PEP 592) do not count.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from hostkeeper.core.osv import parse_version

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class IndexPageError(ValueError):
    """The page is neither a PEP 503 nor a PEP 691 project page."""


def versions_on_page(body: str, content_type: str) -> set[Version]:
    """The versions of the files on a project page that are not yanked."""
    if "json" in content_type:
        return set(_versions(_json_filenames(body)))
    parser = _AnchorParser()
    parser.feed(body)
    parser.close()
    return set(_versions(parser.filenames))


def newest_release(available: Iterable[Version], installed: str) -> Version | None:
    """The highest version above `installed`, pre-releases only for an installed
    pre-release; None when there is none (or `installed` is not PEP 440)."""
    current = parse_version(installed)
    if current is None:
        return None
    newer = [
        version
        for version in available
        if version > current and (not version.is_prerelease or current.is_prerelease)
    ]
    return max(newer, default=None)


def _json_filenames(body: str) -> list[str]:
    try:
        document: Any = json.loads(body)
    except ValueError as error:
        raise IndexPageError(f"not JSON: {error}") from None
    files = document.get("files") if isinstance(document, dict) else None
    if not isinstance(files, list):
        raise IndexPageError("a PEP 691 page needs a list of files")
    return [
        entry["filename"]
        for entry in files
        if isinstance(entry, dict)
        and isinstance(entry.get("filename"), str)
        and not entry.get("yanked")
    ]


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.filenames: list[str] = []
        self._yanked = False
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._yanked = any(name == "data-yanked" for name, _ in attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._text is not None:
            if not self._yanked:
                self.filenames.append("".join(self._text).strip())
            self._text = None


def _versions(filenames: Iterable[str]) -> Iterable[Version]:
    for filename in filenames:
        try:
            if filename.endswith(".whl"):
                yield parse_wheel_filename(filename)[1]
            elif filename.endswith((".tar.gz", ".zip")):
                yield parse_sdist_filename(filename)[1]
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue  # a file pip could not install either
