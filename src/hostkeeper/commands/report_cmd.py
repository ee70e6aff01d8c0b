"""`hostkeeper report NAME [--output FILE] [--period P]`: write a report now."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hostkeeper.commands.common import VerbContext, with_config
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json
from hostkeeper.config.units import parse_duration
from hostkeeper.reports.registry import NAMES


def _duration(text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "report",
        **page(
            "write a report now: " + ", ".join(NAMES),
            """
            Write one report now, as a `report: NAME` step does: a self-contained HTML
            file (inline charts, no scripts) or a JSON file, written atomically under
            report_dir/ with the date in its name, unless --output says otherwise. Each
            report looks back over its own default period (docs/reports.md lists them);
            --period sets another.
            """,
            [(0, "the report was written"), (1, f"it could not be made, or {CONFIG_ERROR}")],
        ),
    )
    parser.add_argument("name", choices=NAMES, metavar="NAME", help="one of: " + ", ".join(NAMES))
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write here instead of the dated file under report_dir",
    )
    parser.add_argument(
        "--period",
        type=_duration,
        metavar="DURATION",
        help="how far back the report looks, e.g. 24h, 7d, 90d (default: the report's own)",
    )
    parser.set_defaults(handler=report)


@with_config
def report(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.reports.registry import UnknownReport, generate

    if args.output is not None and args.output.is_dir():
        # Checked first: the report would be made, then fail to replace a directory.
        print(
            f"hostkeeper report: --output {args.output} is a directory; name a file",
            file=sys.stderr,
        )
        return 1
    store = ctx.store
    try:
        path, data = generate(
            args.name,
            ctx.config,
            store,
            datetime.now(UTC),
            period=args.period,
            output=args.output,
            config_path=args.config,
        )
    except UnknownReport as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:  # --output in a missing or read-only directory, a full disk
        where = error.filename or args.output or ctx.config.paths.report_dir
        print(
            f"hostkeeper report: cannot write {where}: {error.strerror or error}", file=sys.stderr
        )
        return 1
    finally:
        store.dispose()
    if args.json:
        emit_json({"report": args.name, "path": str(path), "summary": data.get("totals")})
    else:
        print(f"{args.name} report written to {path}")
    return 0
