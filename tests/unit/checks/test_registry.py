"""The check registry refuses a check module that breaks the CheckModule contract."""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

import pytest

from hostkeeper.checks import MODULES, load_module
from hostkeeper.config.checks import Check, LoadCheck
from hostkeeper.core.contracts import PluginContractError


def _register(monkeypatch: pytest.MonkeyPatch, name: str, **attributes: Any) -> None:
    module = types.ModuleType(f"test_check_{name}")
    for attribute, value in attributes.items():
        setattr(module, attribute, value)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(MODULES, name, module.__name__)


@pytest.mark.parametrize("check_type", sorted(MODULES))
def test_every_registered_check_keeps_the_contract(check_type: str) -> None:
    module = load_module(check_type)
    assert check_type == module.TYPE
    assert check_type in typing.get_args(module.CONFIG.model_fields["type"].annotation)


def test_every_configurable_check_type_has_a_module_and_no_other() -> None:
    members = typing.get_args(typing.get_args(Check)[0])
    configurable = {typing.get_args(m.model_fields["type"].annotation)[0] for m in members}
    assert configurable == set(MODULES)


def test_a_check_module_without_measure_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _register(monkeypatch, "load", TYPE="load", CONFIG=LoadCheck)
    with pytest.raises(PluginContractError) as refused:
        load_module("load")
    assert str(refused.value) == (
        "check 'load' (test_check_load) does not provide measure, required by CheckModule"
    )


def test_a_check_module_with_another_types_config_model_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _register(
        monkeypatch, "swap", TYPE="swap", CONFIG=LoadCheck, measure=lambda check, timeout: None
    )
    with pytest.raises(PluginContractError, match="'LoadCheck' is the model of type load"):
        load_module("swap")
