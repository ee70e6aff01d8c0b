"""Shared pieces of the CLI verbs: loading the configuration and opening the store."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

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


def load_running_if_invalid(path: str) -> LoadedConfig:
    """The file at `path`; if it does not validate, the copy the daemon recorded of the
    configuration it runs, with one line on stderr saying so. Raises the file's
    ConfigError when no daemon recorded one."""
    from hostkeeper.running_config import find_running_config

    try:
        return load_config(path)
    except ConfigError as error:
        running = find_running_config(path)
        if running is None:
            raise
        print(running.notice(path, error), file=sys.stderr)
        return running.loaded


def store_for(config: Config) -> Store:
    from hostkeeper.app import prepare_store

    return prepare_store(config)
