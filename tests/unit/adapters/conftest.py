"""Fixtures of the adapter tests."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator

import pytest

from hostkeeper.adapters import extract


@pytest.fixture(params=["stdlib data filter", "no data filter"])
def data_filter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test once with the interpreter's data filter and once as on an
    interpreter without one (the module reads STDLIB_DATA_FILTER at every call)."""
    if request.param == "no data filter":
        monkeypatch.setattr(extract, "STDLIB_DATA_FILTER", None)
    elif getattr(tarfile, "data_filter", None) is None:
        pytest.skip("this interpreter has no tarfile.data_filter")
    yield request.param
