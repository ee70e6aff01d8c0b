"""The report registry: one list of names, every member keeping the ReportModule contract."""

from __future__ import annotations

import re
import sys
import types
from datetime import timedelta
from pathlib import Path

import pytest

from hostkeeper.commands.cli import build_parser
from hostkeeper.core.contracts import PluginContractError
from hostkeeper.reports import registry
from hostkeeper.reports.registry import NAMES, UnknownReport, load_module


@pytest.mark.parametrize("name", NAMES)
def test_every_registered_report_keeps_the_contract(name: str) -> None:
    module = load_module(name)
    assert name == module.NAME
    assert module.TITLE
    assert module.PERIOD is None or timedelta(0) < module.PERIOD


def test_a_report_module_without_write_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = types.ModuleType("hostkeeper.reports.half_done")
    for attribute, value in {"NAME": "half_done", "TITLE": "Half done", "PERIOD": None}.items():
        setattr(module, attribute, value)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(registry, "NAMES", (*NAMES, "half_done"))
    with pytest.raises(PluginContractError) as refused:
        load_module("half_done")
    assert str(refused.value) == (
        "report 'half_done' (hostkeeper.reports.half_done) does not provide write, "
        "required by ReportModule"
    )


def test_an_unlisted_report_is_unknown() -> None:
    with pytest.raises(UnknownReport, match="no report named 'weekly'; reports: daily,"):
        load_module("weekly")


def test_the_report_verb_offers_exactly_the_registered_reports() -> None:
    verbs = next(a for a in build_parser()._actions if a.dest == "verb")
    report = verbs.choices["report"]  # type: ignore[index]
    (name,) = (action for action in report._actions if action.dest == "name")
    assert tuple(name.choices or ()) == NAMES


def test_the_reports_page_documents_exactly_the_registered_reports(repo_root: Path) -> None:
    page = (repo_root / "docs" / "reports.md").read_text()
    documented = re.findall(r"^\| `(\w+)` \|", page, flags=re.MULTILINE)
    assert sorted(documented) == sorted(NAMES)
