"""Procedures: a schedule, preconditions (`before`), ordered `steps` and `after` checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_serializer, model_validator

from hostkeeper.config.base import Section
from hostkeeper.config.checklists import ChecklistItem, valid_section_name
from hostkeeper.config.steps import SIGNATURES
from hostkeeper.config.units import Duration, Percent, format_duration
from hostkeeper.core.envfile import ENV_NAME
from hostkeeper.core.runs import OnFailure
from hostkeeper.core.schedules import (
    CRON_FIELDS,
    IntervalSpec,
    TriggerSpec,
    cron_fields_spec,
    crontab_spec,
)

DEFAULT_COMMAND_TIMEOUT = timedelta(hours=1)
DEFAULT_WAIT_TIMEOUT = timedelta(hours=1)
_STEP_OPTIONS = ("timeout", "on_failure", "wait_for", "wait_timeout")
_COMMAND_OPTIONS = ("cwd", "env", "secret_env")

CronField = int | str | None


class Schedule(Section):
    """When a procedure runs: APScheduler cron fields, a crontab line, or an interval.

    Cron fields below the largest one given default to their minimum (`{hour: 2}` is
    02:00:00 every day), in the configured `timezone`.
    """

    cron: str | None = Field(
        None, description='crontab line; 0 and 7 are Sunday: "0 3 * * sun"', examples=["0 2 * * *"]
    )
    every: Duration | None = Field(
        None,
        description="fixed interval: 30s, 10m, 1h; counted from the last scheduled run",
        examples=["6h"],
    )
    year: CronField = Field(None, description="cron field: 4-digit year(s)", examples=["2030"])
    month: CronField = Field(
        None, description='month(s): 1-12, "1,4,7,10", "jan-mar"', examples=["1,4,7,10"]
    )
    day: CronField = Field(
        None,
        description='day of month, or "1st sat", "last fri", "last"',
        examples=[1, "1st sat"],
    )
    week: CronField = Field(None, description="ISO week(s) of the year, 1-53", examples=["*/2"])
    day_of_week: CronField = Field(
        None, description='mon..sun or "mon-fri" (APScheduler names)', examples=["mon-fri"]
    )
    hour: CronField = Field(None, description="hour(s) 0-23", examples=[2, "*/6"])
    minute: CronField = Field(None, description="minute(s) 0-59", examples=[0, 30])
    second: CronField = Field(None, description="second(s) 0-59", examples=[0])

    @field_validator("cron")
    @classmethod
    def _valid_crontab(cls, value: str | None) -> str | None:
        if value is not None:
            # APScheduler loads on validation only, so `--help` stays light.
            from hostkeeper.core.triggers import build_trigger

            build_trigger(crontab_spec(value), "UTC")
        return value

    @field_validator(*CRON_FIELDS)
    @classmethod
    def _valid_cron_field(cls, value: CronField, info: ValidationInfo) -> CronField:
        # Checked one by one so that an error names the field (and its line), not only
        # the schedule; `_one_form` still checks the fields together.
        if value is not None and info.field_name is not None:
            from hostkeeper.core.triggers import build_trigger

            build_trigger(cron_fields_spec({info.field_name: value}), "UTC")
        return value

    @model_validator(mode="after")
    def _one_form(self) -> Schedule:
        cron_fields = self.cron_fields()
        forms = [self.cron is not None, self.every is not None, bool(cron_fields)]
        if sum(forms) != 1:
            raise ValueError(
                "give exactly one of: cron fields (hour, minute, day, ...), `cron:` or `every:`"
            )
        if self.every is not None and self.every.total_seconds() < 1:
            raise ValueError("`every:` must be at least 1s")
        spec = self.trigger_spec()
        # Building the trigger once here turns a bad field ("day: 1st sunday") into a
        # config error with a line number instead of a failure at start.
        from hostkeeper.core.triggers import build_trigger, never_fires_problem

        problem = never_fires_problem(build_trigger(spec, "UTC"))
        if problem:
            raise ValueError(problem)
        return self

    def cron_fields(self) -> dict[str, object]:
        return {name: value for name in CRON_FIELDS if (value := getattr(self, name)) is not None}

    def trigger_spec(self) -> TriggerSpec:
        if self.cron is not None:
            return crontab_spec(self.cron)
        if self.every is not None:
            return IntervalSpec(self.every.total_seconds())
        return cron_fields_spec(self.cron_fields())

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron!r}"
        if self.every is not None:
            return f"every {format_duration(self.every)}"
        return "cron " + " ".join(f"{k}={v}" for k, v in self.cron_fields().items())

    @model_serializer(mode="wrap")
    def _compact(self, handler: Any) -> Any:
        return {key: value for key, value in handler(self).items() if value is not None}


class Step(Section):
    """One step: a name, or `{name: argument}`, or `{run: [argv...]}`, plus options."""

    name: str = Field(
        description="a built-in step (an unknown name is an error that lists them) or `run`; "
        "written as the item itself or as the key of `{name: argument}`",
        examples=["cleanup", "backup"],
    )
    argument: Any = Field(
        None,
        description="the value of `{name: argument}`: a backup set, report name, period, "
        "db operations, or the argv of `run:`",
        examples=["config", ["vacuum", "analyze"], ["/usr/local/bin/app-maintenance", "--quiet"]],
    )
    timeout: Duration | None = Field(
        None,
        description="the step is aborted past this; unset: no limit for built-in steps, 1h "
        "for `run:`",
        examples=["30m"],
    )
    on_failure: OnFailure = Field(
        OnFailure.ABORT,
        description="abort: the rest of the procedure is skipped | continue: the next step runs",
    )
    cwd: str | None = Field(
        None, description="`run:` only: working directory of the command", examples=["/srv/app"]
    )
    env: dict[str, str] | None = Field(
        None,
        description="`run:` only: environment variables added to the command's",
        examples=[{"APP_ENV": "production"}],
    )
    secret_env: list[str] | None = Field(
        None,
        description="`run:` only: names of variables read from paths.credentials_file at "
        "each run and passed to the command; their values are never stored, logged or shown",
        examples=[["APP_DB_PASSWORD"]],
    )
    wait_for: list[str] | None = Field(
        None,
        min_length=1,
        description="manual items of the procedure's checklist that must be confirmed "
        "(`hostkeeper confirm RUN ITEM`) before this step starts; the run waits for them",
        examples=[["review_changes", "rollback_plan"]],
    )
    wait_timeout: Duration | None = Field(
        None,
        description="`wait_for` only: how long the run waits (default 1h); then the step is "
        "skipped, the wait notified (notify.on failure or wait) and shown in the checklist",
        examples=["30m"],
    )

    @field_validator("secret_env")
    @classmethod
    def _variable_names(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if not ENV_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return value

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, raw: Any) -> Any:
        if isinstance(raw, Step):
            return raw
        if isinstance(raw, str):
            return {"name": raw}
        if not isinstance(raw, dict):
            raise ValueError(
                "a step is a name (`cleanup`), `{name: argument}` or `{run: [argv...]}`"
            )
        if "name" in raw and "argument" in raw:
            return raw  # already normalised (e.g. from `config show --json`)
        options = {key: raw[key] for key in (*_STEP_OPTIONS, *_COMMAND_OPTIONS) if key in raw}
        names = [key for key in raw if key not in options]
        if len(names) != 1:
            raise ValueError(
                "a step has exactly one name key (e.g. `backup: config` or `run: [...]`) plus "
                "optional timeout/on_failure/wait_for; got "
                f"{', '.join(map(str, names)) or 'none'}"
            )
        return {"name": names[0], "argument": raw[names[0]], **options}

    @model_validator(mode="after")
    def _known_step(self) -> Step:
        definition = SIGNATURES.get(self.name)
        if definition is None:
            known = ", ".join(sorted(SIGNATURES))
            raise ValueError(f"unknown step {self.name!r}; known steps: {known}")
        if self.name != "run" and (self.cwd is not None or self.env is not None):
            raise ValueError("`cwd` and `env` apply to `run:` steps only")
        if self.name != "run" and self.secret_env is not None:
            raise ValueError("`secret_env` applies to `run:` steps only")
        if self.wait_timeout is not None and not self.wait_for:
            raise ValueError("`wait_timeout` applies to steps with `wait_for` only")
        parsed = definition.argument.parse(self.argument)
        object.__setattr__(self, "argument", parsed)
        return self

    @property
    def effective_wait_timeout(self) -> timedelta:
        return self.wait_timeout if self.wait_timeout is not None else DEFAULT_WAIT_TIMEOUT

    @property
    def effective_timeout(self) -> timedelta | None:
        if self.timeout is None and self.name == "run":
            return DEFAULT_COMMAND_TIMEOUT
        return self.timeout

    def label(self) -> str:
        """Short human name: `backup: config`, `run: /usr/bin/python3`."""
        if self.argument is None:
            return self.name
        if self.name == "run":
            return f"run: {self.argument[0]}"
        if isinstance(self.argument, timedelta):
            return f"{self.name}: {format_duration(self.argument)}"
        if isinstance(self.argument, list):
            return f"{self.name}: [{', '.join(map(str, self.argument))}]"
        return f"{self.name}: {self.argument}"

    @model_serializer(mode="plain")
    def _compact(self) -> Any:
        options: dict[str, Any] = {}
        if self.timeout is not None:
            options["timeout"] = format_duration(self.timeout)
        if self.on_failure is not OnFailure.ABORT:
            options["on_failure"] = self.on_failure.value
        if self.cwd is not None:
            options["cwd"] = self.cwd
        if self.env is not None:
            options["env"] = dict(self.env)
        if self.secret_env is not None:
            options["secret_env"] = list(self.secret_env)
        if self.wait_for is not None:
            options["wait_for"] = list(self.wait_for)
        if self.wait_timeout is not None:
            options["wait_timeout"] = format_duration(self.wait_timeout)
        argument = self.argument
        if isinstance(argument, timedelta):
            argument = format_duration(argument)
        if argument is None and not options:
            return self.name
        return {self.name: argument, **options}


class DiskFreePrecondition(Section):
    require: Literal["disk_free"] = Field(
        description="disk_free: enough free space on a filesystem"
    )
    path: str = Field(description="filesystem to look at")
    min: Percent = Field(
        description="free space needed, as a percentage of the filesystem", examples=["20%"]
    )


class NoCriticalAlertsPrecondition(Section):
    require: Literal["no_critical_alerts"] = Field(
        description="no_critical_alerts: no critical alert of this host is firing"
    )


class HealthyPrecondition(Section):
    require: Literal["healthy"] = Field(
        description="healthy: no check's newest result is critical and the health score is "
        "at least min_score"
    )
    min_score: float = Field(
        80.0, ge=0, le=100, description="the newest health score must be at least this (0-100)"
    )
    max_age: Duration = Field(
        timedelta(days=1),
        description="results and score older than this do not count: with none newer, the "
        "precondition is unmet (run health_check more often, or raise this)",
        examples=["1d", "2h"],
    )


Precondition = Annotated[
    DiskFreePrecondition | NoCriticalAlertsPrecondition | HealthyPrecondition,
    Field(discriminator="require"),
]


class RunWindow(Section):
    """The maintenance window each run of the procedure opens (docs/maintenance.md): alerts
    that start during the run, or within `grace` after it, are held, not notified."""

    window: bool = Field(
        True, description="false: runs of this procedure open no maintenance window"
    )
    rules: list[str] | None = Field(
        None,
        description="names of alerts.rules the run's window holds; unset: every rule "
        "(a rule with `maintenance: ignore` is never held)",
        examples=[["cpu_anomaly", "web_up"]],
    )
    grace: Duration | None = Field(
        None,
        description="alerts starting this long after the run ends are still held; unset: "
        "maintenance.grace",
        examples=["10m"],
    )


class Procedure(Section):
    schedule: Schedule = Field(description="when the procedure runs")
    enabled: bool = Field(True, description="false keeps the procedure for manual runs only")
    before: list[Precondition] = Field(
        default_factory=list,
        description="preconditions checked first; one unmet: the run is skipped, recorded and "
        "alerted",
    )
    steps: list[Step] = Field(
        min_length=1,
        description="run in order; a step is a name (`cleanup`), `{name: argument}` "
        "(`backup: config`) or `{run: [argv...]}`, with optional timeout and on_failure",
    )
    after: list[Step] = Field(
        default_factory=list,
        description="verification steps, run after `steps` even when one of them failed",
    )
    checklist: dict[str, list[ChecklistItem]] = Field(
        default_factory=dict,
        description="checklist sections (e.g. planning, pre, post), each a list of items "
        "`{name: text}`: manual ones are confirmed with `hostkeeper confirm RUN NAME`, those "
        "with `step:`, `precondition:` or `check:` are ticked or crossed from the run record "
        "(docs/checklists.md)",
        examples=[
            {
                "planning": [{"review_changes": "Review change requests"}],
                "pre": [{"config_backup": "Back up the configuration", "step": "backup: config"}],
                "post": [{"changes_documented": "Document changes made"}],
            }
        ],
    )

    @field_validator("checklist")
    @classmethod
    def _section_names(
        cls, value: dict[str, list[ChecklistItem]]
    ) -> dict[str, list[ChecklistItem]]:
        for section in value:
            if not valid_section_name(section):
                raise ValueError(
                    f"checklist section name {section!r} may use letters, digits, - and _ "
                    "only (at most 40 characters)"
                )
        return value

    def checklist_items(self) -> list[tuple[str, ChecklistItem]]:
        """(section, item) for every item, in the order written."""
        return [(section, item) for section, items in self.checklist.items() for item in items]

    def manual_items(self) -> dict[str, ChecklistItem]:
        return {item.name: item for _, item in self.checklist_items() if item.manual}

    maintenance: RunWindow = Field(
        default_factory=RunWindow,
        description="the maintenance window each run opens, holding the alerts it causes",
    )
