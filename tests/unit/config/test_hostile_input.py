"""Hostile configuration files give `FILE:LINE: key: message`, never an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostkeeper.config import ConfigError, load_config, parse_config
from hostkeeper.config.issues import format_location
from hostkeeper.config.loader import MAX_CONFIG_BYTES
from hostkeeper.config.yamlsource import MAX_DEPTH
from tests.hostile_configs import CASES, HostileConfig

FILE = "hk.yaml"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_hostile_file_is_one_located_problem(case: HostileConfig) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(case.text, FILE)
    issues = caught.value.issues
    assert len(issues) == 1, [str(issue) for issue in issues]
    issue = issues[0]
    assert (issue.line, format_location(issue.location)) == (case.file_line, case.key), str(issue)
    assert case.says in issue.message
    assert str(issue).startswith(f"{FILE}:{case.file_line}: {case.key}: ")


def test_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "hostkeeper.yaml"
    # Valid YAML all the way, so only the size can be the problem.
    path.write_text("version: 1\n" + "# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(issue) for issue in caught.value.issues] == [
        f"{path}:1: (top level): larger than 1024 KiB; not read as a configuration"
    ]


def test_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "hostkeeper.yaml"
    head = "version: 1\n"
    path.write_text(head + "#" * (MAX_CONFIG_BYTES - len(head) - 1) + "\n")
    assert load_config(path).config.version == 1


def test_nesting_up_to_the_bound_is_accepted() -> None:
    # A list nested MAX_DEPTH - 2 deep under a key of the top mapping: MAX_DEPTH nodes deep.
    depth = MAX_DEPTH - 2
    text = "version: 1\nsecurity:\n  scan_paths: " + "[" * depth + "]" * depth + "\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, FILE)
    assert "nested" not in str(caught.value)  # a type error of scan_paths, not the bound


def test_aliases_that_do_not_contain_themselves_still_work() -> None:
    text = (
        "version: 1\n"
        "security:\n"
        "  scan_paths: &paths [/etc, /srv]\n"
        "  private_paths: *paths\n"
        "paths: &dirs\n"
        "  state_dir: /tmp/s\n"
        "dashboard:\n"
        "  <<: {listen: '127.0.0.1:9000', enabled: false}\n"
        "  enabled: true\n"
    )
    config = parse_config(text, FILE).config
    assert config.security.private_paths == ["/etc", "/srv"]
    assert (config.dashboard.listen, config.dashboard.enabled) == ("127.0.0.1:9000", True)
