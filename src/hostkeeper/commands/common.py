"""Shared pieces of the CLI verbs: loading the configuration and opening the store."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec

from hostkeeper.config import Config, ConfigError, LoadedConfig, load_config

if TYPE_CHECKING:  # the store pulls in SQLAlchemy, which `--help` should not wait for
    from hostkeeper.adapters.store import Store


def load(args: argparse.Namespace) -> LoadedConfig | None:
    """The configuration named by --config, or None after printing every problem."""
    try:
        return load_config(args.config)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return None


def load_for_reading(args: argparse.Namespace) -> LoadedConfig | None:
    """Like `load`, for verbs that only read: while the file does not validate, the
    configuration the daemon is running (see `load_running_if_invalid`)."""
    try:
        return load_running_if_invalid(args.config)
    except ConfigError as error:
        for issue in error.issues:
            print(issue, file=sys.stderr)
        return None


class VerbContext:
    """What a verb works on: the configuration it loaded and, opened on first use, the
    store (a verb that refuses its arguments never touches the database)."""

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded

    @property
    def config(self) -> Config:
        return self.loaded.config

    @functools.cached_property
    def store(self) -> Store:
        return store_for(self.loaded.config)


P = ParamSpec("P")
Verb = Callable[Concatenate[argparse.Namespace, P], int]
VerbWithContext = Callable[Concatenate[argparse.Namespace, VerbContext, P], int]


def _with(
    loader: Callable[[argparse.Namespace], LoadedConfig | None],
) -> Callable[[VerbWithContext[P]], Verb[P]]:
    def decorate(verb: VerbWithContext[P]) -> Verb[P]:
        def run(args: argparse.Namespace, /, *extra: P.args, **options: P.kwargs) -> int:
            loaded = loader(args)
            if loaded is None:
                return 1  # the problems are printed
            return verb(args, VerbContext(loaded), *extra, **options)

        functools.update_wrapper(run, verb)  # the verb's name and docstring for --help
        return run

    return decorate


# A verb that changes something: the file named by --config must validate.
with_config = _with(lambda args: load(args))
# A verb that only reads: while the file does not validate, the daemon's running copy.
with_running_config = _with(lambda args: load_for_reading(args))


def load_running_if_invalid(path: str) -> LoadedConfig:
    """The file at `path`; if it does not validate, the copy the daemon recorded of the
    configuration it runs, with one line on stderr saying so. Raises the file's
    ConfigError when no daemon recorded one."""
    from hostkeeper.daemon.running_config import find_running_config

    try:
        return load_config(path)
    except ConfigError as error:
        running = find_running_config(path)
        if running is None:
            raise
        print(running.notice(path, error), file=sys.stderr)
        return running.loaded


def fail(message: str) -> int:
    """One line on stderr naming hostkeeper; the exit status of a refused verb."""
    print(f"hostkeeper: {message}", file=sys.stderr)
    return 1


def known_name(names: list[str], name: str | None, section: str) -> bool:
    """Whether `name` (None: all) is defined in `section`; says which are when not."""
    if name is None or name in names:
        return True
    fail(f"no {section} entry named {name!r}; defined: {', '.join(names) or 'none'}")
    return False


def describe_failure(error: BaseException) -> str:
    """One line for an error a verb did not expect: the database's own words for
    database errors (a garbage, truncated or read-only file), the path for file errors."""
    original = getattr(error, "orig", None)  # sqlalchemy.exc.DBAPIError
    if isinstance(original, BaseException):
        return f"database error: {original}"
    if type(error).__module__.startswith(("sqlalchemy", "sqlite3")):
        return (
            f"database error: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
        )
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename is not None else ""
        return f"{where}{error.strerror or error}"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return (
        f"unexpected {type(error).__name__}"
        + (f": {text}" if text else "")
        + (" (--verbose shows the traceback)")
    )


def store_for(config: Config) -> Store:
    from hostkeeper.services.store_setup import prepare_store

    return prepare_store(config)


# An id the store could hold: SQLite's INTEGER is a signed 64-bit number.
MAX_ID = 2**63 - 1
MAX_LIMIT = 1_000_000
MAX_PID = 2**22  # the kernel's largest pid_max


def bounded_int(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse `type`: an integer in [low, high], else a usage error naming the range
    (a limit of 10**20 would otherwise overflow SQLite deep inside a query)."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{what} must be a whole number, not {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be between {low} and {high}, not {text}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


limit_type = bounded_int(1, MAX_LIMIT, "a limit")
id_type = bounded_int(1, MAX_ID, "an id")
version_type = bounded_int(1, MAX_ID, "a version")
pid_type = bounded_int(1, MAX_PID, "a pid")
