from __future__ import annotations

import pytest

from hostkeeper.core.names import path_name_problem, safe_path_name

REFUSED = (
    "",
    ".",
    "..",
    "../x",
    "a/b",
    "/etc",
    "a\\b",
    "-rf",
    "--all",
    ".hidden",
    "nul\0byte",
    "tab\there",
    "x" * 101,
)
ACCEPTED = ("config", "etc-daily", "logs_2", "v1.2", "a..b", "Ünïcode")


@pytest.mark.parametrize("name", REFUSED)
def test_names_that_are_not_one_plain_path_element_are_refused(name: str) -> None:
    assert path_name_problem(name) is not None
    with pytest.raises(ValueError):
        safe_path_name(name)


@pytest.mark.parametrize("name", ACCEPTED)
def test_plain_names_are_accepted(name: str) -> None:
    assert path_name_problem(name) is None
    assert safe_path_name(name) == name
