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


def store_for(config: Config) -> Store:
    from hostkeeper.app import prepare_store

    return prepare_store(config)
