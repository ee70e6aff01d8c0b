"""Loading a configuration file: YAML, structural validation, then logical validation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from hostkeeper.config.crossref import reference_problems
from hostkeeper.config.issues import ConfigError, ConfigIssue
from hostkeeper.config.models import Config
from hostkeeper.config.ranges import range_problems
from hostkeeper.config.yamlsource import DuplicateKeyError, YamlLimitError, YamlSource, parse_yaml

# The reference configuration is about 20 KiB; a file fifty times that is a mistake (or
# an attack) and is refused before the parser spends time and memory on it.
MAX_CONFIG_BYTES = 1024 * 1024

_FRIENDLY = {
    "extra_forbidden": "unknown key (not allowed here)",
    "missing": "required key is missing",
}


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    path: Path
    source: YamlSource
    text: str = ""  # exactly what was parsed, so the daemon can record what it runs


def load_config(path: str | Path) -> LoadedConfig:
    """Read and validate `path`; raise ConfigError listing every problem found."""
    path = Path(path)
    file = str(path)
    try:
        with path.open("rb") as stream:  # read at most one byte past the limit
            raw = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError([ConfigIssue(file, None, (), f"cannot read: {error.strerror}")]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([_too_large(file)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError([ConfigIssue(file, None, (), f"not UTF-8 text: {error}")]) from None
    return parse_config(text, file, path)


def parse_config(text: str, file: str, path: Path | None = None) -> LoadedConfig:
    """Validate `text` as the content of `file`; raise ConfigError listing every problem.

    Whatever the text, the outcome is a LoadedConfig or a ConfigError: an exception
    from a library on input nobody foresaw becomes one top-level problem, so neither
    `config validate` nor a reload ever ends with a traceback.
    """
    try:
        return _parse_config(text, file, path)
    except ConfigError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, ArithmeticError) as error:
        problem = f"cannot be read as a configuration: {type(error).__name__}: {error}"
        raise ConfigError([ConfigIssue(file, None, (), problem[:300])]) from None


def _too_large(file: str) -> ConfigIssue:
    return ConfigIssue(
        file, None, (), f"larger than {MAX_CONFIG_BYTES // 1024} KiB; not read as a configuration"
    )


def _parse_config(text: str, file: str, path: Path | None) -> LoadedConfig:
    if len(text) > MAX_CONFIG_BYTES:  # characters: a lower bound of the UTF-8 size
        raise ConfigError([_too_large(file)])
    try:
        source = parse_yaml(text)
    except (DuplicateKeyError, YamlLimitError) as error:
        raise ConfigError([ConfigIssue(file, error.line, error.location, str(error))]) from None
    except yaml.YAMLError as error:
        line, problem = _yaml_problem(error)
        raise ConfigError([ConfigIssue(file, line, (), f"invalid YAML: {problem}")]) from None
    if not isinstance(source.data, dict):
        raise ConfigError([ConfigIssue(file, 1, (), "the file must be a YAML mapping of sections")])
    try:
        config = Config.model_validate(source.data)
    except ValidationError as error:
        raise ConfigError(_structural_issues(error, source, file)) from None
    problems = reference_problems(config) + range_problems(config)
    if problems:
        raise ConfigError(
            [
                ConfigIssue(file, source.line_of(location), location, message)
                for location, message in problems
            ]
        )
    return LoadedConfig(config, path or Path(file), source, text)


# A quote or bracket left open is only noticed where the file (or document) ends; the
# line to fix is where it opened, which PyYAML keeps as the error's context mark.
_UNCLOSED_AT_END = ("end of stream", "document separator", "<stream end>")
_UNCLOSED_WHAT = {
    "while scanning a quoted scalar": "unclosed quoted string",
    "while parsing a flow sequence": "unclosed '['",
    "while parsing a flow mapping": "unclosed '{'",
}


def _yaml_problem(error: yaml.YAMLError) -> tuple[int | None, str]:
    """The line to point at (1-based) and the message for a YAML syntax error."""
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    unclosed = _UNCLOSED_WHAT.get(context or "")
    if unclosed and context_mark is not None and any(end in problem for end in _UNCLOSED_AT_END):
        return context_mark.line + 1, f"{unclosed} (opened here)"
    mark = getattr(error, "problem_mark", None)
    return (mark.line + 1 if mark is not None else None), problem


def _structural_issues(error: ValidationError, source: YamlSource, file: str) -> list[ConfigIssue]:
    issues = []
    for detail in error.errors(include_url=False):
        location = tuple(detail["loc"])
        message = _FRIENDLY.get(detail["type"], detail["msg"])
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        readable = source.readable_location(location)
        issues.append(ConfigIssue(file, source.line_of(location), readable, message))
    return _unique(issues)


def _unique(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    seen: set[str] = set()
    result = []
    for issue in issues:
        if str(issue) not in seen:
            seen.add(str(issue))
            result.append(issue)
    return result
