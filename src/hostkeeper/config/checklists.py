"""Checklist items of a procedure (`checklist: {pre: [...], post: [...]}`).

An item is written like a step: its name as the key, what it says as the value, plus
what proves it when the run itself does:

    checklist:
      planning:
        - review_changes: Review change requests          # manual: `hostkeeper confirm`
      pre:
        - config_backup: Back up the configuration
          step: "backup: config"                          # ticked when that step succeeds

Whether a reference names a step, precondition or check that exists is checked with the
rest of the cross references (config/crossref.py), each with its line.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_serializer, model_validator

from hostkeeper.config.base import Section

ITEM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
SECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
PROOFS = ("step", "precondition", "check")
MAX_TEXT = 300


class ChecklistItem(Section):
    """One item: `{NAME: TEXT}` for a person to confirm, or with `step:`,
    `precondition:` or `check:` for one the run proves."""

    name: str = Field(
        description="short name (letters, digits, - and _), unique in the procedure's "
        "checklist: `hostkeeper confirm RUN NAME` and `wait_for` use it; written as the key "
        "of `{name: text}`",
        examples=["review_changes"],
    )
    text: str = Field(
        description="what the item says, as people read it in the checklist",
        examples=["Review change requests"],
    )
    step: str | None = Field(
        None,
        description="proved by this step of the procedure (`steps` or `after`): its label as "
        "`hostkeeper runs` shows it, or its name when the procedure has one step of that "
        "name; succeeded: done, warning: warning, failed or not run: crossed",
        examples=["backup: config", "health_check"],
    )
    precondition: str | None = Field(
        None,
        description="proved by the procedure's `before` precondition of this kind: met: "
        "done, unmet: crossed",
        examples=["disk_free", "healthy"],
    )
    check: str | None = Field(
        None,
        description="proved by this health check's newest result recorded during the run "
        "(a health_check step measures it): ok: done, warning: warning, critical, unknown "
        "or not measured: crossed",
        examples=["root_disk"],
    )

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, raw: Any) -> Any:
        if isinstance(raw, ChecklistItem):
            return raw
        if not isinstance(raw, dict):
            raise ValueError(
                "a checklist item is `{name: text}`, optionally with `step:`, "
                "`precondition:` or `check:` saying what proves it"
            )
        if "name" in raw and "text" in raw:
            return raw  # already normalised (e.g. from `config show --json`)
        proofs = {key: raw[key] for key in PROOFS if key in raw}
        names = [key for key in raw if key not in proofs]
        if len(names) != 1:
            raise ValueError(
                "a checklist item has exactly one name key (`review_changes: Review change "
                "requests`) plus optional step/precondition/check; got "
                f"{', '.join(map(str, names)) or 'none'}"
            )
        return {"name": names[0], "text": raw[names[0]], **proofs}

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not ITEM_NAME.fullmatch(value):
            raise ValueError(
                f"checklist item name {value!r} may use letters, digits, - and _ only "
                "(at most 100 characters, not starting with - or _)"
            )
        return value

    @field_validator("text")
    @classmethod
    def _valid_text(cls, value: str) -> str:
        text = " ".join(value.split())
        if not text:
            raise ValueError("a checklist item needs a text")
        if len(text) > MAX_TEXT:
            raise ValueError(f"a checklist item's text is at most {MAX_TEXT} characters")
        return text

    @model_validator(mode="after")
    def _one_proof(self) -> ChecklistItem:
        given = [key for key in PROOFS if getattr(self, key) is not None]
        if len(given) > 1:
            raise ValueError(f"an item is proved by one thing; got {' and '.join(given)}")
        return self

    @property
    def proof(self) -> tuple[str, str] | None:
        """(kind, reference) of what proves the item; None for a manual item."""
        for key in PROOFS:
            value = getattr(self, key)
            if value is not None:
                return key, value
        return None

    @property
    def manual(self) -> bool:
        return self.proof is None

    @model_serializer(mode="plain")
    def _compact(self) -> Any:
        proof = self.proof
        return {self.name: self.text, **({proof[0]: proof[1]} if proof else {})}


def valid_section_name(name: str) -> bool:
    return SECTION_NAME.fullmatch(name) is not None
