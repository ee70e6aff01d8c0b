"""The contract checker shared by the plug-in registries."""

from __future__ import annotations

import types
from typing import Any, Protocol

import pytest

from hostkeeper.core.contracts import (
    PluginContractError,
    check_declared_name,
    check_member,
    contract_attributes,
)


class Widget(Protocol):
    NAME: str
    SIZE: int

    def spin(self, speed: float) -> str: ...


class Gadget(Widget, Protocol):
    def stop(self) -> None: ...


def _module(**attributes: Any) -> types.ModuleType:
    module = types.ModuleType("widget_member")
    for name, value in attributes.items():
        setattr(module, name, value)
    return module


def test_contract_attributes_are_the_declared_data_and_callables_of_every_base() -> None:
    assert contract_attributes(Gadget) == (["NAME", "SIZE"], ["spin", "stop"])


def test_a_complete_member_passes() -> None:
    check_member("widget", "w", _module(NAME="w", SIZE=1, spin=lambda speed: "ok"), Widget)


def test_a_member_without_an_attribute_is_refused_with_its_name_and_the_attribute() -> None:
    with pytest.raises(PluginContractError) as refused:
        check_member("widget", "w", _module(NAME="w", spin=lambda speed: "ok"), Widget)
    assert str(refused.value) == (
        "widget 'w' (widget_member) does not provide SIZE, required by Widget"
    )


def test_a_member_whose_function_is_not_callable_is_refused() -> None:
    with pytest.raises(PluginContractError, match="spin must be callable"):
        check_member("widget", "w", _module(NAME="w", SIZE=1, spin="fast"), Widget)


def test_a_member_declaring_another_name_than_its_registration_is_refused() -> None:
    with pytest.raises(PluginContractError, match="declares NAME = 'x'; the registry lists"):
        check_declared_name("widget", "w", _module(NAME="x"), "NAME")
