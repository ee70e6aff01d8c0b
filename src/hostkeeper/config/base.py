"""The base of every configuration model: unknown keys are errors, values are frozen.

Every field carries a `description` (and `examples` where the form is not obvious):
they are the documentation, laid out by `config sample` and docs/configuration.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from hostkeeper.config.units import is_size, number_problem


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _sane_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """No plain number anywhere beyond MAX_NUMBER, nor inf or nan: a limit of 10**20
        would overflow SQLite, a timer or a timestamp long after validation passed."""
        if isinstance(value, Section) or info.field_name is None:
            return value  # checked by its own fields
        if is_size(cls.model_fields[info.field_name].annotation):
            return value
        problem = number_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def sample(value: Any) -> dict[str, Any]:
    """The `json_schema_extra` of a field whose value in `hostkeeper config sample` (and so
    in the shipped configuration) is `value`, written as in the YAML, not its default."""
    return {SAMPLE_KEY: value}


SAMPLE_KEY = "sample"
