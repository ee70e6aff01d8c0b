"""Checking a plug-in member (a step, check, channel, report or precondition) against the
`Protocol` of its family, so a member that lacks part of the contract is refused with a
message naming it and what it lacks, instead of failing later with an AttributeError.

Pure: it looks only at the attributes of the objects it is given.
"""

from __future__ import annotations

import typing
from typing import Any


class PluginContractError(TypeError):
    """A plug-in member does not provide what its family's contract asks for."""


def contract_attributes(contract: type) -> tuple[list[str], list[str]]:
    """The data attributes and the callables a contract (a Protocol class) declares."""
    data: list[str] = []
    callables: list[str] = []
    for klass in reversed(contract.__mro__):
        if klass is object or klass.__module__ in ("typing", "typing_extensions"):
            continue
        for name in vars(klass).get("__annotations__", {}):
            if name not in data:
                data.append(name)
        for name, value in vars(klass).items():
            if not name.startswith("_") and callable(value) and name not in callables:
                callables.append(name)
    return data, callables


def check_member(family: str, name: str, member: Any, contract: type) -> None:
    """Raise PluginContractError unless `member` (registered as `name` in `family`) has
    every attribute of `contract`, and the callable ones are callable."""
    data, callables = contract_attributes(contract)
    missing = [attribute for attribute in (*data, *callables) if not hasattr(member, attribute)]
    if missing:
        raise PluginContractError(
            f"{family} {name!r} ({_where(member)}) does not provide "
            f"{', '.join(missing)}, required by {contract.__name__}"
        )
    not_callable = [
        attribute for attribute in callables if not callable(getattr(member, attribute))
    ]
    if not_callable:
        raise PluginContractError(
            f"{family} {name!r} ({_where(member)}): {', '.join(not_callable)} must be callable "
            f"({contract.__name__})"
        )


def check_declared_name(family: str, name: str, member: Any, attribute: str) -> None:
    """Raise PluginContractError unless `member.<attribute>` is the name it is registered
    under, so a registry line pointing at the wrong module is caught."""
    declared = getattr(member, attribute)
    if declared != name:
        raise PluginContractError(
            f"{family} {name!r} ({_where(member)}) declares {attribute} = {declared!r}; "
            f"the registry lists it as {name!r}"
        )


def check_config_model(
    family: str, name: str, member: Any, attribute: str = "CONFIG", discriminator: str = "type"
) -> None:
    """Raise PluginContractError unless `member.<attribute>` is the config model whose
    `discriminator` field is the literal `name`, so a type and its model stay paired."""
    model = getattr(member, attribute)
    fields = getattr(model, "model_fields", {})
    values = typing.get_args(fields[discriminator].annotation) if discriminator in fields else ()
    if values != (name,):
        raise PluginContractError(
            f"{family} {name!r} ({_where(member)}): {attribute} "
            f"{getattr(model, '__name__', model)!r} is the model of "
            f"{discriminator} {' | '.join(map(str, values)) or 'none'}, not {name!r}"
        )


def _where(member: Any) -> str:
    return str(getattr(member, "__name__", None) or type(member).__qualname__)
