"""What the service records about its use, kept durably in one SQLite file: agents' feedback on
scripts (up, down, copied), how often each script was shown per UTC day, and the recent queries
nothing fitted well (the gaps log, masked). Every SQL statement of the service is here.

When SQLite cannot do its work for a reason of the server's storage (locked, read-only, full,
damaged), the store raises StorageError, which the API answers with 503 and the remedy."""

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

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

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS feedback (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        query TEXT NOT NULL,
        script_id TEXT NOT NULL,
        signal TEXT NOT NULL CHECK (signal IN ('up', 'down', 'copied')),
        index_version TEXT NOT NULL
    )""",
    # One row per script and UTC day (YYYY-MM-DD): a count, not a row per search.
    """CREATE TABLE IF NOT EXISTS shown (
        day TEXT NOT NULL,
        script_id TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, script_id)
    )""",
    # The gaps log: queries normalised and masked (app/feedback/mask.py) before they get here,
    # with the query's embedding (float32) by the model named, for grouping without the model.
    """CREATE TABLE IF NOT EXISTS gaps (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        query TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('weak', 'none')),
        model TEXT,
        vector BLOB
    )""",
    "CREATE INDEX IF NOT EXISTS gaps_at ON gaps (at)",
]


@dataclass(frozen=True)
class Gap:
    """A query whose answer's match was weak or none: when (ISO 8601 UTC), the query as kept, the
    level; and its embedding by `model`, when one was at hand."""

    at: str
    query: str
    level: str
    model: str | None = None
    vector: np.ndarray | None = None


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
        create_database(path, "feedback", ";\n".join(SCHEMA))

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connection(self.path, "feedback")

    def add(self, query: str, script_id: str, signal: str, index_version: str) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (at, query, script_id, signal, index_version) VALUES (?, ?, ?, ?, ?)",
                (_timestamp(datetime.now(UTC)), query, script_id, signal, index_version),
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

    def script_counts(self, since: date | None, until: date | None) -> list[dict]:
        """Per script with any activity between the two UTC days (inclusive; None: open):
        how often it was shown, copied, rated up and down. Unordered."""
        first, last = (since or date.min).isoformat(), (until or date.max).isoformat()
        with self._connect() as db:
            rows = db.execute(
                "SELECT script_id, SUM(shown), SUM(copied), SUM(up), SUM(down) FROM ("
                " SELECT script_id, count AS shown, 0 AS copied, 0 AS up, 0 AS down"
                " FROM shown WHERE day BETWEEN ? AND ?"
                " UNION ALL"
                " SELECT script_id, 0, CASE WHEN signal = 'copied' THEN 1 ELSE 0 END,"
                " CASE WHEN signal = 'up' THEN 1 ELSE 0 END, CASE WHEN signal = 'down' THEN 1 ELSE 0 END"
                " FROM feedback WHERE substr(at, 1, 10) BETWEEN ? AND ?"  # the UTC day of an ISO timestamp
                ") AS counted GROUP BY script_id",
                (first, last, first, last),
            ).fetchall()
        return [dict(zip(("script_id", "shown", "copied", "up", "down"), row)) for row in rows]

    def add_usage(
        self, shown: dict[tuple[str, str], int], gaps: list[Gap], keep_since: datetime, keep_rows: int
    ) -> None:
        """In one transaction: add {(UTC day, script id): times shown} to the daily counts, append
        `gaps` to the gaps log, then drop from the log what is older than `keep_since` and all
        but the newest `keep_rows`."""
        with self._connect() as db:
            db.executemany(
                "INSERT INTO shown (day, script_id, count) VALUES (?, ?, ?)"
                " ON CONFLICT (day, script_id) DO UPDATE SET count = count + excluded.count",
                [(day, script_id, n) for (day, script_id), n in shown.items()],
            )
            db.executemany(
                "INSERT INTO gaps (at, query, level, model, vector) VALUES (?, ?, ?, ?, ?)",
                [(g.at, g.query, g.level, g.model, None if g.vector is None else _blob(g.vector)) for g in gaps],
            )
            db.execute("DELETE FROM gaps WHERE at < ?", (_timestamp(keep_since),))
            db.execute(
                "DELETE FROM gaps WHERE id <= (SELECT id FROM gaps ORDER BY id DESC LIMIT 1 OFFSET ?)", (keep_rows,)
            )

    def gaps(self, since: datetime) -> list[Gap]:
        """The gaps log from `since` on, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT at, query, level, model, vector FROM gaps WHERE at >= ? ORDER BY id", (_timestamp(since),)
            ).fetchall()
        return [
            Gap(at, query, level, model, None if vector is None else np.frombuffer(vector, dtype=np.float32))
            for at, query, level, model, vector in rows
        ]


def _blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def _timestamp(moment: datetime) -> str:
    """As `at` is stored: ISO 8601 UTC to the second, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
