"""Agents' feedback on scripts (up, down, copied), kept durably in one SQLite file."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    query TEXT NOT NULL,
    script_id TEXT NOT NULL,
    signal TEXT NOT NULL CHECK (signal IN ('up', 'down', 'copied')),
    index_version TEXT NOT NULL
)
"""


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            # WAL: the admin summary reads while agents keep writing.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One connection per call: routes run in a threadpool and a connection belongs to one thread.
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def add(self, query: str, script_id: str, signal: str, index_version: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (at, query, script_id, signal, index_version) VALUES (?, ?, ?, ?, ?)",
                (datetime.now(UTC).isoformat(timespec="seconds"), query, script_id, signal, index_version),
            )

    def counts(self) -> list[dict]:
        """Per script: how often it was rated up, down and copied; most down-rated first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT script_id, SUM(signal = 'up'), SUM(signal = 'down'), SUM(signal = 'copied')"
                " FROM feedback GROUP BY script_id ORDER BY 3 DESC, script_id"
            ).fetchall()
        return [{"script_id": s, "up": up, "down": down, "copied": copied} for s, up, down, copied in rows]

    def recent_negative(self, limit: int = 20) -> list[dict]:
        """The latest down-rated queries, newest first: what agents searched when a script did not fit."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT at, query, script_id, index_version FROM feedback WHERE signal = 'down'"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(zip(("at", "query", "script_id", "index_version"), row)) for row in rows]
