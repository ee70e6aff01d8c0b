"""Where the configuration file is when `--config` does not say."""

from __future__ import annotations

import os

DEFAULT_CONFIG = "/etc/hostkeeper/hostkeeper.yaml"


def default_config_path() -> str:
    """$HOSTKEEPER_CONFIG, else the packaged location."""
    return os.environ.get("HOSTKEEPER_CONFIG") or DEFAULT_CONFIG
