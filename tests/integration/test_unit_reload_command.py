"""How the shipped unit and the notify-reload drop-in reload the daemon: through
`hostkeeper reload`, whose exit status carries the daemon's verdict."""

from __future__ import annotations

import shlex
from pathlib import Path

from hostkeeper.commands.cli import build_parser

REPO_ROOT = Path(__file__).resolve().parents[2]
UNIT = REPO_ROOT / "packaging" / "systemd" / "hostkeeper.service"
NOTIFY_RELOAD = REPO_ROOT / "packaging" / "systemd" / "notify-reload.conf"


def settings(path: Path) -> dict[str, list[str]]:
    """Every `Key=value` of a unit file, in order (an empty value resets a list)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_exec_reload_runs_the_reload_verb_on_the_daemons_config() -> None:
    unit = settings(UNIT)
    (start,) = unit["ExecStart"]
    (reload,) = unit["ExecReload"]
    start_argv, reload_argv = shlex.split(start), shlex.split(reload)

    assert start_argv[-1] == "daemon"
    # Same program, same --config (hence the same state_dir and daemon.json).
    assert reload_argv[:3] == start_argv[:3]
    assert reload_argv[1] == "--config"
    assert reload_argv[3:] == ["reload", "--pid", "$MAINPID"]
    # systemd puts the main pid where $MAINPID is; the CLI accepts what results.
    args = build_parser().parse_args([a.replace("$MAINPID", "4242") for a in reload_argv[1:]])
    assert (args.verb, args.pid, args.config) == ("reload", 4242, start_argv[2])
    assert args.timeout == 30.0


def test_notify_reload_drop_in_keeps_the_verdict_and_signals_once() -> None:
    drop_in = settings(NOTIFY_RELOAD)

    assert drop_in["Type"] == ["notify-reload"]
    # Clearing ExecReload= would leave systemd's READY=1, success whatever the daemon
    # decided, as the only answer; and systemd sends ReloadSignal= before running
    # ExecReload=, so SIGHUP here would make two reloads of one `systemctl reload`.
    assert "ExecReload" not in drop_in
    assert drop_in["ReloadSignal"] == ["SIGCONT"]
