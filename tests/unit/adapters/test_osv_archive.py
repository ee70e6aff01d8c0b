"""Refreshing the OSV archive: a complete, checked download replaces the old archive;
anything else leaves it in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostkeeper.adapters.osv_archive import ArchiveUnreadable, refresh_archive, scan_archive
from tests.dependency_peers import advisory, write_osv_archive

ONE = advisory("PYSEC-1", "demo-lib", [{"introduced": "0"}, {"fixed": "2.0"}])
TWO = advisory("PYSEC-2", "demo-lib", [{"introduced": "0"}, {"fixed": "3.0"}])


def test_a_good_archive_replaces_the_old_one(tmp_path: Path) -> None:
    source = write_osv_archive(tmp_path / "mirror" / "all.zip", [ONE, TWO])
    target = tmp_path / "state" / "osv" / "PyPI-all.zip"
    write_osv_archive(target, [ONE])
    size = refresh_archive(source.as_uri(), str(target), timeout=30)
    assert size == source.stat().st_size
    assert target.read_bytes() == source.read_bytes()
    scan = scan_archive(str(target), {"env": {"demo-lib": "1.0"}})["env"]
    assert sorted(m.advisory.id for m in scan.matches) == ["PYSEC-1", "PYSEC-2"]
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"<html>not found</html>", "not a readable zip"), (None, "No such file")],
)
def test_a_bad_download_keeps_the_old_archive(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    source = tmp_path / "mirror" / "all.zip"
    if content is not None:
        source.parent.mkdir()
        source.write_bytes(content)
    target = write_osv_archive(tmp_path / "state" / "PyPI-all.zip", [ONE])
    before = target.read_bytes()
    with pytest.raises(ArchiveUnreadable, match=message):
        refresh_archive(source.as_uri(), str(target), timeout=30)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["PyPI-all.zip"]


def test_a_damaged_member_is_refused(tmp_path: Path) -> None:
    source = write_osv_archive(tmp_path / "all.zip", [ONE, TWO])
    data = bytearray(source.read_bytes())
    start = data.index(b"PYSEC-1.json") + len("PYSEC-1.json")
    data[start + 10 : start + 40] = bytes(30)
    source.write_bytes(bytes(data))
    with pytest.raises(ArchiveUnreadable):
        refresh_archive(source.as_uri(), str(tmp_path / "out.zip"), timeout=30)
    assert not (tmp_path / "out.zip").exists()


def test_an_archive_without_advisories_is_refused(tmp_path: Path) -> None:
    source = write_osv_archive(tmp_path / "all.zip", [], extra={"README.txt": b"hello"})
    with pytest.raises(ArchiveUnreadable, match=r"no \.json advisories"):
        refresh_archive(source.as_uri(), str(tmp_path / "out.zip"), timeout=30)
    with pytest.raises(ArchiveUnreadable, match=r"no \.json advisories"):
        scan_archive(str(source), {"env": {"demo-lib": "1.0"}})
