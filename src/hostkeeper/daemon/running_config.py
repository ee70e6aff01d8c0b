"""The configuration the daemon is running, kept where the CLI finds it without a valid file.

On every successful start and reload the daemon writes the exact text it loaded to
state_dir/running-config.yaml, and its sha256 into daemon.json. While the file on disk
does not validate, the daemon goes on with that configuration, so the read-only verbs
(`status`, `schedule`, `check`, ...) show it instead of refusing to run.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from hostkeeper.adapters.daemon_state import read_state
from hostkeeper.adapters.fs import atomic_write
from hostkeeper.config import ConfigError, LoadedConfig, parse_config
from hostkeeper.config.models import Paths

RUNNING_CONFIG_NAME = "running-config.yaml"


def running_config_file(state_dir: str | Path) -> Path:
    return Path(state_dir) / RUNNING_CONFIG_NAME


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_running_config(state_dir: str, text: str) -> str:
    """Record `text` as the running configuration; returns its sha256.

    Mode 0640 like the configuration itself: it may hold tokens and passwords.
    """
    atomic_write(running_config_file(state_dir), text.encode("utf-8"), 0o640)
    return text_digest(text)


@dataclass(frozen=True)
class RunningConfig:
    loaded: LoadedConfig
    loaded_at: str
    daemon_running: bool

    def notice(self, config_path: str, error: ConfigError) -> str:
        """The one stderr line telling that the file is invalid and what is shown instead."""
        count = len(error.issues)
        errors = f"{count} error" + ("" if count == 1 else "s")
        if self.daemon_running:
            shown, when = "the daemon is running", f"loaded {self.loaded_at}"
        else:
            shown, when = "the daemon last ran", f"loaded {self.loaded_at}, daemon not running"
        return (
            f"hostkeeper: {config_path} has {errors} (first: {error.issues[0]}); "
            f"showing the configuration {shown} ({when})"
        )


def find_running_config(config_path: str) -> RunningConfig | None:
    """The configuration a daemon recorded for `config_path`, or None when there is none.

    A copy recorded for another configuration file, one that does not match the digest
    in daemon.json, or one this version no longer accepts is not used.
    """
    wanted = os.path.realpath(config_path)
    for state_dir in _candidate_state_dirs(Path(config_path)):
        state = read_state(state_dir)
        if state is None or os.path.realpath(str(state.get("config_file") or "")) != wanted:
            continue
        copy = running_config_file(state_dir)
        try:
            text = copy.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text_digest(text) != state.get("config_sha256"):
            continue  # the daemon stopped between writing the copy and daemon.json
        try:
            loaded = parse_config(text, str(copy), copy)
        except ConfigError:
            continue
        loaded_at = str(state.get("config_loaded_at") or "at an unknown time")
        return RunningConfig(loaded, loaded_at, bool(state.get("running")))
    return None


def _candidate_state_dirs(config_path: Path) -> list[str]:
    """state_dir as the invalid file spells it (read without validation), then the default."""
    candidates = []
    spelled = _lenient_state_dir(config_path)
    if spelled:
        candidates.append(spelled)
    default = Paths().state_dir
    if default not in candidates:
        candidates.append(default)
    return candidates


def _lenient_state_dir(config_path: Path) -> str | None:
    try:
        text = config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return _state_dir_from_its_line(text)
    paths = data.get("paths") if isinstance(data, dict) else None
    value = paths.get("state_dir") if isinstance(paths, dict) else None
    return value if isinstance(value, str) else None


def _state_dir_from_its_line(text: str) -> str | None:
    """`state_dir: ...` from its own line, for a file that does not parse as a whole."""
    for line in text.splitlines():
        if not line.lstrip().startswith("state_dir:"):
            continue
        try:
            entry = yaml.safe_load(line.strip())
        except yaml.YAMLError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("state_dir"), str):
            return str(entry["state_dir"])
    return None
