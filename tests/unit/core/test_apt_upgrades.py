from __future__ import annotations

from hostkeeper.core.apt_upgrades import (
    is_security_origin,
    parse_held,
    parse_simulation,
    reboot_packages,
)

# The shape of `LC_ALL=C apt-get -s upgrade` on Debian 12.
BOOKWORM = """\
NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
      Keep also in mind that locking is deactivated,
      so don't depend on the relevance to the real current situation!
Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages have been kept back:
  linux-image-amd64 other-kept
The following packages will be upgraded:
  libssl3 openssl tzdata
3 upgraded, 0 newly installed, 0 to remove and 2 not upgraded.
Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst openssl [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
Inst tzdata [2024a-0+deb12u1] (2024b-0+deb12u1 Debian:12.8/stable, Debian:12.8/stable [all])
Inst newdep (1.0-1 Debian:12.8/stable [amd64])
Conf libssl3 (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])
Conf tzdata (2024b-0+deb12u1 Debian:12.8/stable [all])
"""


def test_upgrades_are_split_by_origin() -> None:
    simulation = parse_simulation(BOOKWORM, ["security"])
    assert [u.package for u in simulation.security] == ["libssl3", "openssl"]
    assert [u.package for u in simulation.other] == ["tzdata", "newdep"]
    libssl = simulation.security[0]
    assert (libssl.installed, libssl.candidate) == ("3.0.11-1~deb12u1", "3.0.11-1~deb12u2")
    assert libssl.origins == ("Debian-Security:12/stable-security",)
    tzdata = simulation.other[0]
    assert tzdata.origins == ("Debian:12.8/stable", "Debian:12.8/stable")
    assert simulation.other[1].installed is None
    assert simulation.kept_back == ("linux-image-amd64", "other-kept")


def test_ubuntu_security_pocket_is_security() -> None:
    line = "Inst libc6 [2.35-0ubuntu3.6] (2.35-0ubuntu3.7 Ubuntu:22.04/jammy-security [amd64])"
    [upgrade] = parse_simulation(line, ["security"]).upgrades
    assert upgrade.security


def test_markers_are_configurable_and_case_insensitive() -> None:
    assert is_security_origin("local:1/test-SECURITY", ["security"])
    assert not is_security_origin("Debian:12.8/stable", ["security"])
    assert is_security_origin("Vendor:1/hotfix", ["hotfix"])


def test_nothing_to_upgrade_is_empty() -> None:
    text = (
        "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
    )
    simulation = parse_simulation(text, ["security"])
    assert simulation.upgrades == () and simulation.kept_back == ()


def test_held_and_reboot_lists() -> None:
    assert parse_held("zlib1g\n\nbash\nzlib1g\n") == ["bash", "zlib1g"]
    assert reboot_packages(["linux-image-6.1.0-27-amd64\n", "libc6\n", "libc6\n", "\n"]) == [
        "linux-image-6.1.0-27-amd64",
        "libc6",
    ]
