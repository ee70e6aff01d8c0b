"""`checklist:` and `wait_for:` in the configuration: the item form, and every reference
checked with its line."""

from __future__ import annotations

import textwrap

import pytest

from hostkeeper.config import ConfigError, LoadedConfig, parse_config
from hostkeeper.config.checklists import ChecklistItem
from hostkeeper.config.issues import format_location
from hostkeeper.config.step_references import StepReference, resolve_step

FILE = "/etc/hostkeeper/hostkeeper.yaml"

HEAD = """\
version: 1
checks:
  - {name: root_disk, type: disk_free, path: /, warning: 20%, critical: 10%}
backups:
  - {name: config, sources: [/etc/hostkeeper]}
procedures:
  weekly:
    schedule: {every: 1h}
    before:
      - {require: disk_free, path: /, min: 10%}
      - {require: healthy, min_score: 70}
    steps:
      - backup: config
      - run: [/usr/bin/python3, tools/migrate.py]
      - run: [/usr/bin/python3, tools/docs.py]
        wait_for: [review]
        wait_timeout: 30m
      - health_check
"""


# The manual item HEAD's docs step waits for.
REVIEW = "  planning:\n    - {review: Review change requests}\n"


def _parse(checklist: str) -> LoadedConfig:
    return parse_config(HEAD + textwrap.indent(textwrap.dedent(checklist), "    "), FILE)


def _problems(checklist: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        _parse(checklist)
    return [(i.line, format_location(i.location), i.message) for i in caught.value.issues]


VALID = """\
checklist:
  planning:
    - review: Review change requests
  pre:
    - space: Enough disk space
      precondition: disk_free
    - stable: System stable
      precondition: healthy
    - backed_up: Configuration backed up
      step: "backup: config"
  post:
    - migrated: Schema migrated
      step: "run: /usr/bin/python3 tools/migrate.py"
    - disk: Disk has room
      check: root_disk
    - health: Health verified
      step: health_check
"""


def test_a_checklist_with_every_kind_of_item_loads_in_order() -> None:
    loaded = _parse(VALID)
    procedure = loaded.config.procedures["weekly"]
    assert list(procedure.checklist) == ["planning", "pre", "post"]
    names = [(section, item.name, item.proof) for section, item in procedure.checklist_items()]
    assert names == [
        ("planning", "review", None),
        ("pre", "space", ("precondition", "disk_free")),
        ("pre", "stable", ("precondition", "healthy")),
        ("pre", "backed_up", ("step", "backup: config")),
        ("post", "migrated", ("step", "run: /usr/bin/python3 tools/migrate.py")),
        ("post", "disk", ("check", "root_disk")),
        ("post", "health", ("step", "health_check")),
    ]
    assert list(procedure.manual_items()) == ["review"]
    step = procedure.steps[2]
    assert step.wait_for == ["review"] and step.effective_wait_timeout.total_seconds() == 1800


def test_items_write_back_in_their_short_form() -> None:
    item = ChecklistItem.model_validate({"backed_up": "Backed up", "step": "backup: config"})
    assert item.model_dump() == {"backed_up": "Backed up", "step": "backup: config"}
    assert ChecklistItem.model_validate(item.model_dump()) == item
    manual = ChecklistItem.model_validate({"name": "review", "text": "Review  it "})
    assert manual.model_dump() == {"review": "Review it"}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("- Review change requests", "a checklist item is `{name: text}`"),
        ("- {a: A, b: B}", "exactly one name key"),
        (
            "- {a: A, step: health_check, check: root_disk}",
            "proved by one thing; got step and check",
        ),
        ("- {bad name: A}", "may use letters, digits, - and _ only"),
        ("- {a: '  '}", "needs a text"),
    ],
)
def test_a_malformed_item_is_refused(item: str, message: str) -> None:
    [(line, _, problem)] = _problems(f"checklist:\n  pre:\n    {item}\n")
    assert message in problem
    assert line == HEAD.count("\n") + 3


@pytest.mark.parametrize(
    ("item", "where", "message"),
    [
        ('{x: X, step: "report: daily"}', "step", "no step 'report: daily' in this procedure"),
        ("{x: X, step: run}", "step", "2 steps match 'run'"),
        ("{x: X, precondition: no_critical_alerts}", "precondition", "no `before` precondition"),
        ("{x: X, check: memory}", "check", "no check named 'memory' in checks"),
    ],
)
def test_a_reference_to_nothing_is_refused_at_its_line(item: str, where: str, message: str) -> None:
    [(line, location, problem)] = _problems(f"checklist:\n{REVIEW}  post:\n    - {item}\n")
    assert location == f"procedures.weekly.checklist.post[0].{where}"
    assert message in problem
    assert line == HEAD.count("\n") + 5


def test_duplicate_items_and_bad_section_names_are_refused() -> None:
    problems = _problems(
        f"checklist:\n{REVIEW}  pre:\n    - {{a: A}}\n  post:\n    - {{a: Again}}\n"
    )
    assert [p[1:] for p in problems] == [
        ("procedures.weekly.checklist.post[0].a", "duplicate checklist item 'a'")
    ]
    [(_, _, problem)] = _problems("checklist:\n  'pre flight':\n    - {a: A}\n")
    assert "section name 'pre flight'" in problem


def test_wait_for_names_manual_items_only() -> None:
    # HEAD's docs step waits for `review`: a checklist without it is an error there.
    problems = _problems("checklist:\n  post:\n    - {review: Reviewed, step: health_check}\n")
    assert [(location, message) for _, location, message in problems] == [
        (
            "procedures.weekly.steps[2].wait_for[0]",
            "no manual checklist item 'review' in this procedure (manual items: none)",
        )
    ]


def test_wait_timeout_needs_wait_for() -> None:
    text = HEAD.replace("        wait_for: [review]\n", "") + "    checklist: {}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, FILE)
    assert "`wait_timeout` applies to steps with `wait_for` only" in str(caught.value.issues[0])


def test_steps_are_found_by_label_command_line_or_unique_name() -> None:
    procedure = _parse(VALID).config.procedures["weekly"]
    assert resolve_step(procedure, "backup") == StepReference("steps", 2, "backup: config")
    docs = resolve_step(procedure, "run: /usr/bin/python3 tools/docs.py")
    assert docs == StepReference(
        "steps", 4, "run: /usr/bin/python3", ("/usr/bin/python3", "tools/docs.py")
    )
    assert isinstance(docs, StepReference) and docs.shown == "run: /usr/bin/python3 tools/docs.py"
    assert "2 steps match" in str(resolve_step(procedure, "run: /usr/bin/python3"))
