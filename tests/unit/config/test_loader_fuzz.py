"""Property: whatever the file holds, loading it gives a valid configuration or a
ConfigError whose every problem reads `FILE:LINE: key: message`; nothing else escapes.

Derandomized with a fixed number of examples, so `make test` spends a fixed budget."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from hostkeeper.config import ConfigError, LoadedConfig, load_config, parse_config
from tests.config_mutations import REFERENCES, any_bytes, mutated_reference

FILE = "fuzz.yaml"
ISSUE = re.compile(r"^fuzz\.yaml:\d+: \S.*: .+", re.DOTALL)
FUZZ = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _outcome(load: object) -> LoadedConfig | ConfigError:
    try:
        return load()  # type: ignore[operator, no-any-return]
    except ConfigError as error:
        return error


def _assert_clean(outcome: LoadedConfig | ConfigError) -> None:
    if isinstance(outcome, ConfigError):
        assert outcome.issues
        for issue in outcome.issues:
            assert ISSUE.match(str(issue)), str(issue)
            assert "\n" not in issue.message or issue.message.count("\n") < 5


def test_the_references_load() -> None:
    assert REFERENCES
    for text in REFERENCES:
        assert isinstance(_outcome(lambda text=text: parse_config(text, FILE)), LoadedConfig)


@FUZZ
@given(data=any_bytes)
def test_any_bytes_give_a_config_or_located_problems(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / FILE
    path.write_bytes(data)
    outcome = _outcome(lambda: load_config(path))
    if isinstance(outcome, ConfigError):
        for issue in outcome.issues:
            assert str(issue).startswith(f"{path}:"), str(issue)
    else:
        assert outcome.path == path


@FUZZ
@given(text=mutated_reference())
def test_mutated_reference_gives_a_config_or_located_problems(text: str) -> None:
    _assert_clean(_outcome(lambda: parse_config(text, FILE)))
