"""Reading certificate expiry from PEM files with `openssl x509` (no extra dependency)."""

from __future__ import annotations

from datetime import UTC, datetime

from hostkeeper.adapters.commands import run_command


class CertificateError(Exception):
    pass


def not_after(path: str, timeout: float = 10.0) -> datetime:
    """The notAfter time of the first certificate in the PEM file at `path`."""
    result = run_command(["openssl", "x509", "-noout", "-enddate", "-in", path], timeout=timeout)
    if not result.ok:
        detail = result.output.strip().splitlines()[:1] or [result.describe_failure()]
        raise CertificateError(f"cannot read certificate {path}: {detail[0]}")
    text = result.output.strip()
    if not text.startswith("notAfter="):
        raise CertificateError(f"unexpected openssl output for {path}: {text[:80]}")
    # e.g. "notAfter=Nov 27 05:11:11 2027 GMT"
    stamp = " ".join(text.removeprefix("notAfter=").split())
    return datetime.strptime(stamp, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)
