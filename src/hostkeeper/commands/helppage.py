"""The shape of a verb's `--help` page; the words stay beside each verb's arguments.

A verb passes `**page(summary, description, exit_status)` to `add_parser`: the summary is
its line in the parent's verb list, the description says what it does, and the epilog
lists what each exit status means, so scripts and monitoring can rely on it.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from typing import Any

WIDTH = 79
# argparse itself exits 2 on a bad command line, before the verb runs.
USAGE_ERROR = (2, "the command line is wrong: unknown option, missing or invalid argument")
# Every verb that reads the configuration fails the same way when it cannot.
CONFIG_ERROR = "the configuration cannot be read or is invalid (each problem on stderr)"

ExitStatus = Sequence[tuple[int, str]]


def page(summary: str, description: str, exit_status: ExitStatus) -> dict[str, Any]:
    """Keyword arguments of `add_parser` for one verb's help page."""
    return {
        "help": summary,
        "description": fill(description),
        "epilog": exit_status_section(exit_status),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }


def fill(text: str) -> str:
    """Paragraphs refilled to the terminal's 80 columns; indented lines kept as written."""
    paragraphs = textwrap.dedent(text).strip().split("\n\n")
    return "\n\n".join(
        paragraph if paragraph.startswith(" ") else textwrap.fill(paragraph, WIDTH)
        for paragraph in paragraphs
    )


def exit_status_section(exit_status: ExitStatus) -> str:
    """`exit status:` and one wrapped line per code, the usage error added unless taken."""
    codes = dict(exit_status)
    codes.setdefault(*USAGE_ERROR)
    lines = ["exit status:"]
    for code in sorted(codes):
        lines += textwrap.wrap(
            codes[code], WIDTH, initial_indent=f"  {code}  ", subsequent_indent="     "
        )
    return "\n".join(lines)
