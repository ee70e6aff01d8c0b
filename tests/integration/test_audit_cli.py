"""`hostkeeper audit` finds planted problems and never prints a planted secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

TOKEN = "ghp_" + "Zq8Xw2Lm4Nv6Bc0Dk9Hj1Fg3Ts5Ry7Pu2Ae4"
PASSWORD = "pl4nted-Passw0rd-value"


def _openssl_certificate(directory: Path, days: int) -> tuple[Path, Path]:
    key, cert = directory / "site.key", directory / "site.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            str(days),
            "-subj",
            "/CN=audit.test",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key, cert


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, Path]:
    etc = tmp_path / "etc"
    backups = tmp_path / "backups"
    etc.mkdir(mode=0o750)
    backups.mkdir(mode=0o750)
    (etc / "app.yaml").write_text(f"api:\n  token: {TOKEN}\n  password: {PASSWORD}\n")
    (etc / "app.yaml").chmod(0o600)
    writable = backups / "dump.sql"
    writable.write_text("data\n")
    writable.chmod(0o666)  # the planted problem
    key, cert = _openssl_certificate(etc, days=5)
    key.chmod(0o644)  # a world-readable private key
    cert.chmod(0o600)
    config = tmp_path / "hostkeeper.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "paths": {
                    "state_dir": str(tmp_path / "state"),
                    "report_dir": str(tmp_path / "reports"),
                    "backup_dir": str(backups),
                    "log_dir": str(tmp_path / "log"),
                },
                "database": {"url": f"sqlite:///{tmp_path / 'state' / 'hk.db'}"},
                "security": {
                    "scan_paths": [str(etc)],
                    "private_paths": [str(etc), str(backups)],
                    "certificates": [str(cert)],
                    "warn_days": 30,
                },
            }
        )
    )
    config.chmod(0o600)
    return {
        "config": config,
        "etc": etc,
        "writable": writable,
        "key": key,
        "cert": cert,
        "reports": tmp_path / "reports",
    }


def _audit(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hostkeeper", "--config", str(config), *extra, "audit"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_audit_finds_every_planted_problem(planted: dict[str, Path]) -> None:
    result = _audit(planted["config"], "--json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    kinds = {(f["kind"], f["path"]) for f in findings}
    assert ("world-writable", str(planted["writable"])) in kinds
    assert ("world-readable secret", str(planted["key"])) in kinds
    assert any(
        f["kind"] == "certificate expiring" and f["path"] == str(planted["cert"]) for f in findings
    )
    app = str(planted["etc"] / "app.yaml")
    secrets = [f for f in findings if f["path"] == app and f["kind"] == "secret"]
    assert {f["line"] for f in secrets} == {2, 3}
    assert all(f["fix"] and f["severity"] for f in findings)


def test_audit_output_and_report_never_contain_a_planted_secret(planted: dict[str, Path]) -> None:
    for extra in ((), ("--json",)):
        result = _audit(planted["config"], *extra)
        assert TOKEN not in result.stdout + result.stderr
        assert PASSWORD not in result.stdout + result.stderr
        assert "PRIVATE KEY-----\nMII" not in result.stdout
    [report] = (planted["reports"] / "security").glob("monthly_*.json")
    text = report.read_text()
    assert TOKEN not in text and PASSWORD not in text
    assert json.loads(text)["summary"]["critical"] >= 2


def test_a_clean_setup_has_no_findings(planted: dict[str, Path]) -> None:
    planted["writable"].chmod(0o600)
    planted["key"].unlink()
    (planted["etc"] / "app.yaml").write_text("api:\n  password_file: /etc/app/secret\n")
    _key, cert = _openssl_certificate(planted["etc"], days=400)
    cert.chmod(0o600)
    (planted["etc"] / "site.key").unlink()
    for path in planted["etc"].parent.iterdir():
        if path.is_dir():
            os.chmod(path, 0o700)
    result = _audit(planted["config"])
    assert result.returncode == 0, result.stdout
    assert "no findings" in result.stdout


BEARER = "eyJhbGciOiJIUzI1NiJ9.planted-bearer"
ARGUMENT = "planted-arg-s3cret"
URL_TOKEN = "planted-query-t0ken"


def test_audit_finds_headers_arguments_and_url_tokens(planted: dict[str, Path]) -> None:
    unit = planted["etc"] / "sync.service"
    unit.write_text(
        "[Service]\n"
        f"ExecStart=/usr/bin/sync --password={ARGUMENT}\n"
        f'ExecStartPost=/usr/bin/curl -H "Authorization: Bearer {BEARER}" https://api\n'
        f"Environment=HOOK=https://hooks.example.org/x?token={URL_TOKEN}\n"
    )
    unit.chmod(0o600)
    result = _audit(planted["config"], "--json")
    assert result.returncode == 1, result.stderr
    found = {
        f["line"]: f["message"]
        for f in json.loads(result.stdout)["findings"]
        if f["path"] == str(unit)
    }
    assert "secret command-line argument" in found[2]
    assert "authorization header" in found[3]
    assert "token in URL" in found[4]
    for secret in (BEARER, ARGUMENT, URL_TOKEN):
        assert secret not in result.stdout + result.stderr
