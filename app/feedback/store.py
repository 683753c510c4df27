"""Agents' feedback on scripts (up, down, copied), kept durably in one SQLite file.

When SQLite cannot do its work for a reason of the server's storage (locked, read-only, full,
damaged), the store raises StorageError, which the API answers with 503 and the remedy."""

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from app.corpus.documents import StorageError

# A write takes milliseconds; a lock held for longer is a stuck process or a person with a
# sqlite3 shell, and the agent's page should hear so at once rather than wait (SQLite waits
# this long for a lock before it gives up).
BUSY_TIMEOUT_S = 2.0
_LOCKED = "another process holds a lock on it: try again, and if it lasts, stop the process that keeps it open"
_NOT_WRITABLE = "check that HUASHU_DATA_DIR and the files in it are writable (a read-only mount cannot hold it)"
# By SQLite's primary result code; other errors are bugs and stay 500s.
_REMEDIES = {
    sqlite3.SQLITE_BUSY: _LOCKED,
    sqlite3.SQLITE_LOCKED: _LOCKED,
    sqlite3.SQLITE_READONLY: _NOT_WRITABLE,
    sqlite3.SQLITE_CANTOPEN: _NOT_WRITABLE,
    sqlite3.SQLITE_PERM: _NOT_WRITABLE,
    sqlite3.SQLITE_FULL: "no space left on device: free some space",
    sqlite3.SQLITE_IOERR: "the disk reports an error: check the disk that holds HUASHU_DATA_DIR",
    sqlite3.SQLITE_CORRUPT: "it is damaged: move it aside (a new one is started) and restore it from a backup",
    sqlite3.SQLITE_NOTADB: "it is not a SQLite database: move it aside (a new one is started)",
}

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


@contextmanager
def connection(path: Path, what: str) -> Iterator[sqlite3.Connection]:
    """One transaction on the SQLite database at `path` (committed, or rolled back on error); a
    failure of the server's storage raises StorageError naming `what` and the remedy. One
    connection per call: routes run in a threadpool and a connection belongs to one thread."""
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
        try:
            with db:
                yield db
        finally:
            db.close()
    except sqlite3.DatabaseError as e:
        code = getattr(e, "sqlite_errorcode", None)  # absent on errors of the sqlite3 module itself
        remedy = _REMEDIES.get(code & 0xFF) if code is not None else None  # the primary of an extended code
        if remedy is None:
            raise
        raise StorageError(f"the {what} database {path} cannot be used ({e}): {remedy}") from None


def create_database(path: Path, what: str, schema: str) -> None:
    """The database at `path` with its tables, in WAL mode: admins read while others write."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(f"cannot keep the {what} in {path.parent}: {e.strerror or e}: {_NOT_WRITABLE}") from None
    with connection(path, what) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = path
        create_database(path, "feedback", SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connection(self.path, "feedback")

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
