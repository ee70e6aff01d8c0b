"""YAML parsing that remembers the line of every key and list item."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from hostkeeper.config.issues import Location


@dataclass
class YamlSource:
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int:
        """The line of the deepest part of `location` that exists in the file."""
        best = 1
        current: Location = ()
        for part in location:
            candidate = (*current, part)
            if candidate in self.lines:
                current = candidate
                best = self.lines[candidate]
        return best

    def readable_location(self, location: Location) -> Location:
        """Drop pydantic's internal parts (union tags, validator names) from a location."""
        kept: list[str | int] = []
        node = self.data
        for part in location:
            found, child = _child(node, part)
            if found:
                kept.append(part)
                node = child
            elif isinstance(node, dict) and part in (node.get("type"), node.get("require")):
                continue  # the discriminator's value, not a key
            elif isinstance(part, str) and ("[" in part or ("-" in part and "(" in part)):
                continue  # e.g. function-after[_one_form(), Schedule]
            else:
                kept.append(part)
                node = None
        return tuple(kept)


def _child(node: Any, part: str | int) -> tuple[bool, Any]:
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


class _Yaml12BoolLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so `on:` stays a key."""


_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_Yaml12BoolLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12BoolLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_RE, list("tTfF"))


class DuplicateKeyError(ValueError):
    def __init__(self, key: object, line: int, first_line: int, location: Location = ()) -> None:
        self.line = line
        self.location = location
        super().__init__(f"duplicate key {key!r} (first defined on line {first_line})")


def parse_yaml(text: str) -> YamlSource:
    """Parse one YAML document; raises yaml.YAMLError or DuplicateKeyError."""
    loader = _Yaml12BoolLoader(text)
    try:
        node = loader.get_single_node()
        source = YamlSource(None)
        if node is not None:
            source.data = _convert(loader, node, (), source.lines)
        return source
    finally:
        loader.dispose()


def _convert(
    loader: yaml.SafeLoader, node: yaml.Node, path: Location, lines: dict[Location, int]
) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in mapping:
                raise DuplicateKeyError(key, line, lines.get((*path, key), line), (*path, key))
            lines[(*path, key)] = line
            mapping[key] = _convert(loader, value_node, (*path, key), lines)
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            lines[(*path, index)] = item_node.start_mark.line + 1
            items.append(_convert(loader, item_node, (*path, index), lines))
        return items
    return loader.construct_object(node, deep=True)
