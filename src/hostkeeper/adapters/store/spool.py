"""The local spool: what the daemon could not write to its database, in order, on disk.

A small SQLite file of its own (state_dir/spool.db) holds events in the order they
happened: run events (a run started, a step finished, a run finished) and batches of
metric samples. The daemon replays them into the store, oldest first, once it answers
again. The spool is bounded by `max_bytes`: past it, the oldest sample batches are
dropped and counted; run events are never dropped, whatever the size.

A run that started while the database was away has no id there yet: it gets a local id
(the sequence number of its start event), and once its start is replayed the spool
remembers which stored id it became, so later events of the run find it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SAMPLES = "samples"
RUN_START = "run_start"
STEP = "step"
RUN_FINISH = "run_finish"
RUN_KINDS = (RUN_START, STEP, RUN_FINISH)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    size INTEGER NOT NULL,
    count INTEGER NOT NULL  -- samples in a batch; 1 for a run event
);
CREATE TABLE IF NOT EXISTS run_ids (
    local_id INTEGER PRIMARY KEY,
    stored_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    error TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SpoolStats:
    run_events: int
    sample_batches: int
    samples: int
    bytes: int
    dropped_samples: int  # since the spool file was made
    rejected: int  # events the store refused for good (kept in the spool file)

    @property
    def empty(self) -> bool:
        return self.run_events == 0 and self.sample_batches == 0


class Spool:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a spooled run survives a power cut
        self._db.executescript(_SCHEMA)
        self._empty = self._count() == 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def empty(self) -> bool:
        """Whether nothing waits to be replayed (cheap: kept in memory)."""
        return self._empty

    # -- writing ---------------------------------------------------------------------------

    def append(self, kind: str, payload: dict[str, Any], count: int = 1) -> int:
        """Add an event at the end; its sequence number. Drops the oldest sample batches
        while the spool is over its size (never this event, never run events)."""
        text = json.dumps(payload, separators=(",", ":"))
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "INSERT INTO entries (kind, payload, size, count) VALUES (?, ?, ?, ?)",
                (kind, text, len(text), count),
            )
            seq = int(cursor.lastrowid or 0)
            self._empty = False
            self._enforce_limit(seq)
        return seq

    def _enforce_limit(self, keep: int) -> None:
        (total,) = self._db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()
        if total <= self.max_bytes:
            return
        rows = self._db.execute(
            "SELECT seq, size, count FROM entries WHERE kind = ? AND seq != ? ORDER BY seq",
            (SAMPLES, keep),
        ).fetchall()
        dropped_rows, dropped_samples = [], 0
        for seq, size, count in rows:
            if total <= self.max_bytes:
                break
            dropped_rows.append((seq,))
            dropped_samples += count
            total -= size
        if dropped_rows:
            self._db.executemany("DELETE FROM entries WHERE seq = ?", dropped_rows)
            self._add_counter("dropped_samples", dropped_samples)

    def _add_counter(self, name: str, amount: int) -> None:
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )

    # -- replaying -------------------------------------------------------------------------

    def head(self, limit: int = 100) -> list[Entry]:
        """The oldest events, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, payload FROM entries ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [Entry(seq, kind, json.loads(payload)) for seq, kind, payload in rows]

    def done(self, seq: int, local_id: int | None = None, stored_id: int | None = None) -> None:
        """Event `seq` is in the store; with `local_id`, the run it started is stored as
        `stored_id` from now on."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM entries WHERE seq = ?", (seq,))
            if local_id is not None and stored_id is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO run_ids (local_id, stored_id) VALUES (?, ?)",
                    (local_id, stored_id),
                )
            self._empty = self._count() == 0

    def reject(self, entry: Entry, error: str) -> None:
        """Set aside an event the store refuses for good (kept, counted, never retried),
        so it cannot hold up those behind it."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO rejected (seq, kind, payload, error) VALUES (?, ?, ?, ?)",
                (entry.seq, entry.kind, json.dumps(entry.payload), error[:2000]),
            )
            self._db.execute("DELETE FROM entries WHERE seq = ?", (entry.seq,))
            self._empty = self._count() == 0

    def stored_id(self, local_id: int) -> int | None:
        """The store's id of the run spooled as `local_id`, once its start is replayed."""
        with self._lock:
            row = self._db.execute(
                "SELECT stored_id FROM run_ids WHERE local_id = ?", (local_id,)
            ).fetchone()
        return int(row[0]) if row else None

    def forget_run(self, local_id: int) -> None:
        """The run has finished in the store; its local id is needed no more."""
        with self._lock:
            self._db.execute("DELETE FROM run_ids WHERE local_id = ?", (local_id,))

    def unfinished_local_runs(self) -> list[int]:
        """Local ids of runs whose start is spooled or replayed and whose end is not
        recorded anywhere: runs that were going when the previous daemon stopped."""
        with self._lock:
            started = {
                seq
                for (seq,) in self._db.execute(
                    # a start that carries its end (a skipped or missed run) is no run going
                    "SELECT seq FROM entries WHERE kind = ? "
                    "AND json_extract(payload, '$.finished') IS NULL",
                    (RUN_START,),
                )
            } | {local for (local,) in self._db.execute("SELECT local_id FROM run_ids")}
            finished = {
                int(json.loads(payload)["run"])
                for (payload,) in self._db.execute(
                    "SELECT payload FROM entries WHERE kind = ?", (RUN_FINISH,)
                )
            }
        return sorted(local for local in started if -local not in finished)

    # -- reading ---------------------------------------------------------------------------

    def stats(self) -> SpoolStats:
        with self._lock:
            kinds: dict[str, tuple[int, int, int]] = {
                kind: (events, samples, size)
                for kind, events, samples, size in self._db.execute(
                    "SELECT kind, COUNT(*), SUM(count), SUM(size) FROM entries GROUP BY kind"
                )
            }
            counters = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
            (rejected,) = self._db.execute("SELECT COUNT(*) FROM rejected").fetchone()
        batches, samples, sample_bytes = kinds.get(SAMPLES, (0, 0, 0))
        return SpoolStats(
            run_events=sum(kinds.get(kind, (0, 0, 0))[0] for kind in RUN_KINDS),
            sample_batches=batches,
            samples=samples,
            bytes=sample_bytes + sum(kinds.get(kind, (0, 0, 0))[2] for kind in RUN_KINDS),
            dropped_samples=int(counters.get("dropped_samples", 0)),
            rejected=int(rejected),
        )

    def _count(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM entries").fetchone()
        return int(count)
