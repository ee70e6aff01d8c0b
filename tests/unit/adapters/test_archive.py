"""Archives: manifest and sidecar, verification, tampering, hostile tars, restore."""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hostkeeper.adapters.archive import (
    MANIFEST,
    ArchiveResult,
    BackupError,
    create_archive,
    list_archives,
    parse_archive_name,
    remove_leftovers,
    restore_archive,
    verify_archive,
)

NOW = datetime(2024, 6, 30, 12, 0, 5, tzinfo=UTC)

# A hostile archive's contents: `build(tar, add_file)` adds members, through `add_file`
# the regular files the manifest should list.
AddFile = Callable[[tarfile.TarFile, str, bytes], None]
Build = Callable[[tarfile.TarFile, AddFile], None]


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    root = tmp_path / "etc" / "app"
    (root / "conf.d").mkdir(parents=True)
    (root / "app.yaml").write_text("key: value\n")
    os.chmod(root / "app.yaml", 0o640)
    (root / "conf.d" / "extra.yaml").write_text("extra: 1\n")
    (root / "conf.d" / "edit.swp").write_text("swap\n")
    (root / "big.bin").write_bytes(os.urandom(300_000))
    return root


def make(sources: Path, backups: Path, exclude: list[str] | None = None) -> ArchiveResult:
    return create_archive("config", [str(sources)], exclude or [], backups / "config", NOW)


def members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path, "r:gz") as tar:
        return {member.name: member for member in tar.getmembers()}


def manifest_of(path: Path) -> dict[str, Any]:
    with tarfile.open(path, "r:gz") as tar:
        handle = tar.extractfile(MANIFEST)
        assert handle is not None
        manifest: dict[str, Any] = json.loads(handle.read())
        return manifest


def test_archive_name_manifest_and_sidecar(sources: Path, tmp_path: Path) -> None:
    result = make(sources, tmp_path / "backups", exclude=["*.swp"])
    assert result.path.name == "config-20240630T120005Z.tar.gz"
    assert parse_archive_name(result.path.name) == ("config", NOW.replace(microsecond=0))
    manifest = manifest_of(result.path)
    files = {entry["path"]: entry for entry in manifest["files"]}
    relative = str(sources).lstrip("/")
    assert set(files) == {
        f"{relative}/app.yaml",
        f"{relative}/conf.d/extra.yaml",
        f"{relative}/big.bin",
    }
    entry = files[f"{relative}/app.yaml"]
    assert entry["size"] == 11 and entry["mode"] == 0o640
    assert entry["sha256"] == hashlib.sha256(b"key: value\n").hexdigest()
    assert manifest["set"] == "config" and manifest["sources"] == [str(sources)]
    assert f"{relative}/conf.d" in [d["path"] for d in manifest["directories"]]
    assert result.files == 3
    # the sidecar is what `sha256sum -c` expects
    check = subprocess.run(
        ["sha256sum", "-c", result.path.name + ".sha256"],
        cwd=result.path.parent,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert sorted(p.name for p in result.path.parent.iterdir()) == [
        result.path.name,
        result.path.name + ".sha256",
    ]


def test_the_archive_is_readable_by_gnu_tar(sources: Path, tmp_path: Path) -> None:
    result = make(sources, tmp_path / "backups")
    listing = subprocess.run(
        ["tar", "-tzf", str(result.path)], capture_output=True, text=True, check=True
    )
    assert MANIFEST in listing.stdout.split()


def test_symlinks_in_sources_are_reported_not_archived(sources: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("outside")
    (sources / "link").symlink_to(secret)
    result = make(sources, tmp_path / "backups")
    assert not any(name.endswith("/link") for name in members(result.path))
    assert (f"{sources}/link", "is a symlink, not followed") in result.skipped


def test_an_unreadable_file_is_reported_not_fatal(sources: Path, tmp_path: Path) -> None:
    locked = sources / "locked.yaml"
    locked.write_text("secret: 1\n")
    os.chmod(locked, 0o000)
    backups = tmp_path / "backups"
    if os.geteuid() == 0:
        # root reads everything: archive in a forked child without capabilities, which
        # meets a real EACCES on `locked` and nowhere else, wherever the checkout lives
        files, unreadable = _in_child_without_capabilities(lambda: make(sources, backups))
    else:
        result = make(sources, backups)
        files, unreadable = result.files, result.unreadable
    assert files == 4
    assert unreadable == [(str(locked), "Permission denied")]


def _in_child_without_capabilities(
    archive: Callable[[], ArchiveResult],
) -> tuple[int, list[tuple[str, str]]]:
    """Run `archive` in a fork of this process that has dropped every capability.

    The child keeps uid 0, so the owner bits of the root-owned test files decide, and it
    needs no import (a child that must import the package fails under a 0700 parent).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        status = 1
        try:
            os.close(read_end)
            header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
            no_capabilities = (ctypes.c_uint32 * 6)()
            if ctypes.CDLL(None, use_errno=True).capset(header, no_capabilities) != 0:
                raise OSError(ctypes.get_errno(), "capset failed")
            result = archive()
            os.write(write_end, json.dumps([result.files, result.unreadable]).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read()
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0, "the archiving child failed"
    files, unreadable = json.loads(output)
    return files, [tuple(item) for item in unreadable]


_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def test_verify_passes_for_an_intact_archive(sources: Path, tmp_path: Path) -> None:
    result = make(sources, tmp_path / "backups")
    verified = verify_archive(result.path, result.sha256)
    assert verified.ok, verified.problems
    assert verified.files == 4 and verified.sha256 == result.sha256


def test_one_flipped_byte_fails_verification(sources: Path, tmp_path: Path) -> None:
    result = make(sources, tmp_path / "backups")
    data = bytearray(result.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    result.path.write_bytes(bytes(data))
    verified = verify_archive(result.path, result.sha256)
    assert not verified.ok
    assert "archive sha256 differs from its .sha256 sidecar" in verified.problems
    restored = restore_archive(result.path, tmp_path / "restore")
    assert not restored.ok and not (tmp_path / "restore").exists()


def test_a_rewritten_archive_with_a_matching_sidecar_fails_on_the_manifest(
    sources: Path, tmp_path: Path
) -> None:
    result = make(sources, tmp_path / "backups")
    manifest = manifest_of(result.path)
    buffer = io.BytesIO()
    with tarfile.open(result.path, "r:gz") as old, tarfile.open(fileobj=buffer, mode="w:gz") as new:
        for member in old.getmembers():
            handle = old.extractfile(member) if member.isfile() else None
            data = handle.read() if handle else b""
            if member.name.endswith("app.yaml"):
                data = b"key: EVIL!\n"
            if member.name == MANIFEST:
                data = json.dumps(manifest).encode()
            member.size = len(data)
            new.addfile(member, io.BytesIO(data) if member.isfile() else None)
    result.path.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    (result.path.parent / (result.path.name + ".sha256")).write_text(f"{digest}  x\n")
    verified = verify_archive(result.path)
    assert not verified.ok
    assert any("app.yaml: content differs from the manifest" in p for p in verified.problems)


def test_restore_recreates_every_file_and_checks_the_manifest(
    sources: Path, tmp_path: Path, data_filter: str
) -> None:
    result = make(sources, tmp_path / "backups")
    target = tmp_path / "restore"
    restored = restore_archive(result.path, target)
    assert restored.ok, restored.problems
    assert restored.files_checked == 4
    copy = target / str(sources).lstrip("/")
    assert (copy / "app.yaml").read_text() == "key: value\n"
    assert (copy / "big.bin").read_bytes() == (sources / "big.bin").read_bytes()
    assert oct(os.stat(copy / "app.yaml").st_mode & 0o777) == oct(0o640)
    assert not (target / MANIFEST).exists()


def test_restore_needs_a_fresh_directory(sources: Path, tmp_path: Path) -> None:
    result = make(sources, tmp_path / "backups")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        restore_archive(result.path, busy)
    (tmp_path / "empty").mkdir()
    assert restore_archive(result.path, tmp_path / "empty").ok


def hostile_archive(path: Path, build: Build) -> Path:
    """A tar.gz built by `build(tar)`, with a manifest of its regular files and a correct
    sidecar, so only the member allowlist can stop it."""
    files: list[dict[str, object]] = []

    def add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        member = tarfile.TarInfo(name)
        member.size = len(data)
        member.mode = 0o644
        tar.addfile(member, io.BytesIO(data))
        digest = hashlib.sha256(data).hexdigest()
        files.append({"path": name, "size": len(data), "mode": 0o644, "sha256": digest})

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        build(tar, add_file)
        data = json.dumps({"files": files, "directories": []}).encode()
        manifest = tarfile.TarInfo(MANIFEST)
        manifest.size = len(data)
        tar.addfile(manifest, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    path.with_name(path.name + ".sha256").write_text(f"{digest}  {path.name}\n")
    return path


def symlink_then_write_through(outside: Path) -> Build:
    def build(tar: tarfile.TarFile, add_file: AddFile) -> None:
        link = tarfile.TarInfo("escape")
        link.type = tarfile.SYMTYPE
        link.linkname = str(outside)
        tar.addfile(link)
        add_file(tar, "escape/planted", b"owned\n")

    return build


def dot_dot(outside: Path) -> Build:
    depth = len(outside.parts) + 3
    return lambda tar, add_file: add_file(
        tar, "../" * depth + str(outside).lstrip("/") + "/planted", b"owned\n"
    )


def absolute(outside: Path) -> Build:
    return lambda tar, add_file: add_file(tar, str(outside / "planted"), b"owned\n")


def hard_link(outside: Path) -> Build:
    def build(tar: tarfile.TarFile, add_file: AddFile) -> None:
        link = tarfile.TarInfo("hard")
        link.type = tarfile.LNKTYPE
        link.linkname = str(outside / "precious")
        tar.addfile(link)

    return build


def device(outside: Path) -> Build:
    def build(tar: tarfile.TarFile, add_file: AddFile) -> None:
        node = tarfile.TarInfo("null")
        node.type = tarfile.CHRTYPE
        node.devmajor, node.devminor = 1, 3
        tar.addfile(node)

    return build


@pytest.mark.parametrize(
    "attack", [symlink_then_write_through, dot_dot, absolute, hard_link, device]
)
def test_a_hostile_archive_restores_nothing_outside_the_target(
    tmp_path: Path,
    attack: Callable[[Path], Build],
    data_filter: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep\n")
    archive = hostile_archive(tmp_path / "config-20240101T000000Z.tar.gz", attack(outside))
    verified = verify_archive(archive)
    assert not verified.ok
    target = tmp_path / "target"
    restored = restore_archive(archive, target)
    assert not restored.ok
    assert sorted(p.name for p in outside.iterdir()) == ["precious"]
    assert (outside / "precious").read_text() == "keep\n"
    assert not target.exists() or list(target.iterdir()) == []


def test_listing_ignores_temp_files_and_leftovers_are_removed(
    sources: Path, tmp_path: Path
) -> None:
    result = make(sources, tmp_path / "backups")
    directory = result.path.parent
    (directory / ".config-20240701T000000Z.tar.gz.tmp").write_bytes(b"partial")
    (directory / "config-20240601T000000Z.tar.gz.sha256").write_text("orphan")
    (directory / "notes.txt").write_text("operator's")
    assert [a.name for a in list_archives(directory, "config")] == [result.path.name]
    removed = remove_leftovers(directory)
    assert removed == [
        ".config-20240701T000000Z.tar.gz.tmp",
        "config-20240601T000000Z.tar.gz.sha256",
    ]
    assert sorted(p.name for p in directory.iterdir()) == [
        result.path.name,
        result.path.name + ".sha256",
        "notes.txt",
    ]


def test_two_archives_in_the_same_second_get_distinct_names(sources: Path, tmp_path: Path) -> None:
    first = make(sources, tmp_path / "backups")
    second = make(sources, tmp_path / "backups")
    assert second.path.name == "config-20240630T120005Z-2.tar.gz"
    assert [a.name for a in list_archives(first.path.parent, "config")] == [
        first.path.name,
        second.path.name,
    ]


def test_missing_sources_are_reported(tmp_path: Path) -> None:
    result = create_archive("s", [str(tmp_path / "nope"), "relative/path"], [], tmp_path / "b", NOW)
    assert result.files == 0
    assert (str(tmp_path / "nope"), "No such file or directory") in result.unreadable
    # Relative sources are relative to the working directory, like every configured path.
    assert (str(Path.cwd() / "relative/path"), "No such file or directory") in result.unreadable
    assert verify_archive(result.path).ok


@pytest.mark.parametrize("second", ["etc/app.yaml", "./etc/app.yaml", "etc//app.yaml"])
def test_an_archive_with_a_member_twice_fails_verification_and_restores_nothing(
    tmp_path: Path, second: str
) -> None:
    # The manifest lists the second copy (what a restore would leave), so only the
    # duplicate itself can fail it.
    def build(tar: tarfile.TarFile, add_file: AddFile) -> None:
        add_file(tar, "etc/app.yaml", b"first\n")
        add_file(tar, second, b"second\n")

    path = hostile_archive(tmp_path / "dup-20240630T120000Z.tar.gz", build)
    verified = verify_archive(path)
    assert not verified.ok
    assert any("appears twice" in problem for problem in verified.problems), verified.problems
    assert not restore_archive(path, tmp_path / "restore").ok
