"""docs/configuration.md, generated from the configuration models: every key of every
section with its type, default and description (and examples).

Regenerate with `python -m hostkeeper.config.reference > docs/configuration.md`; a test
keeps the page equal to `render_reference()`.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import yaml
from pydantic import BaseModel, BeforeValidator, TypeAdapter
from pydantic.fields import FieldInfo

from hostkeeper.config.models import Config
from hostkeeper.config.sample import item_models, mapped_model, nested_model
from hostkeeper.config.units import parse_duration, parse_percent, parse_size

HEADER = """\
# Configuration reference

Every key of `/etc/hostkeeper/hostkeeper.yaml`, generated from the configuration models
(`python -m hostkeeper.config.reference > docs/configuration.md`; a test keeps this page
current). `hostkeeper config sample` prints a commented configuration from the same
models; the shipped `etc/hostkeeper/hostkeeper.yaml` is that sample. Unknown keys are
errors. Durations are written `30s`, `10m`, `2h`, `7d`, `2w` (also `200ms`); sizes
`512K`, `100M`, `2G`; percentages `"20%"`. A key whose default is *unset* may be left
out.
"""
_UNIT_TYPES = {parse_duration: "duration", parse_size: "size", parse_percent: "percentage"}
_CONTAINERS: dict[Any, str] = {list: "list of", dict: "map of name to"}
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", timedelta: "duration"}


def render_reference() -> str:
    sections = list(_sections(Config, "", "The top level of the file."))
    documented = {model: path for path, _, model, _ in sections}
    parts = [HEADER]
    for path, variant, model, intro in sections:
        heading = f"`{path}`{variant}" if path else "Top level"
        parts.append(f"\n## {heading}\n\n")
        doc = " ".join((model.__doc__ or "").split())
        parts.append(" ".join(_sentence(part) for part in (intro, doc) if part) + "\n\n")
        parts.append("| key | type | default | description |\n|---|---|---|---|\n")
        for name, info in model.model_fields.items():
            parts.append(_row(info.alias or name, info, path, documented))
    return "".join(parts)


Section = tuple[str, str, type[BaseModel], str]  # path, variant, model, intro


def _sections(
    model: type[BaseModel],
    path: str,
    intro: str,
    variant: str = "",
    seen: set[type[BaseModel]] | None = None,
) -> Iterator[Section]:
    """Each model under `model` once, depth first, with its path in the file."""
    seen = set() if seen is None else seen
    seen.add(model)
    yield path, variant, model, intro
    for name, info in model.model_fields.items():
        for child_path, child_variant, child in _children(_join(path, info.alias or name), info):
            if child not in seen:
                description = info.description or ""
                yield from _sections(child, child_path, description, child_variant, seen)


def _children(path: str, info: FieldInfo) -> list[tuple[str, str, type[BaseModel]]]:
    """(path, variant, model) of each model a field holds: `Model`, `list[A | B]`,
    `dict[str, Model]`, `dict[str, list[Model]]`."""
    annotation = info.annotation
    items = item_models(annotation)
    if items:
        variants = len(items) > 1
        return [(f"{path}[]", _variant(item) if variants else "", item) for item in items]
    listed = _mapped_lists(annotation)
    if listed:
        return [(f"{path}.SECTION[]", "", item) for item in listed]
    mapped = mapped_model(annotation)
    if mapped is not None:
        return [(f"{path}.NAME", "", mapped)]
    nested = nested_model(annotation)
    return [] if nested is None else [(path, "", nested)]


def _mapped_lists(annotation: Any) -> tuple[type[BaseModel], ...]:
    """The item models of a field typed `dict[str, list[Model]]`, else ()."""
    if typing.get_origin(annotation) is not dict:
        return ()
    return item_models(typing.get_args(annotation)[1])


def _variant(model: type[BaseModel]) -> str:
    """` (type: log)` for a member of a union told apart by a one-value Literal field."""
    for key, info in model.model_fields.items():
        values = typing.get_args(info.annotation)
        if typing.get_origin(info.annotation) is typing.Literal and len(values) == 1:
            return f" ({info.alias or key}: {values[0]})"
    return ""


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _row(key: str, info: FieldInfo, path: str, documented: dict[type[BaseModel], str]) -> str:
    description = info.description or ""
    if info.examples:
        description += "; e.g. " + ", ".join(f"`{_yaml(example)}`" for example in info.examples)
    children = _children(_join(path, key), info)
    if children:
        where = ", ".join(dict.fromkeys(f"`{documented[child]}`" for _, _, child in children))
        kind = _CONTAINERS.get(typing.get_origin(info.annotation))
        if _mapped_lists(info.annotation):
            kind = "map of section to list of"
        type_name = f"{kind or 'mapping:'} {where}"
        cells = (f"`{key}`", type_name, _default(info, nested=True), description)
    else:
        cells = (
            f"`{key}`",
            _type_name(info.annotation, info.metadata),
            _default(info),
            description,
        )
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |\n"


def _type_name(annotation: Any, metadata: list[Any] | tuple[Any, ...] = ()) -> str:
    for item in metadata:
        if isinstance(item, BeforeValidator) and item.func in _UNIT_TYPES:
            return _UNIT_TYPES[item.func]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        return _type_name(base, extra)
    if isinstance(annotation, types.UnionType) or origin is typing.Union:
        members = [_type_name(member) for member in typing.get_args(annotation)]
        return " or ".join(dict.fromkeys(members))
    if origin is typing.Literal:
        return " | ".join(str(value) for value in typing.get_args(annotation))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"list of {_type_name(item)}"
    if origin is dict:
        key, value = typing.get_args(annotation)
        return f"map of {_type_name(key)} to {_type_name(value)}"
    if annotation is type(None):
        return "unset"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(str(member.value) for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    if annotation is Any:
        return "any"
    return _SCALARS.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(info: FieldInfo, nested: bool = False) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if nested and isinstance(value, BaseModel):
        return "its keys' defaults"
    annotation: Any = info.annotation
    if info.metadata:
        annotation = typing.Annotated[(annotation, *info.metadata)]
    return f"`{_yaml(TypeAdapter(annotation).dump_python(value, mode='json', by_alias=True))}`"


def _yaml(value: Any) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
    return dumped.strip().removesuffix("...").strip()


if __name__ == "__main__":
    print(render_reference(), end="")
