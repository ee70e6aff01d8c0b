"""The invoking user: the effective user, or the one sudo names."""

from __future__ import annotations

import os
import pwd

from hostkeeper.adapters.invoker import invoking_user

ME = pwd.getpwuid(os.geteuid()).pw_name


def test_without_sudo_it_is_the_effective_user() -> None:
    assert invoking_user({}, os.geteuid()) == ME


def test_through_sudo_it_is_the_user_who_ran_sudo() -> None:
    assert invoking_user({"SUDO_USER": "alice"}, os.geteuid()) == "alice"


def test_sudo_to_oneself_names_oneself_and_blank_sudo_user_is_ignored() -> None:
    assert invoking_user({"SUDO_USER": ME}, os.geteuid()) == ME
    assert invoking_user({"SUDO_USER": "  "}, os.geteuid()) == ME


def test_a_uid_without_a_name_is_shown_as_a_number() -> None:
    unused = next(uid for uid in range(60_000, 65_000) if not _known(uid))
    assert invoking_user({}, unused) == f"uid {unused}"


def _known(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True
