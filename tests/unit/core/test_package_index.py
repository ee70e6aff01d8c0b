from __future__ import annotations

import json

import pytest
from packaging.version import Version

from hostkeeper.core.package_index import (
    JSON_TYPE,
    IndexPageError,
    newest_release,
    versions_on_page,
)

HTML = """<!DOCTYPE html><html><body>
<a href="../../files/demo_lib-1.0-py3-none-any.whl#sha256=00">demo_lib-1.0-py3-none-any.whl</a>
<a href="../../files/demo_lib-1.5.tar.gz">demo_lib-1.5.tar.gz</a>
<a href="x" data-yanked="broken">demo_lib-9.0-py3-none-any.whl</a>
<a href="y">demo_lib-2.0b1-py3-none-any.whl</a>
<a href="z">not-a-distribution.txt</a>
</body></html>"""


def test_html_page_versions_leave_out_yanked_files() -> None:
    assert versions_on_page(HTML, "text/html") == {Version("1.0"), Version("1.5"), Version("2.0b1")}


def test_json_page_versions() -> None:
    body = json.dumps(
        {
            "meta": {"api-version": "1.0"},
            "name": "demo-lib",
            "files": [
                {"filename": "demo_lib-1.0.tar.gz", "yanked": False},
                {"filename": "demo_lib-1.1.tar.gz", "yanked": "bad build"},
                {"filename": "demo_lib-1.2-py3-none-any.whl"},
            ],
        }
    )
    assert versions_on_page(body, JSON_TYPE) == {Version("1.0"), Version("1.2")}


def test_a_json_page_without_files_is_refused() -> None:
    with pytest.raises(IndexPageError):
        versions_on_page("{}", JSON_TYPE)
    with pytest.raises(IndexPageError):
        versions_on_page("<html>", JSON_TYPE)


def test_newest_release_skips_prereleases_unless_installed_is_one() -> None:
    available = {Version("1.0"), Version("1.5"), Version("2.0b1")}
    assert newest_release(available, "1.0") == Version("1.5")
    assert newest_release(available, "1.5") is None
    assert newest_release(available, "2.0a1") == Version("2.0b1")
    assert newest_release(available, "not pep 440") is None
