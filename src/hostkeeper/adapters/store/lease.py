"""Who of several daemons does a fleet-wide job: a PostgreSQL advisory lock.

The holder keeps a session-level advisory lock on a connection of its own. The server
drops the lock with the session, so a holder that is killed, loses its network or sees
the database restart loses it at once, and the next daemon to ask takes it over: exactly
one holder at a time, without a lease to expire or clocks to agree on.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import Connection, text

from hostkeeper.adapters.store.database import Store

log = logging.getLogger("hostkeeper.store")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (pg_advisory_lock takes a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AdvisoryLease:
    def __init__(self, store: Store, name: str) -> None:
        if store.engine.dialect.name != "postgresql":
            raise ValueError("an advisory lease needs a PostgreSQL store")
        self.store = store
        self.name = name
        self.key = lock_key(name)
        self._connection: Connection | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None

    def hold(self) -> bool:
        """Whether this process holds the lock now: keeps it if its session still
        answers, else tries to take it. Never raises; a database error means no."""
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except Exception:  # the session is gone, and the lock with it
                self._drop()
        try:
            connection = self.store.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"  # never idle in a transaction while holding
            )
        except Exception:
            return False
        try:
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except Exception:
            connection.invalidate()
            connection.close()
            return False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        """Let another daemon take the lock (on stop, or when this one stops watching)."""
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._connection.close()
            self._connection = None
        except Exception:
            self._drop()

    def _drop(self) -> None:
        """Forget a broken session; it never goes back to the pool (it may still hold
        the lock until the server notices)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.invalidate()
            connection.close()
        except Exception:
            log.debug("closing a broken lease connection failed", exc_info=True)
