"""`python -m bench [--quick] [NAME ...]`: run benchmarks, print a table, record JSON.

Runs every benchmark in BENCHMARKS order, or the ones named. A missed target does not
change the exit status; a benchmark that could not run (the daemon did not start, ...)
makes it 1.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import BENCHMARKS
from bench.harness import RESULTS_DIR, Context, Result
from bench.report import print_report, write_json
from bench.site import default_reference_config


def build_parser() -> argparse.ArgumentParser:
    listing = "\n".join(
        f"  {name:<10} {importlib.import_module(module).SUMMARY}"
        for name, module in BENCHMARKS.items()
    )
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="hostkeeper benchmarks: figures, floors, targets. Not tests.",
        epilog="benchmarks:\n" + listing,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer runs, shorter windows")
    parser.add_argument("--runs", type=int, help="repetitions per figure (overrides defaults)")
    parser.add_argument("--idle-seconds", type=float, help="idle window (default 60, --quick 15)")
    parser.add_argument(
        "--soak-minutes", type=float, help="length of `soak` (default 30, --quick 12)"
    )
    parser.add_argument(
        "--database-mb", type=int, default=1024, help="size of the large database (default 1024)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=RESULTS_DIR / "cache",
        help="where the generated large database is kept (default bench/results/cache)",
    )
    parser.add_argument(
        "--reference-config",
        type=Path,
        default=None,
        help="configuration the daemon runs, paths moved to a temp dir "
        "(default ../shared/spec/hostkeeper.yaml)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the imports of one start even if on target"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary sites and logs")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/*.json")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    options = build_parser().parse_args(arguments)
    unknown = [name for name in options.names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    names = options.names or list(BENCHMARKS)
    reference = options.reference_config or default_reference_config()
    if not reference.is_file():
        print(f"no reference configuration at {reference} (see --reference-config)")
        return 2

    started = datetime.now(UTC)
    work_dir = Path(tempfile.mkdtemp(prefix="hostkeeper-bench-"))
    context = Context(
        quick=options.quick,
        runs=options.runs,
        work_dir=work_dir,
        cache_dir=options.cache_dir.resolve(),
        reference_config=reference.resolve(),
        idle_seconds=options.idle_seconds,
        database_mb=options.database_mb,
        profile=options.profile,
        soak_minutes=options.soak_minutes,
    )
    results: list[Result] = []
    errors: dict[str, str] = {}
    try:
        for name in names:
            print(f"== {name}", file=sys.stderr, flush=True)
            try:
                results += importlib.import_module(BENCHMARKS[name]).run(context)
            except Exception as error:
                errors[name] = f"{type(error).__name__}: {error}"
                traceback.print_exc()
    finally:
        if options.keep:
            print(f"sites and daemon logs kept in {work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)

    print_report(results, context.notes, errors)
    if not options.no_json:
        path = write_json(RESULTS_DIR, started, arguments, results, context.notes, errors)
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        print(f"\nrecorded in {shown}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
