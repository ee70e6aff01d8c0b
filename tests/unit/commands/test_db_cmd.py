"""`hostkeeper db OPERATION`: each operation is a sub-verb with its own options."""

from __future__ import annotations

import json

from tests.conftest import Cli, ConfigFile


def test_db_check_full_runs_integrity_check(cli: Cli, config_file: ConfigFile) -> None:
    path = config_file()
    result = cli("--config", str(path), "db", "check", "--full")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("integrity_check: ok: integrity_check: ok")


def test_db_operation_without_options_runs(cli: Cli, config_file: ConfigFile) -> None:
    path = config_file()
    result = cli("--json", "--config", str(path), "db", "stats")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["ok"] is True
    assert "runs" in stats["tables"]
    # Every table says what bounds it; none is left to grow without end.
    unbounded = [name for name, table in stats["tables"].items() if table["kept"] == "-"]
    assert unbounded == []
    assert stats["tables"]["runs"]["kept"] == "400d (database.retention.runs)"
    assert stats["tables"]["metric_blocks"]["kept"].endswith("(metrics.retention)")


def test_an_option_of_another_operation_is_a_usage_error(cli: Cli, config_file: ConfigFile) -> None:
    path = config_file()
    result = cli("--config", str(path), "db", "vacuum", "--full")
    assert result.returncode == 2
    assert "unrecognized arguments: --full" in result.stderr
