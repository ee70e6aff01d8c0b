"""The step registry refuses a step module that breaks the StepModule contract."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from hostkeeper.config.arguments import ArgumentSpec, ChoiceArgument
from hostkeeper.core.contracts import PluginContractError
from hostkeeper.reports.registry import NAMES as REPORT_NAMES
from hostkeeper.steps import STEPS, StepDefinition, load_module


def _register(monkeypatch: pytest.MonkeyPatch, name: str, **attributes: Any) -> None:
    module = types.ModuleType(f"test_step_{name}")
    for attribute, value in attributes.items():
        setattr(module, attribute, value)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(STEPS, name, StepDefinition(module.__name__, ArgumentSpec(), "test"))


@pytest.mark.parametrize("name", [name for name, d in STEPS.items() if d.module is not None])
def test_every_registered_step_keeps_the_contract(name: str) -> None:
    assert name == load_module(name).NAME


def test_a_step_module_without_run_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _register(monkeypatch, "half_done", NAME="half_done")
    with pytest.raises(PluginContractError) as refused:
        load_module("half_done")
    assert str(refused.value) == (
        "step 'half_done' (test_step_half_done) does not provide run, required by StepModule"
    )


def test_a_step_module_registered_under_another_name_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _register(monkeypatch, "copied", NAME="original", run=lambda ctx, argument: None)
    with pytest.raises(PluginContractError, match="declares NAME = 'original'"):
        load_module("copied")


def test_the_report_step_accepts_exactly_the_registered_reports() -> None:
    argument = STEPS["report"].argument
    assert isinstance(argument, ChoiceArgument)
    assert tuple(argument.choices) == REPORT_NAMES
