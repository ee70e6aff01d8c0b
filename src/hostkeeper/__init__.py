"""hostkeeper: runs a host's maintenance procedures on a schedule, under systemd."""

__version__ = "0.1.0"
