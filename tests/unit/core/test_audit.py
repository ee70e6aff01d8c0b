from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

from hostkeeper.core.audit import (
    FileFacts,
    Severity,
    certificate_findings,
    exposure_findings,
    private_file_findings,
    secret_findings,
    secrets_in_line,
)

NOW = datetime(2026, 11, 27, tzinfo=UTC)


def test_each_kind_of_secret_is_recognised() -> None:
    assert secrets_in_line("-----BEGIN OPENSSH PRIVATE KEY-----") == ["private key"]
    assert "AWS access key id" in secrets_in_line("key = AKIAIOSFODNN7EXAMPLE")
    assert "password in URL" in secrets_in_line("url: postgres://app:s3cretpw@db/app")
    assert secrets_in_line("password: hunter22") == ["password value"]
    assert "GitHub token" in secrets_in_line("t: ghp_" + "a" * 36)


HEADER_ARGUMENT_AND_URL_SECRETS = (
    ('curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abc" https://api', "authorization header"),
    ("Authorization: Basic aGs6czNjcmV0cGFzcw==", "authorization header"),
    ("ExecStart=/usr/bin/app --password=hunter22", "secret command-line argument"),
    ("ExecStart=/usr/bin/app --token hunter22tok", "secret command-line argument"),
    ("run: [pg_dump, --password, hunter22]", "secret command-line argument"),
    ('argv: ["sync", "--api-key=k3y-value-1"]', "secret command-line argument"),
    ("url: https://hooks.example.com/x?token=abcdef1234", "token in URL"),
    ("GET /report?format=json&access_token=abcdef123456", "token in URL"),
)


def test_headers_arguments_and_url_tokens_are_secrets() -> None:
    for line, kind in HEADER_ARGUMENT_AND_URL_SECRETS:
        assert kind in secrets_in_line(line), line


def test_references_and_placeholders_are_not_secrets() -> None:
    for line in (
        "password_file: /etc/app/pw",
        "password: ${DB_PASSWORD}",
        "token: null",
        "password: <set me>",
        "# tokens are rotated weekly",
        "Authorization: Bearer ${TOKEN}",
        "ExecStart=/usr/bin/app --password-file /etc/app/pw",
        "ExecStart=/usr/bin/app --token-file=/etc/app/token",
        "pg_dump --no-password -d app",
        "run: [app, --token, ${APP_TOKEN}]",
        "url: https://example.org/x?token=${TOKEN}",
        "url: https://example.org/search?page=2",
    ):
        assert secrets_in_line(line) == [], line


def test_secret_findings_carry_the_line_and_never_the_value() -> None:
    findings = secret_findings("/etc/app.yaml", ["a: 1", "password: hunter22"])
    assert [(f.line, f.severity) for f in findings] == [(2, Severity.HIGH)]
    assert "hunter22" not in repr(findings)
    exposed = secret_findings("/etc/app.yaml", ["password: hunter22"], world_readable=True)
    assert exposed[0].severity is Severity.CRITICAL


def test_private_file_modes_and_owners() -> None:
    regular = stat.S_IFREG
    assert private_file_findings(FileFacts("/x", regular | 0o600, 0), frozenset({0})) == []
    kinds = {
        f.kind
        for f in private_file_findings(FileFacts("/x", regular | 0o666, 1000), frozenset({0}))
    }
    assert kinds == {"world-writable", "world-readable", "unexpected owner"}
    sticky_tmp = FileFacts("/tmp", stat.S_IFDIR | stat.S_ISVTX | 0o777, 0)
    assert "world-writable" not in {f.kind for f in private_file_findings(sticky_tmp, frozenset())}


def test_certificate_expiry_levels() -> None:
    assert certificate_findings("/c", NOW + timedelta(days=90), NOW, 30) == []
    [soon] = certificate_findings("/c", NOW + timedelta(days=20), NOW, 30)
    assert soon.severity is Severity.MEDIUM
    [close] = certificate_findings("/c", NOW + timedelta(days=3), NOW, 30)
    assert close.severity is Severity.HIGH
    [expired] = certificate_findings("/c", NOW - timedelta(days=1), NOW, 30)
    assert expired.kind == "certificate expired"


def test_unit_exposure_above_three_is_a_finding() -> None:
    assert exposure_findings("hostkeeper.service", 2.5) == []
    assert exposure_findings("hostkeeper.service", 9.6)[0].severity is Severity.HIGH
