"""`config validate` refuses what validates but can never work on this host: a token file
that is missing or too short, a dashboard address that is not this host's."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]


def _dashboard(listen: str, token_file: Path | None = None) -> dict[str, object]:
    section: dict[str, object] = {"enabled": True, "listen": listen}
    if token_file is not None:
        section["token_file"] = str(token_file)
    return section


@pytest.mark.parametrize("strict", [False, True], ids=["plain", "strict"])
@pytest.mark.parametrize(
    ("token", "says"),
    [
        pytest.param(None, "does not exist", id="missing"),
        pytest.param("short-token\n", "holds a token of 11 characters", id="too-short"),
        pytest.param("   \n", "holds a token of 0 characters", id="blank"),
    ],
)
def test_unusable_token_file_is_an_error(
    cli: Cli,
    config_file: Callable[..., Path],
    tmp_path: Path,
    strict: bool,
    token: str | None,
    says: str,
) -> None:
    token_file = tmp_path / "dashboard.token"
    if token is not None:
        token_file.write_text(token)
    path = config_file(dashboard=_dashboard("127.0.0.1:0", token_file))

    result = cli("--config", str(path), "config", "validate", *(["--strict"] if strict else []))

    assert result.returncode == 1
    lines = path.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.strip().startswith("token_file:"))
    assert f"{path}:{line}: dashboard.token_file: {token_file} {says}" in result.stderr
    assert "warning" not in result.stderr.split("dashboard.token_file")[1].splitlines()[0]
    assert "Traceback" not in result.stderr


def test_a_token_of_sixteen_characters_passes(
    cli: Cli, config_file: Callable[..., Path], tmp_path: Path
) -> None:
    token_file = tmp_path / "dashboard.token"
    token_file.write_text("0123456789abcdef\n")
    path = config_file(dashboard=_dashboard("127.0.0.1:0", token_file))

    result = cli("--config", str(path), "config", "validate", "--strict")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("listen", "says"),
    [
        # TEST-NET-1 (RFC 5737): assigned to no host, so never one of this host's
        # addresses; binding fails locally and no packet is sent.
        pytest.param("192.0.2.1:8081", "192.0.2.1 is not an address of this host", id="foreign"),
        pytest.param("[2001:db8::1]:8081", "2001:db8::1 is not an address", id="foreign-v6"),
        pytest.param("no-such-host.invalid:8081", "does not resolve", id="unresolvable"),
        pytest.param("not a host:8081", "does not resolve", id="garbage"),
    ],
)
def test_listen_address_that_cannot_be_bound_is_an_error(
    cli: Cli, config_file: Callable[..., Path], tmp_path: Path, listen: str, says: str
) -> None:
    token_file = tmp_path / "dashboard.token"
    token_file.write_text("0123456789abcdef0123\n")
    path = config_file(dashboard=_dashboard(listen, token_file))

    result = cli("--config", str(path), "config", "validate")

    assert result.returncode == 1
    assert "dashboard.listen: " in result.stderr and says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_listen_on_a_port_in_use_is_no_error(cli: Cli, config_file: Callable[..., Path]) -> None:
    # The running daemon holds its own port: validating its configuration must pass.
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        path = config_file(dashboard=_dashboard(f"127.0.0.1:{port}"))
        result = cli("--config", str(path), "config", "validate")

    assert result.returncode == 0, result.stderr
