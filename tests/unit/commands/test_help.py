"""Every verb's `--help` page, found by walking the real parser: a new verb without a
summary, a description, help for each argument or an exit status section fails here."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostkeeper.commands.cli import build_parser, main
from tests.conftest import Cli, ConfigFile


def _sub_verbs(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:  # type: ignore[type-arg]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    """(words, parser, summary in the parent's list) for every verb and sub-verb."""
    verbs = _sub_verbs(parser)
    if verbs is None:
        return
    summaries = {choice.dest: choice.help for choice in verbs._choices_actions}
    for name, verb_parser in verbs.choices.items():
        words = (*path, name)
        yield words, verb_parser, summaries.get(name)
        yield from _walk(verb_parser, words)


VERBS = {" ".join(words): (parser, summary) for words, parser, summary in _walk(build_parser())}


def _help_page(words: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*words, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_the_walk_finds_the_verbs_and_sub_verbs_of_the_spec() -> None:
    for expected in ("run", "check", "db", "db vacuum", "backup restore", "alerts silence"):
        assert expected in VERBS


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_explains_itself(
    verb: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("HOSTKEEPER_CONFIG", str(tmp_path / "absent.yaml"))
    parser, summary = VERBS[verb]
    assert summary, f"`{verb}` has no one-line summary in its parent's verb list"
    assert parser.description and len(parser.description) > len(summary), (
        f"`{verb}` has no description beyond its summary"
    )
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help and action.help != argparse.SUPPRESS, (
            f"`{verb}`: {action.option_strings or action.dest} has no help text"
        )
        shown_default = action.default not in (None, False, argparse.SUPPRESS)
        if shown_default and not isinstance(action, argparse._HelpAction):
            assert "%(default)" in action.help or str(action.default) in action.help, (
                f"`{verb}`: {action.option_strings or action.dest} does not say its default "
                f"{action.default!r}"
            )

    page = _help_page(verb.split(), capsys)

    assert parser.description.splitlines()[0] in page
    status = page.split("exit status:\n", 1)
    assert len(status) == 2, f"`{verb} --help` has no 'exit status:' section"
    assert re.search(r"^  0 +\S", status[1], re.MULTILINE), status[1]
    assert all(len(line) <= 80 for line in page.splitlines()), page


@pytest.mark.parametrize("verb", sorted(v for v in VERBS if _sub_verbs(VERBS[v][0])))
def test_a_verb_with_sub_verbs_explains_each_in_a_line(
    verb: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    page = _help_page(verb.split(), capsys)
    sub_verbs = [name for name in VERBS if name.startswith(f"{verb} ")]
    lines = page.splitlines()
    for name in sub_verbs:
        word = name.split()[-1]
        where = next((i for i, line in enumerate(lines) if line.split()[:1] == [word]), None)
        assert where is not None, f"`{name}` is not listed: {page}"
        # argparse puts the explanation of a long name on the next line
        explanation = lines[where].split()[1:] or lines[where + 1].split()
        assert len(explanation) > 2, f"`{name}` is not explained: {page}"


def test_check_help_states_the_nagios_exit_statuses(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    status = _help_page(["check"], capsys).split("exit status:\n", 1)[1]
    for code, meaning in ((0, "ok"), (1, "warning"), (2, "critical"), (3, "unknown")):
        assert re.search(rf"^  {code} +{meaning}\b", status, re.MULTILINE | re.IGNORECASE), status


def test_run_help_lists_the_procedures_of_the_config_given_before_the_verb(
    cli: Cli, config_file: ConfigFile
) -> None:
    path = config_file(
        {
            "nightly_cleanup": {"schedule": {"hour": 3}, "steps": [{"run": ["true"]}]},
            "quarterly_review": {
                "schedule": {"cron": "0 6 1 */3 *"},
                "enabled": False,
                "steps": [{"run": ["true"]}, {"run": ["echo", "done"]}],
            },
        }
    )

    result = cli("--config", str(path), "run", "--help")

    assert result.returncode == 0, result.stderr
    listing = result.stdout.split(f"procedures in {path}:", 1)
    assert len(listing) == 2, result.stdout
    lines = {line.split()[0]: line for line in listing[1].splitlines() if line.startswith("  ")}
    assert "nightly_cleanup" in lines
    assert "quarterly_review" in lines
    assert "disabled" in lines["quarterly_review"]
    assert "2 steps" in lines["quarterly_review"]


def test_run_help_reads_the_config_named_by_the_environment(
    config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file({"from_the_environment": {"schedule": {"hour": 1}, "steps": ["cleanup"]}})
    result = subprocess.run(
        [sys.executable, "-m", "hostkeeper", "run", "--help"],
        env={**os.environ, "HOSTKEEPER_CONFIG": str(path)},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "  from_the_environment" in result.stdout


@pytest.mark.parametrize("content", [None, "version: 1\nbogus: [\n", "version: 1\nbogus: 1\n"])
def test_run_help_without_a_readable_config_still_prints_and_says_where_it_looked(
    cli: Cli, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "hostkeeper.yaml"
    if content is not None:
        path.write_text(content)

    result = cli("--config", str(path), "run", "--help")

    assert result.returncode == 0, result.stderr
    assert "usage: hostkeeper run" in result.stdout
    assert str(path) in " ".join(result.stdout.split())
    assert "procedure list unavailable" in result.stdout
    assert "exit status:" in result.stdout


def _modules_loaded_by(words: list[str], cwd: Path) -> set[str]:
    probe = (
        "import sys\n"
        "from hostkeeper.commands.cli import main\n"
        "try:\n"
        f"    main({words!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=cwd
    )
    assert result.returncode == 0, result.stderr
    assert "usage: hostkeeper" in result.stdout
    return set(result.stderr.split())


def test_help_loads_neither_the_database_layer_nor_the_scheduler(tmp_path: Path) -> None:
    for words in (["--help"], ["db", "vacuum", "--help"], ["report", "--help"]):
        loaded = _modules_loaded_by(words, tmp_path)
        assert not loaded & {"sqlalchemy", "apscheduler"}, words


def test_run_help_reads_the_config_without_the_database_layer(
    config_file: ConfigFile, tmp_path: Path
) -> None:
    path = config_file({"daily": {"schedule": {"hour": 1}, "steps": ["cleanup"]}})
    # Validating the schedules needs APScheduler's triggers; the store is not needed.
    loaded = _modules_loaded_by(["--config", str(path), "run", "--help"], tmp_path)
    assert "sqlalchemy" not in loaded
