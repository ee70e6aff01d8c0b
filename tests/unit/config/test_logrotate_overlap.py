"""`logs:` paths that the host's logrotate configuration also rotates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hostkeeper.config import Config
from hostkeeper.config.logrotate_overlap import logrotate_overlaps, read_patterns

SNIPPET = """\
# an application's logs
/var/log/app/*.log "/var/log/app/with space.log"
{
    daily
    rotate 7
    postrotate
        /var/log/not-a-pattern/x.log
    endscript
}
/srv/other/*.log { weekly }
"""


def logrotate_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "logrotate.d"
    directory.mkdir()
    (directory / "app").write_text(SNIPPET)
    (directory / "app.dpkg-old").write_text("/srv/old/*.log {\n}\n")  # skipped by logrotate
    return directory


def with_logs(make_config: Callable[..., Config], *paths: str) -> Config:
    return make_config(logs=[{"name": "ours", "paths": list(paths)}])


def test_patterns_are_read_with_their_line_outside_scripts(tmp_path: Path) -> None:
    found = [(p.pattern, p.line) for p in read_patterns([str(logrotate_dir(tmp_path))])]
    assert found == [
        ("/var/log/app/*.log", 2),
        ("/var/log/app/with space.log", 2),
        ("/srv/other/*.log", 10),
    ]


def test_the_same_glob_is_reported_with_file_and_line(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    directory = logrotate_dir(tmp_path)
    config = with_logs(make_config, "/srv/mine/*.log", "/var/log/app/*.log")
    [(path, message)] = logrotate_overlaps(config, [str(directory)])
    assert path == ("logs", 0, "paths", 1)
    assert f"({directory / 'app'}:2: /var/log/app/*.log)" in message
    assert message.endswith("give each file set one rotator")


def test_a_file_inside_their_glob_overlaps(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    config = with_logs(make_config, "/var/log/app/api.log")
    assert len(logrotate_overlaps(config, [str(logrotate_dir(tmp_path))])) == 1


def test_an_existing_file_matched_by_both_overlaps(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "api.log").write_text("x\n")
    rotate_d = tmp_path / "rotate.d"
    rotate_d.mkdir()
    (rotate_d / "api").write_text(f"{logs}/api.*\n{{\n}}\n")
    config = with_logs(make_config, f"{logs}/*.log")
    assert len(logrotate_overlaps(config, [str(rotate_d)])) == 1


def test_distinct_file_sets_and_skipped_files_do_not_overlap(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    config = with_logs(make_config, "/var/log/app/archive/*.log", "/srv/old/*.log")
    assert logrotate_overlaps(config, [str(logrotate_dir(tmp_path))]) == []
