from __future__ import annotations

import os
import pwd

from hostkeeper.adapters.identity import invoking_user, user_name


def test_without_sudo_the_real_users_login_name() -> None:
    assert invoking_user({}, uid=0) == "root"
    assert invoking_user({}) == pwd.getpwuid(os.getuid()).pw_name


def test_through_sudo_to_root_the_user_who_ran_sudo() -> None:
    assert invoking_user({"SUDO_USER": "alice"}, uid=0) == "alice"


def test_through_sudo_to_another_account_both_names() -> None:
    nobody = pwd.getpwnam("nobody").pw_uid
    assert invoking_user({"SUDO_USER": "alice"}, uid=nobody) == "alice (as nobody)"


def test_sudo_from_the_same_account_is_that_account() -> None:
    assert invoking_user({"SUDO_USER": "root"}, uid=0) == "root"
    assert invoking_user({"SUDO_USER": "  "}, uid=0) == "root"


def test_a_uid_without_a_name_is_shown_as_a_number() -> None:
    unused = next(uid for uid in range(54321, 60000) if not _known(uid))
    assert user_name(unused) == f"uid {unused}"


def _known(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True
