from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from hostkeeper.adapters.commands import run_command

from ..support import process_gone


def test_successful_command_returns_its_output() -> None:
    result = run_command(["sh", "-c", "echo out; echo err >&2"])
    assert result.ok
    assert result.returncode == 0
    assert result.output == "out\nerr\n"
    assert not result.timed_out


def test_failing_command_reports_its_status() -> None:
    result = run_command(["sh", "-c", "exit 3"])
    assert not result.ok
    assert result.returncode == 3
    assert result.describe_failure() == "exited with status 3"


def test_missing_executable_is_a_start_error_not_an_exception() -> None:
    result = run_command(["/nonexistent/bin/tool", "--flag"])
    assert not result.ok
    assert result.returncode is None
    assert result.start_error is not None
    assert (
        result.describe_failure() == "cannot start /nonexistent/bin/tool: No such file or directory"
    )


def test_arguments_are_not_interpreted_by_a_shell(tmp_path: Path) -> None:
    result = run_command(["echo", "$HOME", ";", "touch", str(tmp_path / "x")])
    assert result.output == f"$HOME ; touch {tmp_path / 'x'}\n"
    assert not (tmp_path / "x").exists()


def test_env_and_cwd_are_honoured(tmp_path: Path) -> None:
    result = run_command(
        ["sh", "-c", 'echo "$GREETING"; pwd'], cwd=str(tmp_path), env={"GREETING": "hi"}
    )
    assert result.output == f"hi\n{tmp_path}\n"


def test_systemd_private_variables_are_not_passed_to_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    result = run_command(["sh", "-c", 'echo "[${NOTIFY_SOCKET:-}][${WATCHDOG_USEC:-}][$HOME]"'])
    assert result.output == f"[][][{os.environ['HOME']}]\n"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    result = run_command(
        ["sh", "-c", f"sleep 30 & echo $! > {pid_file}; wait"],
        timeout=1,
    )
    assert time.monotonic() - started < 10
    assert result.timed_out
    assert result.returncode is None
    assert not result.ok
    assert result.describe_failure().startswith("timed out after")
    assert process_gone(int(pid_file.read_text()))


def test_cancel_event_stops_the_command() -> None:
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    result = run_command(["sleep", "30"], cancel=cancel)
    assert time.monotonic() - started < 10
    assert result.cancelled
    assert result.describe_failure() == "stopped because hostkeeper is shutting down"


def test_killed_by_signal_is_described() -> None:
    result = run_command(["sh", "-c", "kill -KILL $$"])
    assert result.returncode == -9
    assert result.describe_failure() == "killed by signal SIGKILL"


def test_bounded_capture_keeps_head_and_tail() -> None:
    script = "import sys; sys.stdout.write('HEAD' + 'x' * 100000 + 'TAIL')"
    result = run_command([sys.executable, "-c", script], output_limit=1000)
    assert result.output.startswith("HEAD" + "x" * 496)
    assert result.output.endswith("x" * 496 + "TAIL")
    assert f"[{100008 - 1000} bytes omitted]" in result.output
    assert len(result.output) < 1100


def test_output_at_the_limit_is_kept_whole() -> None:
    script = "import sys; sys.stdout.write('y' * 1000)"
    result = run_command([sys.executable, "-c", script], output_limit=1000)
    assert result.output == "y" * 1000


def test_invalid_utf8_output_is_replaced_not_raised() -> None:
    script = "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe end')"
    result = run_command([sys.executable, "-c", script])
    assert result.output == "ok \ufffd\ufffd end"


def test_each_output_line_is_handed_over_as_it_comes(tmp_path: Path) -> None:
    gate = tmp_path / "go"
    seen: list[str] = []
    first_seen = threading.Event()

    def listen(line: str) -> None:
        seen.append(line)
        if line == "first":
            first_seen.set()
            gate.touch()  # the command prints its second line only after this

    script = f'echo first; while [ ! -e "{gate}" ]; do sleep 0.01; done; printf "second\\r\\nlast"'
    result = run_command(["/bin/sh", "-c", script], timeout=30, on_line=listen)
    assert first_seen.is_set()
    assert seen == ["first", "second", "last"]  # CR LF ends a line; the unended one comes too
    assert result.output == "first\nsecond\r\nlast"


def test_a_line_without_end_is_handed_over_in_bounded_pieces() -> None:
    pieces: list[str] = []
    script = f"{sys.executable} -c \"import sys; sys.stdout.write('x' * 200000)\""
    run_command(["/bin/sh", "-c", script], timeout=30, on_line=pieces.append)
    assert "".join(pieces) == "x" * 200000
    assert max(map(len, pieces)) <= 64 * 1024


def test_a_listener_that_raises_does_not_stop_the_command() -> None:
    def broken(line: str) -> None:
        raise RuntimeError("listener broke")

    result = run_command(["/bin/sh", "-c", "echo one; echo two"], timeout=30, on_line=broken)
    assert result.ok and result.output == "one\ntwo\n"
