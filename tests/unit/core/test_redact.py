"""Redaction rules, table-driven: each case is a secret that must disappear and the
part that must stay readable."""

from __future__ import annotations

import pytest

from hostkeeper.core.redact import (
    REDACTED,
    argv_secrets,
    looks_like_token,
    redact_argv,
    redact_text,
    redact_url,
    redact_value,
)

# (url, secrets that must be gone, text that must stay)
URLS: tuple[tuple[str, list[str], str], ...] = (
    ("http://user:pass@hooks.example.org/hook", ["user", "pass"], "hooks.example.org/hook"),
    ("https://tok3n@github.com/org/repo.git", ["tok3n"], "github.com/org/repo.git"),
    ("http://h/hook?token=abc123&team=ops", ["abc123", "ops"], "token=***&team=***"),
    ("https://h/cb#access_token=abcdef", ["abcdef"], "https://h/cb#***"),
    (
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        ["XXXXXXXXXXXXXXXXXXXXXXXX"],
        "/services/T00000000/B00000000/***",
    ),
    (
        "https://discord.com/api/webhooks/123456789012345678/aBcD-eFgH_1234ijkl5678",
        ["aBcD-eFgH_1234ijkl5678"],
        "/api/webhooks/123456789012345678/***",
    ),
    (
        "https://x.webhook.office.com/webhookb2/8c9e4a4e-1f2b-4c3d-9e8f-0a1b2c3d4e5f@tenant/",
        ["8c9e4a4e-1f2b-4c3d-9e8f-0a1b2c3d4e5f"],
        "x.webhook.office.com/webhookb2/",
    ),
    ("http://127.0.0.1:9093/api/v2/alerts", [], "http://127.0.0.1:9093/api/v2/alerts"),
    ("http://[::1]:8080/a?b", ["?b"], "http://[::1]:8080/a?***"),
)


@pytest.mark.parametrize(("url", "gone", "kept"), URLS)
def test_redact_url(url: str, gone: list[str], kept: str) -> None:
    shown = redact_url(url)
    for secret in gone:
        assert secret not in shown, shown
    assert kept in shown
    assert redact_url(shown) == shown  # idempotent


# (argv, redacted argv)
ARGVS = (
    (["app", "--password=hunter2"], ["app", "--password=***"]),
    (["app", "--token", "t0k", "-v"], ["app", "--token", "***", "-v"]),
    (["app", "--db-password", "pw"], ["app", "--db-password", "***"]),
    (["app", "--api-key=k"], ["app", "--api-key=***"]),
    (["app", "--secret", "s"], ["app", "--secret", "***"]),
    (["curl", "-H", "Authorization: Bearer abc"], ["curl", "-H", "Authorization: ***"]),
    (["curl", "-H", "X-Auth-Token: abc"], ["curl", "-H", "X-Auth-Token: ***"]),
    (["env", "DB_PASSWORD=pw", "app"], ["env", "DB_PASSWORD=***", "app"]),
    (["app", "http://u:p@h/?k=v"], ["app", "http://***@h/?k=***"]),
    (["pg_dump", "--no-password", "-d", "db"], ["pg_dump", "--no-password", "-d", "db"]),
    (["app", "--token-file", "/etc/t"], ["app", "--token-file", "/etc/t"]),
    (["app", "--password-file=/etc/p"], ["app", "--password-file=/etc/p"]),
    (["backup", "--verbose", "/srv"], ["backup", "--verbose", "/srv"]),
)


@pytest.mark.parametrize(("argv", "expected"), ARGVS)
def test_redact_argv(argv: list[str], expected: list[str]) -> None:
    assert redact_argv(argv) == expected
    assert redact_argv(expected) == expected


# (text, secret that must be gone)
TEXTS = (
    ("POST http://u:hunter2@h/x failed: 503", "hunter2"),
    ("nonnumeric port: 'hunter2@h'", "hunter2"),  # only with the literal given
    ("curl said: Authorization: Bearer abcdef", "abcdef"),
    ("ran app --password=hunter2 --verbose", "hunter2"),
    ("ran app --token hunter2", "hunter2"),
    ("error: db_password=hunter2 rejected", "hunter2"),
    ("see https://h/?token=hunter2.", "hunter2"),
)


@pytest.mark.parametrize(("text", "secret"), TEXTS)
def test_redact_text(text: str, secret: str) -> None:
    assert secret not in redact_text(text, secrets=["hunter2"])
    if "nonnumeric" not in text:
        assert secret not in redact_text(text)


def test_plain_text_is_left_alone() -> None:
    for text in (
        "connection refused",
        "HTTP 503 from http://127.0.0.1:9/hook",
        "token_required=True",
        "/var/lib/hostkeeper/dashboard.token",
        "rotated 3 files",
    ):
        assert redact_text(text) == text


def test_token_like_segments() -> None:
    assert looks_like_token("XXXXXXXXXXXXXXXXXXXXXXXX")
    assert looks_like_token("8c9e4a4e-1f2b-4c3d")
    assert not looks_like_token("T00000000")
    assert not looks_like_token("alerts")
    assert not looks_like_token("123456789012345678")  # an id, not a secret
    assert not looks_like_token("prometheus-webhook")


def test_redact_value_walks_json_and_argv() -> None:
    value = {
        "argv": ["app", "--token", "t0k"],
        "nested": [{"url": "http://u:p@h/"}],
        "count": 3,
    }
    assert redact_value(value) == {
        "argv": ["app", "--token", REDACTED],
        "nested": [{"url": "http://***@h/"}],
        "count": 3,
    }


def test_argv_secrets_are_the_values_redact_argv_hides() -> None:
    argv = [
        "app",
        "--password=hunter2",
        "--token",
        "t0ken",
        "Authorization: Bearer abcdef",
        "https://user:p4ss@h/?k=v4lue",
        "--verbose",
    ]
    found = argv_secrets(argv)
    for secret in ("hunter2", "t0ken", "abcdef", "p4ss", "user", "v4lue"):
        assert any(secret in value for value in found), secret
    assert "--verbose" not in found and "app" not in found
