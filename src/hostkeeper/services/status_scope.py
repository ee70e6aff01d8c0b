"""What the status model reads of a host's configuration: its status scope.

The status model lists only what the configuration names (procedures, checks, backup
sets) and judges backups by the procedures' schedules. On its own host that comes from
the loaded configuration; for the other hosts of a fleet it comes from the store, where
each daemon records its scope with its heartbeat (`fleet_hosts.scope`). The scope holds
names, schedules and step labels only: no command line, URL or credential of the
configuration leaves the host through it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from hostkeeper.config import Config
from hostkeeper.core.fleet import splay_offset
from hostkeeper.core.redact import redact_text
from hostkeeper.core.schedules import AnyOfSpec, CronSpec, IntervalSpec, TriggerSpec


class _Model(BaseModel):
    # A fleet upgrades one host at a time: a scope written by a newer version may carry
    # fields this one does not know, and is still read.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ProcedureScope(_Model):
    name: str
    schedule: str  # as `Schedule.describe()` words it
    trigger: dict[str, Any]  # the trigger spec, see `spec_to_json`
    enabled: bool
    steps: list[str]  # step labels
    backs_up: list[str]  # sets of its `backup: SET` steps (steps and after)
    restore_tests: list[str]  # sets of its `restore_test: SET` steps


class CheckScope(_Model):
    name: str
    type: str


class StatusScope(_Model):
    timezone: str
    splay_seconds: float  # the offset every scheduled run of the host is shifted by
    procedures: list[ProcedureScope]
    checks: list[CheckScope]
    backup_sets: list[str]
    disks: list[str]  # metrics.disks, whose usage is a key metric

    def procedure(self, name: str) -> ProcedureScope | None:
        return next((p for p in self.procedures if p.name == name), None)


def scope_of(config: Config, host: str) -> StatusScope:
    """The status scope of `config` running as `host`."""
    procedures = []
    for name, procedure in config.procedures.items():
        every_step = (*procedure.steps, *procedure.after)
        procedures.append(
            ProcedureScope(
                name=name,
                schedule=procedure.schedule.describe(),
                trigger=spec_to_json(procedure.schedule.trigger_spec()),
                enabled=procedure.enabled,
                steps=[redact_text(step.label()) for step in procedure.steps],
                backs_up=[str(s.argument) for s in every_step if s.name == "backup"],
                restore_tests=[str(s.argument) for s in every_step if s.name == "restore_test"],
            )
        )
    return StatusScope(
        timezone=config.timezone,
        splay_seconds=splay_offset(host, config.fleet.splay).total_seconds(),
        procedures=procedures,
        checks=[CheckScope(name=check.name, type=check.type) for check in config.checks],
        backup_sets=[backup.name for backup in config.backups],
        disks=list(config.metrics.disks),
    )


def spec_to_json(spec: TriggerSpec) -> dict[str, Any]:
    if isinstance(spec, CronSpec):
        return {"cron": dict(spec.fields)}
    if isinstance(spec, IntervalSpec):
        return {"every": spec.seconds}
    return {"any_of": [dict(part.fields) for part in spec.parts]}


def spec_from_json(data: dict[str, Any]) -> TriggerSpec:
    """The spec `spec_to_json` wrote; ValueError for anything else."""
    if "cron" in data:
        return CronSpec({str(k): str(v) for k, v in data["cron"].items()})
    if "every" in data:
        return IntervalSpec(float(data["every"]))
    if "any_of" in data:
        return AnyOfSpec(
            tuple(CronSpec({str(k): str(v) for k, v in part.items()}) for part in data["any_of"])
        )
    raise ValueError(f"not a trigger spec: {data!r}")
