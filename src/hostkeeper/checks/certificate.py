"""`certificate`: days until the notAfter date of the (first) certificate in a PEM file.

The date is read with `openssl x509 -enddate -noout` (argv, timeout; see
adapters/certificates.py), so no crypto library is needed. Fewer days left than
`critical`, or already expired: critical; fewer than `warning`: warning. A missing file
is critical (the certificate a service needs is gone); a file that cannot be read or
parsed, or a missing `openssl`, is unknown.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from hostkeeper.adapters.certificates import CertificateError, not_after
from hostkeeper.checks import CheckUnavailable
from hostkeeper.config.checks import CertificateCheck
from hostkeeper.core.health import CheckState, Measurement, state_for_low

TYPE = "certificate"
CONFIG = CertificateCheck

SECONDS_PER_DAY = 86400.0


def measure(check: CertificateCheck, timeout: float) -> Measurement:
    try:
        os.stat(check.path)
    except FileNotFoundError:
        return Measurement(CheckState.CRITICAL, f"{check.path} does not exist")
    except OSError as error:
        raise CheckUnavailable(f"cannot read {check.path}: {error.strerror}") from None
    if not os.access(check.path, os.R_OK):
        raise CheckUnavailable(f"cannot read {check.path}: permission denied")
    try:
        expires = not_after(check.path, timeout=timeout)
    except (CertificateError, ValueError) as error:
        raise CheckUnavailable(str(error)) from None
    return days_left_measurement(check, expires, datetime.now(UTC))


def days_left_measurement(check: CertificateCheck, expires: datetime, now: datetime) -> Measurement:
    days = (expires - now).total_seconds() / SECONDS_PER_DAY
    state = state_for_low(
        days,
        check.warning.total_seconds() / SECONDS_PER_DAY,
        check.critical.total_seconds() / SECONDS_PER_DAY,
    )
    when = expires.strftime("%Y-%m-%d %H:%M UTC")
    if days < 0:
        detail = f"expired {-days:.1f} days ago ({when})"
        state = CheckState.CRITICAL
    else:
        detail = f"expires in {days:.1f} days ({when})"
    return Measurement(state, detail, value=round(days, 2), unit="days")
