"""YAML parsing that remembers the line of every key and list item.

A configuration file is written by a person, possibly a careless or hostile one, and
read by a daemon that must survive it: nesting is bounded while composing (PyYAML
recurses), aliases are expanded within a budget of nodes (a few hundred bytes of
"billion laughs" would otherwise take gigabytes) and may not contain themselves, keys
must be plain scalars, and a value that PyYAML cannot construct is a YAML error on its
own line rather than an exception from deep inside the library.
"""

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


# Deeper than any real configuration (the reference one nests 7 levels), shallow enough
# that PyYAML's recursive composer and pydantic stay far from the recursion limit.
MAX_DEPTH = 64
# Nodes in the expanded document: the reference configuration has about 1,500.
MAX_NODES = 200_000


class YamlLimitError(ValueError):
    """The document is beyond what a configuration file can reasonably be."""

    def __init__(self, message: str, line: int | None, location: Location = ()) -> None:
        self.line = line
        self.location = location
        super().__init__(message)


class _Yaml12BoolLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (only true/false, so `on:` stays a key), no
    implicit dates (`timezone: 2024-02-30` is a string, not a crash; no key takes a
    date) and a bound on nesting."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
                line = event.start_mark.line + 1 if event.start_mark else None
                raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep", line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_DROPPED_RESOLVERS = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
_Yaml12BoolLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED_RESOLVERS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12BoolLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_RE, list("tTfF"))


class DuplicateKeyError(ValueError):
    def __init__(self, key: object, line: int, first_line: int, location: Location = ()) -> None:
        self.line = line
        self.location = location
        super().__init__(f"duplicate key {key!r} (first defined on line {first_line})")


def parse_yaml(text: str) -> YamlSource:
    """Parse one YAML document; raises yaml.YAMLError, DuplicateKeyError or
    YamlLimitError (each with the line to point at)."""
    loader = _Yaml12BoolLoader(text)
    try:
        node = loader.get_single_node()
        source = YamlSource(None)
        if node is not None:
            source.data = _Converter(loader, source.lines).convert(node, ())
        return source
    finally:
        loader.dispose()


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Converter:
    """Nodes to Python values, counting every node expanded (aliases included) and
    refusing an alias inside the node it names."""

    def __init__(self, loader: yaml.SafeLoader, lines: dict[Location, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.nodes = 0
        self.open: set[int] = set()  # ids of the collections being converted

    def convert(self, node: yaml.Node, path: Location) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            # Named at the top-level key it happened under: the path inside is noise.
            top = path[:1]
            raise YamlLimitError(
                f"more than {MAX_NODES} values once aliases are expanded",
                self.lines.get(top, _line(node)),
                top,
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.open:
            line = self.lines.get(path, _line(node))  # where the alias is, not its anchor
            raise YamlLimitError("an alias refers to a node that contains it", line, path)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            assert isinstance(node, yaml.SequenceNode)
            return self.sequence(node, path)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: Location) -> dict[Any, Any]:
        mapping: dict[Any, Any] = {}
        merged: list[dict[Any, Any]] = []
        for key_node, value_node in node.value:
            line = _line(key_node)
            if key_node.tag == _MERGE_TAG:
                merged.extend(self.merge_sources(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlLimitError(
                    "a key must be a plain name, not a list or mapping", line, path
                )
            key = self.scalar(key_node, path)
            if key in mapping:
                raise DuplicateKeyError(key, line, self.lines.get((*path, key), line), (*path, key))
            self.lines[(*path, key)] = line
            mapping[key] = self.convert(value_node, (*path, key))
        # `<<` merges (YAML 1.1) done here rather than by PyYAML's flatten_mapping, which
        # recurses without bound and copies pairs without counting them: keys written
        # in the mapping win, then the first merged mapping that has the key.
        for source in merged:
            for key, value in source.items():
                mapping.setdefault(key, value)
        return mapping

    def merge_sources(self, node: yaml.Node, path: Location) -> list[dict[Any, Any]]:
        parts = node.value if isinstance(node, yaml.SequenceNode) else [node]
        sources = []
        for part in parts:
            if not isinstance(part, yaml.MappingNode):
                raise YamlLimitError(
                    "a merge key (<<) takes a mapping or a list of mappings", _line(part), path
                )
            sources.append(self.convert(part, path))
        return sources

    def sequence(self, node: yaml.SequenceNode, path: Location) -> list[Any]:
        items = []
        for index, item_node in enumerate(node.value):
            self.lines[(*path, index)] = _line(item_node)
            items.append(self.convert(item_node, (*path, index)))
        return items

    def scalar(self, node: yaml.Node, path: Location) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as error:  # !!int 9e9999, bad !!binary
            raise YamlLimitError(
                f"cannot read the value {_excerpt(node)}: {error}", _line(node), path
            ) from None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _excerpt(node: yaml.Node) -> str:
    text = str(node.value)
    return repr(text if len(text) <= 40 else text[:37] + "...")
