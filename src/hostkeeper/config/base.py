"""The base of every configuration model: unknown keys are errors, values are frozen.

Every field carries a `description` (and `examples` where the form is not obvious):
they are the documentation, laid out by `config sample` and docs/configuration.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def sample(value: Any) -> dict[str, Any]:
    """The `json_schema_extra` of a field whose value in `hostkeeper config sample` (and so
    in the shipped configuration) is `value`, written as in the YAML, not its default."""
    return {SAMPLE_KEY: value}


SAMPLE_KEY = "sample"
