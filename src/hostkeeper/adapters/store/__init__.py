"""The store: SQLAlchemy 2 Core over SQLite (embedded default) or PostgreSQL (fleets)."""

from hostkeeper.adapters.store.database import Store, open_store

__all__ = ["Store", "open_store"]
