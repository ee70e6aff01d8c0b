"""A module grows past about 400 lines only with a reason in its docstring.

The reason is a paragraph starting "Kept whole:"; without one, split the module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "hostkeeper"
LIMIT = 400


def _long_modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if len(path.read_text(encoding="utf-8").splitlines()) > LIMIT
    )


@pytest.mark.parametrize("path", _long_modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_long_module_says_why_it_is_kept_whole(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert "\nKept whole: " in docstring, (
        f"{path.relative_to(PACKAGE)} has more than {LIMIT} lines: split it, or say why not "
        "in a 'Kept whole:' paragraph of its docstring"
    )


def test_the_rule_finds_the_long_modules() -> None:
    # guards the test above against a path mistake that would make it vacuous
    assert len(_long_modules()) >= 1
    assert all(path.is_relative_to(PACKAGE) for path in _long_modules())
