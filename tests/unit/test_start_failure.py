"""What an operator reads when the daemon cannot start, and what systemd's STATUS= gets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from hostkeeper.adapters.systemd import one_line
from hostkeeper.daemon.lifecycle import describe_start_failure


def test_a_database_error_is_told_in_the_database_s_words(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}")  # a directory: cannot be opened
    with pytest.raises(OperationalError) as caught, engine.connect() as connection:
        connection.execute(text("select 1"))
    engine.dispose()
    assert isinstance(caught.value.orig, sqlite3.OperationalError)
    assert (
        describe_start_failure(caught.value)
        == "database OperationalError: unable to open database file"
    )


def test_a_file_error_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(OSError) as caught:
        (tmp_path / "missing" / "x").read_text()
    assert describe_start_failure(caught.value) == (
        f"{tmp_path / 'missing' / 'x'}: No such file or directory"
    )


def test_any_other_error_gives_its_type_and_message() -> None:
    assert describe_start_failure(RuntimeError("database migration failed:\nline")) == (
        "RuntimeError: database migration failed:\nline"
    )
    assert describe_start_failure(KeyError()) == "KeyError"


def test_status_keeps_one_line_so_no_other_assignment_is_smuggled_in() -> None:
    assert one_line("start failed: broken\nREADY=1") == "start failed: broken"
    assert one_line("  \n") == ""
    assert one_line("fine") == "fine"
