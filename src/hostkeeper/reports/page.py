"""Self-contained HTML pages: inline CSS, no scripts, printable."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#0f172a}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e2e8f0}
.meta{color:#475569;margin-bottom:16px}
table{border-collapse:collapse;margin:8px 0;width:100%} th,td{padding:4px 8px;text-align:left;
border-bottom:1px solid #e2e8f0;vertical-align:top} th{background:#f8fafc;font-weight:600}
.state-ok,.state-succeeded{color:#15803d}.state-warning{color:#b45309}
.state-critical,.state-failed,.state-aborted,.state-firing{color:#b91c1c;font-weight:600}
.state-unknown,.state-skipped,.state-missed{color:#64748b}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #e2e8f0;border-radius:6px;
padding:10px 14px;min-width:140px}.card .value{font-size:24px;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:16px} svg.chart{max-width:100%;height:auto}
@media print{body{margin:0}.noprint{display:none}h2{break-after:avoid}svg{break-inside:avoid}}
"""


def escape(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def state_cell(state: str | None) -> str:
    text = state or "-"
    return f'<span class="state-{escape(text)}">{escape(text)}</span>'


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], raw: bool = False) -> str:
    """A table; cells are escaped unless `raw` (for cells that already hold markup)."""
    if not rows:
        return '<p class="empty">none</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if raw else escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def card(label: str, value: object, state: str | None = None) -> str:
    css = f" state-{escape(state)}" if state else ""
    return (
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value{css}">{escape(value)}</div></div>'
    )


def page(title: str, subtitle: str, body: str, refresh_seconds: int | None = None) -> str:
    refresh = f'<meta http-equiv="refresh" content="{refresh_seconds}">' if refresh_seconds else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{refresh}'
        f"<style>{CSS}</style></head><body><h1>{escape(title)}</h1>"
        f'<div class="meta">{escape(subtitle)}</div>{body}</body></html>\n'
    )
