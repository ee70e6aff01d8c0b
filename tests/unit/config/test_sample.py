"""`config sample`, the shipped configuration, `config show` and the dev configuration."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hostkeeper.config import Config, load_config, parse_config
from hostkeeper.config.sample import render_sample
from hostkeeper.core.triggers import build_trigger, next_fire_time

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _fire_times(config: Config, procedure: str, after: datetime, count: int) -> list[datetime]:
    trigger = build_trigger(config.procedures[procedure].schedule.trigger_spec(), config.timezone)
    times = []
    for _ in range(count):
        upcoming = next_fire_time(trigger, after)
        assert upcoming is not None
        times.append(upcoming.astimezone(UTC))
        after = upcoming
    return times


@pytest.fixture
def shipped(repo_root: Path) -> Config:
    return load_config(repo_root / "etc" / "hostkeeper" / "hostkeeper.yaml").config


def test_config_sample_validates() -> None:
    parse_config(render_sample(), "sample.yaml")


def test_config_sample_equals_the_shipped_file_byte_for_byte(cli: Cli, repo_root: Path) -> None:
    # When this fails, regenerate: hostkeeper config sample > etc/hostkeeper/hostkeeper.yaml
    result = cli("config", "sample")
    assert result.returncode == 0, result.stderr
    shipped = (repo_root / "etc" / "hostkeeper" / "hostkeeper.yaml").read_bytes()
    assert result.stdout.encode() == shipped


def test_config_sample_documents_fields_with_comments() -> None:
    sample = render_sample()
    assert "timezone: UTC  # zone in which schedules are evaluated" in sample
    assert "# Durations: 30s, 10m, 2h, 7d, 2w." in sample


def test_shipped_daily_runs_at_two_every_day(shipped: Config) -> None:
    assert _fire_times(shipped, "daily", datetime(2025, 1, 1, 2, 0, tzinfo=UTC), 2) == [
        datetime(2025, 1, 2, 2, 0, tzinfo=UTC),
        datetime(2025, 1, 3, 2, 0, tzinfo=UTC),
    ]


def test_shipped_weekly_runs_sunday_at_three(shipped: Config) -> None:
    times = _fire_times(shipped, "weekly", datetime(2025, 1, 1, tzinfo=UTC), 3)
    assert times == [
        datetime(2025, 1, 5, 3, 0, tzinfo=UTC),
        datetime(2025, 1, 12, 3, 0, tzinfo=UTC),
        datetime(2025, 1, 19, 3, 0, tzinfo=UTC),
    ]
    assert all(moment.strftime("%A") == "Sunday" for moment in times)


def test_shipped_monthly_runs_on_the_first_saturday_at_one(shipped: Config) -> None:
    times = _fire_times(shipped, "monthly", datetime(2025, 1, 1, tzinfo=UTC), 4)
    assert times == [
        datetime(2025, 1, 4, 1, 0, tzinfo=UTC),
        datetime(2025, 2, 1, 1, 0, tzinfo=UTC),
        datetime(2025, 3, 1, 1, 0, tzinfo=UTC),
        datetime(2025, 4, 5, 1, 0, tzinfo=UTC),
    ]
    assert all(moment.weekday() == 5 and moment.day <= 7 for moment in times)


def test_shipped_quarterly_runs_on_the_first_saturday_of_each_quarter(shipped: Config) -> None:
    assert _fire_times(shipped, "quarterly", datetime(2025, 1, 5, tzinfo=UTC), 4) == [
        datetime(2025, 4, 5, 1, 0, tzinfo=UTC),
        datetime(2025, 7, 5, 1, 0, tzinfo=UTC),
        datetime(2025, 10, 4, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 3, 1, 0, tzinfo=UTC),
    ]


def test_shipped_schedule_is_evaluated_in_utc(shipped: Config) -> None:
    assert shipped.timezone == "UTC"


def test_dev_configuration_validates(repo_root: Path) -> None:
    config = load_config(repo_root / "etc" / "hostkeeper" / "dev.yaml").config
    assert config.procedures


def test_config_show_output_validates_to_the_same_configuration(
    cli: Cli, reference_config_path: Path, tmp_path: Path
) -> None:
    result = cli("--config", str(reference_config_path), "config", "show")
    assert result.returncode == 0, result.stderr
    shown = tmp_path / "shown.yaml"
    shown.write_text(result.stdout)
    assert load_config(shown).config == load_config(reference_config_path).config


def test_config_show_fills_in_defaults(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "minimal.yaml"
    path.write_text("version: 1\n")
    result = cli("--config", str(path), "config", "show")
    assert result.returncode == 0, result.stderr
    assert "shutdown_timeout: 1m" in result.stdout
    assert "misfire_grace_time: 1h" in result.stdout
    assert parse_config(result.stdout, "shown.yaml").config == Config()


def test_config_show_json_round_trips(cli: Cli, reference_config_path: Path) -> None:
    import json

    result = cli("--json", "--config", str(reference_config_path), "config", "show")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert Config.model_validate(data) == load_config(reference_config_path).config
