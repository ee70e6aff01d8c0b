"""`certificate` checks on PEM files made by the real openssl."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hostkeeper.checks import measure
from hostkeeper.checks.certificate import days_left_measurement
from hostkeeper.config.checks import CertificateCheck
from hostkeeper.core.health import CheckState

from .peers import make_check

_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _openssl(*parts: list[str]) -> None:
    argv = ["openssl"]
    for part in parts:
        argv.extend(part)
    subprocess.run(argv, check=True, capture_output=True)


def self_signed(directory: Path, days: int) -> Path:
    """A certificate valid from now for `days` days, made with `openssl req -x509`."""
    cert = directory / f"cert-{days}d.pem"
    _openssl(
        ["req", "-x509", *_EC_KEY, "-keyout", str(directory / "key.pem"), "-out", str(cert)],
        ["-days", str(days), "-subj", "/CN=hostkeeper-test"],
    )
    return cert


def expired(directory: Path) -> Path:
    """A certificate that expired on 2020-03-01, signed with `openssl ca` and fixed dates."""
    database = directory / "ca"
    database.mkdir()
    (database / "index.txt").write_text("")
    (database / "serial").write_text("01\n")
    config = directory / "ca.cnf"
    config.write_text(
        "[ca]\ndefault_ca = test\n[test]\n"
        f"database = {database}/index.txt\nnew_certs_dir = {database}\n"
        f"serial = {database}/serial\ndefault_md = sha256\npolicy = anything\n"
        "unique_subject = no\n[anything]\ncommonName = supplied\n"
    )
    request = directory / "request.csr"
    key = directory / "old-key.pem"
    _openssl(
        ["req", "-new", *_EC_KEY, "-keyout", str(key), "-out", str(request)],
        ["-subj", "/CN=expired"],
    )
    cert = directory / "expired.pem"
    _openssl(
        ["ca", "-batch", "-notext", "-config", str(config), "-selfsign", "-keyfile", str(key)],
        ["-in", str(request), "-out", str(cert)],
        ["-startdate", "20200101000000Z", "-enddate", "20200301000000Z"],
    )
    return cert


def _certificate(path: Path, warning: str = "30d", critical: str = "7d") -> CertificateCheck:
    check = make_check(type="certificate", path=str(path), warning=warning, critical=critical)
    assert isinstance(check, CertificateCheck)
    return check


def test_a_certificate_with_time_left_is_ok_and_its_value_is_days_left(tmp_path: Path) -> None:
    measurement = measure(_certificate(self_signed(tmp_path, 90)), timeout=10)
    assert measurement.state is CheckState.OK
    assert measurement.unit == "days"
    assert measurement.value is not None and 89 <= measurement.value <= 90
    assert measurement.detail.startswith("expires in 9")


def test_fewer_days_than_warning_is_a_warning(tmp_path: Path) -> None:
    measurement = measure(_certificate(self_signed(tmp_path, 20)), timeout=10)
    assert measurement.state is CheckState.WARNING


def test_fewer_days_than_critical_is_critical(tmp_path: Path) -> None:
    measurement = measure(_certificate(self_signed(tmp_path, 3)), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert measurement.value is not None and 2 <= measurement.value <= 3


def test_an_expired_certificate_is_critical_with_negative_days(tmp_path: Path) -> None:
    measurement = measure(_certificate(expired(tmp_path)), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert measurement.value is not None and measurement.value < -365
    assert measurement.detail.startswith("expired ")
    assert "2020-03-01 00:00 UTC" in measurement.detail


def test_a_missing_certificate_file_is_critical(tmp_path: Path) -> None:
    measurement = measure(_certificate(tmp_path / "absent.pem"), timeout=10)
    assert measurement.state is CheckState.CRITICAL
    assert "does not exist" in measurement.detail


def test_a_file_that_is_not_a_certificate_is_unknown_with_openssls_reason(
    tmp_path: Path,
) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not PEM\n")
    measurement = measure(_certificate(garbage), timeout=10)
    assert measurement.state is CheckState.UNKNOWN
    assert str(garbage) in measurement.detail


def test_without_openssl_on_path_the_check_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert = self_signed(tmp_path, 90)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    measurement = measure(_certificate(cert), timeout=10)
    assert measurement.state is CheckState.UNKNOWN
    assert "openssl" in measurement.detail


def test_levels_are_compared_with_exact_time_left() -> None:
    check = _certificate(Path("/unused"), warning="30d", critical="7d")
    now = datetime(2024, 1, 1, tzinfo=UTC)
    at_warning = days_left_measurement(check, now + timedelta(days=30), now)
    just_inside = days_left_measurement(check, now + timedelta(days=30, seconds=-1), now)
    assert at_warning.state is CheckState.OK
    assert just_inside.state is CheckState.WARNING
