"""Backup verbs: `backup list|create|verify|prune|restore|restore-test` and `rollback`.

Each runs the same code as the corresponding step, under the same locks, so a verb and
the daemon never act on the same files at once.

Kept whole: seven verbs whose help pages are most of the module.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hostkeeper.commands.common import (
    VerbContext,
    fail,
    known_name,
    store_for,
    with_config,
    with_running_config,
)
from hostkeeper.commands.helppage import CONFIG_ERROR, page
from hostkeeper.commands.output import emit_json, table, when
from hostkeeper.config import Config
from hostkeeper.core.numbers import format_bytes
from hostkeeper.services.status_model import BackupStatus


def register(verbs: Any) -> None:
    backup = verbs.add_parser(
        "backup",
        **page(
            "backup archives: list, create, verify, prune, restore",
            """
            Backups are verified tar.gz archives of the `backups` sets under
            backup_dir/SET/, each with a manifest (sha256 per file) and a .sha256
            sidecar, kept by daily/weekly/monthly retention. The same code as the
            `backup`, `verify_backups` and `restore_test` steps, under the same locks.
            `hostkeeper backup ACTION --help` explains one.
            """,
            [(0, "the action succeeded"), (1, "it failed; each action's help says when")],
        ),
    )
    actions = backup.add_subparsers(dest="action", metavar="ACTION", required=True, help="one of:")
    listing = actions.add_parser(
        "list",
        **page(
            "archives per set, newest last",
            """
            List the archives of each set with their time, size, number of files and
            last verification. Reconciles the store with backup_dir first: an archive
            found on disk but never recorded is adopted, a recorded one that is gone is
            marked missing.
            """,
            [
                (0, "listed (also when there is none)"),
                (1, f"the set is unknown, or {CONFIG_ERROR}"),
            ],
        ),
    )
    listing.add_argument("set", nargs="?", metavar="SET", help="one backup set (default: all)")
    listing.set_defaults(handler=backup_list)
    create = actions.add_parser(
        "create",
        **page(
            "archive a set now (or the database)",
            """
            Archive the sources of a backup set now into backup_dir/SET/, with its
            manifest and sidecar, then apply the set's retention. Unreadable files and
            files changed while read are listed. With --database, copy the store
            instead (SQLite's online backup API, integrity-checked) into
            backup_dir/database/.
            """,
            [
                (0, "the archive was written (unreadable files are listed, not fatal)"),
                (
                    1,
                    "no archive was written (the reason on stderr), no set was named, the "
                    f"set is unknown, or {CONFIG_ERROR}",
                ),
            ],
        ),
    )
    create.add_argument(
        "set", nargs="?", metavar="SET", help="the backup set to archive (unless --database)"
    )
    create.add_argument(
        "--database", action="store_true", help="back up the store (SQLite online backup API)"
    )
    create.set_defaults(handler=backup_create)
    verify = actions.add_parser(
        "verify",
        **page(
            "re-hash archives against sidecar and manifest",
            """
            Verify archives: re-hash each against its sidecar and the hash recorded at
            creation, then read every member and compare its size and sha256 with the
            manifest. One flipped byte fails it. Without ARCHIVE: the newest archive of
            each set, or every archive with --all. Results are recorded per archive.
            """,
            [
                (0, "every archive checked is intact"),
                (1, f"any archive failed, the archive is not found, or {CONFIG_ERROR}"),
            ],
        ),
    )
    verify.add_argument(
        "archive",
        nargs="?",
        metavar="ARCHIVE",
        help="an archive path, or a file name in a set's directory (default: newest per set)",
    )
    verify.add_argument("--all", action="store_true", help="every archive, not only the newest")
    verify.set_defaults(handler=backup_verify)
    prune = actions.add_parser(
        "prune",
        **page(
            "apply retention (keep daily/weekly/monthly)",
            """
            Apply each set's grandfather-father-son retention: keep the newest archive
            of each of the last `daily` days, `weekly` ISO weeks and `monthly` months
            that have archives, and delete the rest. The newest archive is never
            pruned. Prints every archive with its decision and the reasons.
            """,
            [
                (0, "retention was applied (or printed)"),
                (1, f"the set is unknown, or {CONFIG_ERROR}"),
            ],
        ),
    )
    prune.add_argument("set", nargs="?", metavar="SET", help="one backup set (default: all)")
    prune.add_argument("--dry-run", action="store_true", help="print the decisions only")
    prune.set_defaults(handler=backup_prune)
    restore = actions.add_parser(
        "restore",
        **page(
            "extract an archive into a fresh directory",
            """
            Verify an archive, then extract it into DIR, which must not exist or be
            empty: regular files and directories only (an archive with links, devices,
            absolute paths or `..` is refused as a whole), then check every manifest
            entry in DIR. Never writes over the live files; `rollback` does that for
            the configuration.
            """,
            [
                (0, "restored, and every file matches the manifest"),
                (
                    1,
                    "the archive was refused or not found, DIR is not empty, a file does not "
                    f"match, or {CONFIG_ERROR}",
                ),
            ],
        ),
    )
    restore.add_argument(
        "archive", metavar="ARCHIVE", help="an archive path, or a file name in a set's directory"
    )
    restore.add_argument(
        "--to",
        required=True,
        dest="target",
        metavar="DIR",
        help="a new or empty directory to extract into",
    )
    restore.set_defaults(handler=backup_restore)
    restore_test = actions.add_parser(
        "restore-test",
        **page(
            "restore the newest archive into a scratch directory and check it",
            """
            The disaster recovery drill: restore the newest archive of a set into a
            fresh directory under state_dir/restore-tests/, check every manifest entry,
            then remove the directory. The result is recorded and shown by `status`.
            """,
            [
                (0, "every set tested restored cleanly"),
                (
                    1,
                    "any test failed, there is no set to test, the set is unknown, or "
                    f"{CONFIG_ERROR}",
                ),
            ],
        ),
    )
    restore_test.add_argument(
        "set", nargs="?", metavar="SET", help="one backup set (default: every set)"
    )
    restore_test.set_defaults(handler=backup_restore_test)

    rollback = verbs.add_parser(
        "rollback",
        **page(
            "restore the config set's files in place, validate, reload; undo if bad",
            """
            The emergency procedure after a bad configuration change: restore the config
            set's newest archive that verifies (or the one named) into place, keeping
            each current file aside as NAME.pre-rollback-TIMESTAMP; validate the
            configuration; if it is valid, reload the daemon, otherwise put every file
            back as it was. Works when the current configuration no longer validates.
            """,
            [
                (0, "the files were restored and the configuration is valid"),
                (1, "nothing was restored, or the rollback was undone (errors on stderr)"),
            ],
        ),
    )
    rollback.add_argument(
        "--archive",
        help="an archive path or file name (default: the newest of the set that verifies)",
    )
    rollback.add_argument(
        "--set",
        dest="backup_set",
        metavar="SET",
        help="the backup set holding the configuration (default: `config`, or the set "
        "whose sources contain the configuration file)",
    )
    rollback.set_defaults(handler=rollback_verb)


def _now() -> datetime:
    return datetime.now(UTC)


# -- backup ----------------------------------------------------------------------------


@with_running_config
def backup_list(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.store.files import archive_rows
    from hostkeeper.steps.backup import sync_archives

    config = ctx.config
    if not known_name([b.name for b in config.backups], args.set, "backups"):
        return 1
    store = ctx.store
    rows: list[dict[str, Any]] = []
    for definition in config.backups:
        if args.set and definition.name != args.set:
            continue
        archives = sync_archives(config, store, definition.name)
        recorded = archive_rows(store, definition.name)
        for archive in archives:
            row = recorded.get(str(archive.path), {})
            rows.append(
                {
                    "set": definition.name,
                    "archive": str(archive.path),
                    "created_at": archive.created_at,
                    "bytes": archive.size,
                    "files": row.get("files"),
                    "verified_at": row.get("verified_at"),
                    "verify_ok": row.get("verify_ok"),
                }
            )
    if args.json:
        emit_json(rows)
        return 0
    if not rows:
        print("no archives")
        return 0
    print(
        table(
            ["set", "archive", "created", "size", "files", "verified"],
            [
                [
                    r["set"],
                    Path(r["archive"]).name,
                    r["created_at"],
                    format_bytes(r["bytes"]),
                    r["files"],
                    "-"
                    if r["verify_ok"] is None
                    else ("ok " if r["verify_ok"] else "FAILED ") + str(r["verified_at"])[:16],
                ]
                for r in rows
            ],
        )
    )
    return 0


@with_config
def backup_create(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.steps.backup import create_backup, describe

    config = ctx.config
    if args.database:
        return _backup_database(args, config)
    if not args.set:
        return fail("name a backup set (or --database)")
    if not known_name([b.name for b in config.backups], args.set, "backups"):
        return 1
    outcome = create_backup(config, ctx.store, args.set, _now())
    if args.json:
        emit_json(outcome.as_dict())
    elif outcome.error:
        print(f"{args.set}: FAILED {outcome.error}", file=sys.stderr)
    else:
        assert outcome.result is not None
        print(f"{outcome.result.path.parent}/{describe(outcome)}")
        for path, reason in outcome.result.unreadable:
            print(f"  unreadable, not archived: {path}: {reason}")
        for path in outcome.result.changed:
            print(f"  changed while archived: {path}")
    return 1 if outcome.error else 0


def _backup_database(args: argparse.Namespace, config: Config) -> int:
    from hostkeeper.adapters.store import maintenance

    store = store_for(config)
    result = maintenance.backup(store, Path(config.paths.backup_dir), config.database.backup_keep)
    if not result.ok:
        return fail(result.summary)
    copy = result.details
    if args.json:
        emit_json({key: copy[key] for key in ("path", "bytes", "integrity", "pruned")})
    else:
        print(f"{copy['path']}: {format_bytes(copy['bytes'])}, integrity {copy['integrity']}")
        if copy["pruned"]:
            print(f"  removed older copies: {', '.join(copy['pruned'])}")
    return 0


@with_config
def backup_verify(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.steps.verify_backups import verify, verify_path

    config = ctx.config
    store = ctx.store
    if args.archive:
        path = _find_archive(config, args.archive)
        if path is None:
            return fail(f"no archive {args.archive!r}")
        results = [verify_path(store, path, _now())]
    else:
        results = verify(config, store, _now(), every_archive=args.all)
    if args.json:
        emit_json([item.as_dict() for item in results])
    else:
        if not results:
            print("no archives to verify")
        for item in results:
            state = "ok" if item.result.ok else "FAILED"
            print(f"{item.result.path.name}: {state}: {item.result.detail}")
    return 0 if all(item.result.ok for item in results) else 1


def _find_archive(config: Config, archive: str) -> Path | None:
    candidate = Path(archive)
    if candidate.is_file():
        return candidate
    for definition in config.backups:
        named: Path = Path(config.paths.backup_dir) / definition.name / archive
        if named.is_file():
            return named
    return None


@with_config
def backup_prune(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.steps.backup import prune

    config = ctx.config
    if not known_name([b.name for b in config.backups], args.set, "backups"):
        return 1
    store = ctx.store
    report = []
    for definition in config.backups:
        if args.set and definition.name != args.set:
            continue
        for decision in prune(config, store, definition.name, _now(), dry_run=args.dry_run):
            report.append(
                {
                    "set": definition.name,
                    "archive": decision.name,
                    "created_at": decision.created_at,
                    "keep": decision.keep,
                    "why": decision.why,
                }
            )
    if args.json:
        emit_json(report)
        return 0
    verb = "would prune" if args.dry_run else "pruned"
    print(
        table(
            ["set", "archive", "decision", "why"],
            [[r["set"], r["archive"], "keep" if r["keep"] else verb, r["why"]] for r in report],
        )
        if report
        else "no archives"
    )
    return 0


@with_config
def backup_restore(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.adapters.archive import BackupError, restore_archive

    path = _find_archive(ctx.config, args.archive)
    if path is None:
        return fail(f"no archive {args.archive!r}")
    try:
        result = restore_archive(path, Path(args.target))
    except BackupError as error:
        return fail(str(error))
    if args.json:
        emit_json(
            {
                "archive": str(path),
                "target": args.target,
                "ok": result.ok,
                "files_checked": result.files_checked,
                "problems": result.problems,
                "warnings": result.warnings,
            }
        )
    else:
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        if result.ok:
            print(f"restored {result.files_checked} file(s) into {args.target}, all verified")
        for problem in result.problems:
            print(f"FAILED: {problem}", file=sys.stderr)
    return 0 if result.ok else 1


@with_config
def backup_restore_test(args: argparse.Namespace, ctx: VerbContext) -> int:
    from hostkeeper.steps.restore_test import restore_test

    config = ctx.config
    if not known_name([b.name for b in config.backups], args.set, "backups"):
        return 1
    store = ctx.store
    names = [args.set] if args.set else [b.name for b in config.backups]
    tests = [restore_test(config, store, name, _now()) for name in names]
    if args.json:
        emit_json([test.as_dict() for test in tests])
    else:
        for test in tests:
            state = "PASSED" if test.ok else "FAILED"
            archive = Path(test.archive).name if test.archive else "-"
            print(
                f"{test.backup_set}: {state} {archive}: {test.files_checked} file(s) checked "
                f"in {test.seconds:.1f}s"
            )
            for problem in test.problems:
                print(f"  {problem}")
    return 0 if tests and all(test.ok for test in tests) else 1


# -- rollback --------------------------------------------------------------------------


def rollback_verb(args: argparse.Namespace) -> int:
    from hostkeeper.services.rollback import rollback, target_from_file

    target = target_from_file(Path(args.config), args.backup_set)

    def reload() -> str:
        from hostkeeper.config import load_config
        from hostkeeper.steps.rotate_logs import reload_daemon

        return reload_daemon(load_config(target.config_file).config)

    outcome = rollback(target, archive=args.archive, reload=reload)
    if outcome.ok:
        _record_rollback(target, outcome)
    if args.json:
        emit_json(outcome.as_dict())
    else:
        for note in outcome.skipped:
            print(note)
        if outcome.archive:
            print(f"archive: {outcome.archive}")
        for item in outcome.files:
            line = f"{item.action} {item.path}" + (f" ({item.detail})" if item.detail else "")
            if item.kept_copy:
                line += f"; previous copy kept as {item.kept_copy}"
            print(line)
        if outcome.ok and not outcome.changed:
            print("nothing to roll back: every file matches the archive; no reload")
        if outcome.undone:
            print("the restored files were put back as they were before the rollback")
        for error in outcome.errors:
            print(f"FAILED: {error}", file=sys.stderr)
        if outcome.reload:
            print(outcome.reload)
    return 0 if outcome.ok else 1


def _record_rollback(target: Any, outcome: Any) -> None:
    from hostkeeper.adapters.store.files import FileActionCounts, record_file_action
    from hostkeeper.config import load_config

    config = load_config(target.config_file).config
    record_file_action(
        store_for(config),
        kind="rollback",
        policy=target.backup_set,
        at=_now(),
        counts=FileActionCounts(),
        detail=outcome.as_dict(),
    )


# -- status ----------------------------------------------------------------------------


def print_backup_status(backups: list[BackupStatus]) -> None:
    if not backups:
        return
    rows = []
    for item in backups:
        newest, test = item.newest, item.restore_test
        verified = "-"
        if newest and newest.verify_ok is not None:
            verified = "ok" if newest.verify_ok else "FAILED"
        rows.append(
            [
                item.set,
                Path(newest.archive).name if newest else "none",
                newest.created_at if newest else None,
                format_bytes(newest.size_bytes) if newest else None,
                verified,
                None
                if test is None
                else f"{'PASSED' if test.ok else 'FAILED'} {when(test.tested_at)[:16]}",
            ]
        )
    print(
        table(["backup set", "newest archive", "created", "size", "verify", "restore test"], rows)
    )
    for item in backups:
        if item.restore_test_problem:
            print(f"backup set {item.set}: {item.restore_test_problem}")
        if item.newest is not None and not item.fresh:
            print(
                f"backup set {item.set}: STALE: the newest archive is "
                f"{item.newest.age_seconds / 86400:.1f} days old "
                f"(fresh up to {item.stale_after_seconds / 86400:.1f} days)"
            )
