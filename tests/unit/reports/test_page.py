"""Pages render through Jinja2 with autoescape and strict undefined names, from templates
inside the package, and Jinja2 stays out of the daemon until a page renders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from hostkeeper.reports import page
from hostkeeper.reports.markup import element

SRC = Path(page.__file__).resolve().parents[1]
TEMPLATES = sorted(SRC.glob("*/templates/*.html"))


def test_every_value_is_escaped_and_an_undefined_name_is_an_error() -> None:
    env = page.environment(page.SHARED)
    assert env.from_string("{{ v }}").render(v="<b>&'\"") == "&lt;b&gt;&amp;&#39;&#34;"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_markup_from_the_escaping_builder_is_printed_as_it_is() -> None:
    chart = element("text", {"data-label": "<x>"}, ["a < b"])
    rendered = page.environment(page.SHARED).from_string("{{ c }}").render(c=chart)
    assert rendered == '<text data-label="&lt;x&gt;">a &lt; b</text>'


def test_the_templates_have_no_escape_hatch() -> None:
    assert len(TEMPLATES) >= 8, TEMPLATES
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup", text), template
    for module in SRC.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert "raw=True" not in text and "Markup(" not in text, module


def test_the_macros_escape_cells_and_say_none_for_an_empty_table() -> None:
    env = page.environment(page.SHARED)
    template = env.from_string('{% from "macros.html" import table %}{{ table(["h<"], rows) }}')
    assert "<td>&lt;i&gt;</td>" in template.render(rows=[["<i>"]])
    assert template.render(rows=[]).strip() == '<p class="empty">none</p>'


_PROBE = """
import sys
import hostkeeper.daemon.lifecycle, hostkeeper.web.server, hostkeeper.web.dashboard
import hostkeeper.reports.svg, hostkeeper.reports.page
loaded = {m for m in sys.modules if m.split(".")[0] in ("jinja2", "markupsafe")}
print("before", sorted(loaded))
from hostkeeper.web.dashboard import render_report_index
render_report_index({}, "host")
print("after", "jinja2" in sys.modules)
"""


def test_the_daemon_modules_do_not_import_jinja2_until_a_page_renders(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["before []", "after True"]
