"""The daemon: lifecycle, scheduler, metric collector, status line, running config and the
migration child that keeps Alembic out of the long-running process."""
