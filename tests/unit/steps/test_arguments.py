"""Step arguments: what `run:` accepts as an argv list."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostkeeper.config import ConfigError, load_config
from hostkeeper.config.arguments import CommandArgument


def test_numbers_in_argv_become_their_text() -> None:
    assert CommandArgument().parse(["sleep", 5, 0.5]) == ["sleep", "5", "0.5"]


@pytest.mark.parametrize(("value", "word"), [(True, "true"), (False, "false")])
def test_a_boolean_argv_element_is_refused_with_the_quoting_to_use(value: bool, word: str) -> None:
    with pytest.raises(ValueError) as caught:
        CommandArgument().parse(["/usr/bin/app", "--enabled", value])
    assert f"quote it: '{word}'" in str(caught.value)


@pytest.mark.parametrize("value", [None, {"a": 1}, ["nested"]])
def test_other_non_string_elements_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="must be a string"):
        CommandArgument().parse(["app", value])


def test_yaml_true_in_run_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "hostkeeper.yaml"
    path.write_text(
        "version: 1\nprocedures:\n  p:\n    schedule: {hour: 2}\n    steps:\n      - run: [true]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [issue] = caught.value.issues
    assert issue.line == 6
    assert "quote it: 'true'" in str(issue)
    path.write_text(path.read_text().replace("[true]", "['true']"))
    assert load_config(path).config.procedures["p"].steps[0].argument == ["true"]
