"""The configuration models are the documentation: every key has a description, the sample
is made from the fields alone, and docs/configuration.md is generated from them."""

from __future__ import annotations

import importlib.util
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from hostkeeper.config import Config
from hostkeeper.config.models import Baselines
from hostkeeper.config.reference import render_reference
from hostkeeper.config.sample import render_sample


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


def _every_model(root: type[BaseModel]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    pending = [root]
    while pending:
        model = pending.pop()
        if model in found:
            continue
        found.append(model)
        for info in model.model_fields.values():
            pending.extend(_models_in(info.annotation))
    return found


def test_every_key_of_every_config_model_has_a_description() -> None:
    models = _every_model(Config)
    assert len(models) > 30  # the walk reaches the sections, list items and unions
    undocumented = [
        f"{model.__name__}.{name}"
        for model in models
        for name, info in model.model_fields.items()
        if not (info.description and info.description.strip())
    ]
    assert undocumented == []


def _field_sample(info: FieldInfo) -> Any:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "sample" in extra:
        return extra["sample"]
    nested = next(_models_in(info.annotation), None)
    if nested is not None and not typing.get_origin(info.annotation):
        return {key: _field_sample(field) for key, field in _keys(nested).items()}
    annotation: Any = info.annotation
    if info.metadata:
        annotation = typing.Annotated[(annotation, *info.metadata)]
    default = info.get_default(call_default_factory=True)
    return TypeAdapter(annotation).dump_python(default, mode="json", by_alias=True)


def _keys(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {info.alias or name: info for name, info in model.model_fields.items()}


def test_the_sample_holds_each_fields_own_sample_or_default_and_nothing_else() -> None:
    sample = yaml.safe_load(render_sample())
    expected = {key: _field_sample(info) for key, info in _keys(Config).items()}
    assert sample == expected


def test_the_sample_follows_a_change_of_a_fields_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = Baselines.model_fields["metrics"].json_schema_extra
    assert isinstance(extra, dict)
    monkeypatch.setitem(extra, "sample", ["load.15m"])
    assert "  metrics: [load.15m]" in render_sample()


def test_there_is_no_second_source_of_sample_values() -> None:
    assert importlib.util.find_spec("hostkeeper.config.sample_values") is None


def test_the_sample_comments_every_key_with_its_description() -> None:
    sample = render_sample()
    assert "  # file holding the bearer token every request must carry;" in sample
    assert "  interval: 10s  # the daemon samples the host this often" in sample
    assert "- name: root_disk  # unique name, used by rules and health_score.weights" in sample


def test_an_empty_list_section_is_shown_filled_in_commented_out() -> None:
    sample = render_sample()
    assert "logs: []\n# for example:\n# logs:\n# - name: app\n" in sample


def test_the_configuration_reference_is_current(repo_root: Path) -> None:
    # When this fails, regenerate:
    #   .venv/bin/python -m hostkeeper.config.reference > docs/configuration.md
    page = (repo_root / "docs" / "configuration.md").read_text()
    assert page == render_reference()


def test_the_reference_has_a_row_for_every_key_of_every_model() -> None:
    page = render_reference()
    for model in _every_model(Config):
        for key in _keys(model):
            assert f"| `{key}` |" in page, f"{model.__name__}.{key}"
    assert "| `warning` | percentage | required |" in page
    assert "| `repeat` | duration | `4h` |" in page


def _step_labels(config: Config, procedure: str) -> list[str]:
    return [step.label() for step in config.procedures[procedure].steps]


def test_the_shipped_procedures_keep_their_steps(repo_root: Path) -> None:
    from hostkeeper.config import load_config

    shipped = load_config(repo_root / "etc" / "hostkeeper" / "hostkeeper.yaml").config
    assert _step_labels(shipped, "daily") == [
        "rotate_logs",
        "cleanup",
        "backup: config",
        "verify_backups",
        "collect_metrics",
        "health_check",
        "evaluate_alerts",
        "resource_report",
        "report: daily",
    ]
    validate = shipped.procedures["weekly"].steps[4]
    assert (validate.label(), validate.on_failure.value) == ("baseline: validate", "continue")
    assert _step_labels(shipped, "monthly") == [
        "security_audit",
        "refresh_advisories",
        "dependency_audit",
        "report: health_assessment",
        "suggest_thresholds: 7d",  # its default period
        "db: [integrity_check, reindex, vacuum, analyze, optimize]",
    ]
    assert shipped.logs == []
    assert shipped.database.backup_keep == 7
