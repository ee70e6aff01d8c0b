"""The JSON API's run history (`/api/runs`), as models: the contract it keeps.

The other endpoints print the status model (`hostkeeper.services.status_model`). The server
builds plain dicts for the runs; these models document each field and type (every time
carries its UTC offset), and the tests validate every response against them. Unknown
fields are refused, so an addition is a deliberate change here too.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class Step(_Model):
    position: int
    phase: str
    name: str
    label: str
    status: str
    started_at: AwareDatetime
    finished_at: AwareDatetime
    duration_seconds: float
    summary: str | None
    error: str | None
    output: str | None
    details: dict[str, Any] | None


class Run(_Model):
    id: int
    host: str
    procedure: str
    trigger: str
    status: str
    scheduled_for: AwareDatetime | None
    started_at: AwareDatetime
    finished_at: AwareDatetime | None
    duration_seconds: float | None
    error: str | None
    dry_run: bool
    started_by: str | None  # manual runs: the invoking user
    reason: str | None  # manual runs: `run --reason`
    steps: list[Step]
