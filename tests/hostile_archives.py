"""Hostile tar.gz archives for the restore tests (unit tests and the system interpreter).

Each attack writes, after one harmless file, members that try to leave the target or
to plant something dangerous; `outside` is a directory next to the target that must
stay exactly as it was.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

HARMLESS = "harmless.txt"
Attack = Callable[[tarfile.TarFile, Path], None]


def add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mode = mode
    tar.addfile(member, io.BytesIO(data))


def _special(tar: tarfile.TarFile, name: str, kind: bytes, linkname: str = "") -> None:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = linkname
    if kind == tarfile.CHRTYPE:
        member.devmajor, member.devminor = 1, 3
    tar.addfile(member)


def dot_dot(tar: tarfile.TarFile, outside: Path) -> None:
    depth = len(outside.parts) + 3
    add_file(tar, "../" * depth + str(outside).lstrip("/") + "/planted", b"owned\n")


def dot_dot_inside(tar: tarfile.TarFile, outside: Path) -> None:
    add_file(tar, f"sub/../../{outside.name}/planted", b"owned\n")


def absolute(tar: tarfile.TarFile, outside: Path) -> None:
    add_file(tar, str(outside / "planted"), b"owned\n")


def symlink(tar: tarfile.TarFile, outside: Path) -> None:
    _special(tar, "link", tarfile.SYMTYPE, str(outside / "precious"))


def symlink_then_write_through(tar: tarfile.TarFile, outside: Path) -> None:
    _special(tar, "escape", tarfile.SYMTYPE, str(outside))
    add_file(tar, "escape/planted", b"owned\n")


def hard_link(tar: tarfile.TarFile, outside: Path) -> None:
    _special(tar, "hard", tarfile.LNKTYPE, str(outside / "precious"))


def device(tar: tarfile.TarFile, outside: Path) -> None:
    _special(tar, "null", tarfile.CHRTYPE)


def fifo(tar: tarfile.TarFile, outside: Path) -> None:
    _special(tar, "pipe", tarfile.FIFOTYPE)


def duplicate_name(tar: tarfile.TarFile, outside: Path) -> None:
    add_file(tar, "dir/twice", b"first\n")
    add_file(tar, "dir/./twice", b"second, replacing the first\n")


ATTACKS: dict[str, Attack] = {
    "dot-dot": dot_dot,
    "dot-dot-inside": dot_dot_inside,
    "absolute": absolute,
    "symlink": symlink,
    "symlink-then-write-through": symlink_then_write_through,
    "hard-link": hard_link,
    "device": device,
    "fifo": fifo,
    "duplicate-name": duplicate_name,
}


def write_hostile(path: Path, attack: Attack, outside: Path) -> Path:
    """A tar.gz at `path`: one harmless file, then the attack's members."""
    with tarfile.open(path, mode="w:gz") as tar:
        add_file(tar, HARMLESS, b"fine\n")
        attack(tar, outside)
    return path


def write_with_modes(path: Path, modes: dict[str, int]) -> Path:
    """A tar.gz of regular files named by `modes`, each archived with its mode."""
    with tarfile.open(path, mode="w:gz") as tar:
        for name, mode in modes.items():
            add_file(tar, name, f"{name}\n".encode(), mode)
    return path
