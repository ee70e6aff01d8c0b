"""Report files served by the dashboard: listed newest first, nothing else reachable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hostkeeper.web.report_files import list_reports, read_report


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    (root / "daily").mkdir(parents=True)
    for day, stamp in ((1, 1_700_000_000), (2, 1_700_086_400), (3, 1_700_172_800)):
        path = root / "daily" / f"health_report_2023111{day}.html"
        path.write_text(f"<html>day {day}</html>")
        os.utime(path, (stamp, stamp))
    (root / "security").mkdir()
    (root / "security" / "monthly_20231101.json").write_text('{"findings": []}')
    (root / "daily" / "notes.txt").write_text("not a report")
    return root


def test_reports_are_listed_by_folder_newest_first(report_dir: Path) -> None:
    listed = list_reports(report_dir)
    assert list(listed) == ["daily", "security"]
    assert [r.name for r in listed["daily"]] == [
        "health_report_20231113.html",
        "health_report_20231112.html",
        "health_report_20231111.html",
    ]
    assert listed["daily"][0].url == "/reports/daily/health_report_20231113.html"
    assert [r.name for r in list_reports(report_dir, per_folder=1)["daily"]] == [
        "health_report_20231113.html"
    ]


def test_a_report_is_read_with_its_content_type(report_dir: Path) -> None:
    assert read_report(report_dir, "daily", "health_report_20231112.html") == (
        b"<html>day 2</html>",
        "text/html; charset=utf-8",
    )
    assert read_report(report_dir, "security", "monthly_20231101.json") == (
        b'{"findings": []}',
        "application/json",
    )


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("daily", "notes.txt"),  # not a report type
        ("daily", "../security/monthly_20231101.json"),
        ("..", "reports/daily/health_report_20231111.html"),
        ("daily", "missing.html"),
        ("", "health_report_20231111.html"),
        ("daily", ".hidden.html"),
    ],
)
def test_anything_but_a_report_file_is_refused(report_dir: Path, folder: str, name: str) -> None:
    assert read_report(report_dir, folder, name) is None


def test_symlinks_and_special_files_are_never_served(report_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.html"
    secret.write_text("private key")
    (report_dir / "daily" / "link.html").symlink_to(secret)
    (report_dir / "linked").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(report_dir / "daily" / "pipe.html")
    assert read_report(report_dir, "daily", "link.html") is None
    assert read_report(report_dir, "linked", "secret.html") is None
    assert read_report(report_dir, "daily", "pipe.html") is None  # and does not block
    listed = list_reports(report_dir)
    assert "linked" not in listed
    assert {r.name for r in listed["daily"]} == {
        "health_report_20231111.html",
        "health_report_20231112.html",
        "health_report_20231113.html",
    }


def test_a_missing_report_dir_lists_nothing(tmp_path: Path) -> None:
    assert list_reports(tmp_path / "none") == {}
    assert read_report(tmp_path / "none", "daily", "x.html") is None
