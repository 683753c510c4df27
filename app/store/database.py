"""The databases the service writes: agents' feedback, what admins edit and the jobs they start.

Without HUASHU_DATABASE_URL they are two SQLite files in the data directory, one machine's
(settings.feedback_file: feedback, scripts shown, the gaps log; settings.edits_file: scripts,
scenarios, the change record, jobs). With it, one PostgreSQL database holds them all, shared by
every replica. Statements go through SQLAlchemy Core, so each is written once for both.

The tables are made and kept up to date by the Alembic migrations in app/store/migrations/,
applied on first use (or by `python -m app db upgrade`). A SQLite file holds one branch of them
(`feedback` or `admin`); PostgreSQL holds both.

When the database cannot do its work for a reason of the server's storage (SQLite: locked,
read-only, full, damaged; PostgreSQL: down, refused, auth failed, missing), a transaction raises
StorageError, which the API answers with 503 and the remedy."""

import sqlite3
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, Table, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.corpus.documents import StorageError

Branch = Literal["feedback", "admin"]
MIGRATIONS = Path(__file__).parent / "migrations"
# A write takes milliseconds; a lock held for longer is a stuck process or a person with a
# sqlite3 shell, and the agent's page should hear so at once rather than wait (SQLite waits
# this long for a lock before it gives up; PostgreSQL waits as long for a row or advisory lock).
BUSY_TIMEOUT_S = 2.0
# A PostgreSQL server that does not answer is down or unreachable: say so within seconds.
CONNECT_TIMEOUT_S = 3
TCP_USER_TIMEOUT_MS = 10_000
_LOCKED = "another process holds a lock on it: try again, and if it lasts, stop the process that keeps it open"
_NOT_WRITABLE = "check that HUASHU_DATA_DIR and the files in it are writable (a read-only mount cannot hold it)"
# By SQLite's primary result code; other errors are bugs and stay 500s.
_SQLITE_REMEDIES = {
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
_POSTGRES_REMEDY = (
    "check that the PostgreSQL server of HUASHU_DATABASE_URL is running and reachable, that the database exists "
    "and that the user and password are right"
)
# By the class of PostgreSQL's SQLSTATE (the first two characters); other errors are bugs and stay 500s.
_POSTGRES_REMEDIES = {
    "08": _POSTGRES_REMEDY,  # connection exception
    "28": _POSTGRES_REMEDY,  # invalid authorization
    "3D": _POSTGRES_REMEDY,  # invalid catalog name: no such database
    "53": "the PostgreSQL server is out of resources (disk full, too many connections): free some, then try again",
    "55": _LOCKED,  # lock not available (lock_timeout)
    "57": _POSTGRES_REMEDY,  # operator intervention: shutting down, cannot connect now
    "58": "the PostgreSQL server reports a system error: check its log and its disk",
    "42501": "the database user lacks a privilege on the tables: grant it, or use the user that ran the migrations",
}


# Alembic keeps its migration context (`op`, `context`) in module globals, one per process: two
# databases migrating at the same moment in two threads would run on each other's context.
_ALEMBIC = threading.Lock()


class Database:
    """One database: SQLite file or PostgreSQL server, migrated on first use."""

    def __init__(self, url: str | URL, what: str, branch: Branch | None = None):
        self.url = make_url(url)
        self.what = what  # named in errors: "the feedback database ... cannot be used"
        self.branch = branch  # the migrations a SQLite file holds; None: all of them
        self.engine = _engine(self.url)
        self._migrated = False
        self._migrating = threading.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def path(self) -> Path | None:
        """The SQLite file; None on PostgreSQL."""
        return Path(self.url.database) if self.is_sqlite else None

    def where(self) -> str:
        """The database as errors and logs name it: a file, or the URL without its password."""
        return str(self.path) if self.is_sqlite else self.url.render_as_string(hide_password=True)

    def exists(self) -> bool:
        """False for a SQLite file not created yet (reading it needs no writable data directory)."""
        return not self.is_sqlite or self.path.exists()

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Connection]:
        """One transaction (committed, or rolled back on error). With `lock`, the transaction
        holds a lock of that name until it ends, across every process sharing the database, so
        that what it reads is still true when it writes (SQLite: the write lock at once;
        PostgreSQL: an advisory lock). A failure of the server's storage raises StorageError."""
        self.upgrade()
        with self._translated():
            with self._begin(lock) as connection:
                yield connection

    def upgrade(self) -> None:
        """Apply the migrations this database lacks (once per process; every process may: they
        are serialised by a lock). Raises StorageError with the remedy when they cannot be."""
        if self._migrated:
            return
        with self._migrating:
            if self._migrated:
                return
            if self.is_sqlite:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise StorageError(
                        f"cannot keep {self.what} in {self.path.parent}: {e.strerror or e}: {_NOT_WRITABLE}"
                    ) from None
            with self._translated():
                if self.is_sqlite:  # WAL: admins and the page read while others write (kept by the file)
                    with self.engine.connect().execution_options(sqlite_begin=None) as connection:
                        connection.exec_driver_sql("PRAGMA journal_mode=WAL")  # outside a transaction
            with self._translated(), self._begin("migrations") as connection:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = connection
                try:
                    with _ALEMBIC:
                        command.upgrade(config, f"{self.branch}@head" if self.branch else "heads")
                except CommandError as e:
                    raise StorageError(
                        f"the {self.what} database {self.where()} cannot be migrated ({e}): it was made by a newer "
                        "Huashu, run that one, or restore the database from a backup"
                    ) from None
            self._migrated = True

    @contextmanager
    def _begin(self, lock: str | None) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            if lock and self.is_sqlite:
                connection.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with connection.begin():
                if lock and not self.is_sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(lock)})
                yield connection

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except exc.DBAPIError as e:
            remedy = self._remedy(e)
            if remedy is None:
                raise
            reason = str(e.orig).strip().splitlines()[0] if str(e.orig).strip() else type(e.orig).__name__
            raise StorageError(f"the {self.what} database {self.where()} cannot be used ({reason}): {remedy}") from None
        except exc.TimeoutError as e:  # every pooled connection busy for the pool's timeout
            raise StorageError(f"the {self.what} database {self.where()} cannot be used ({e}): {_LOCKED}") from None

    def _remedy(self, error: exc.DBAPIError) -> str | None:
        if self.is_sqlite:
            code = getattr(error.orig, "sqlite_errorcode", None)  # absent on errors of the sqlite3 module itself
            return _SQLITE_REMEDIES.get(code & 0xFF) if code is not None else None  # the primary of an extended code
        sqlstate = getattr(error.orig, "sqlstate", None)
        if sqlstate is None:  # no answer from a server at all (refused, timed out, closed)
            return _POSTGRES_REMEDY if isinstance(error, (exc.OperationalError, exc.InterfaceError)) else None
        return _POSTGRES_REMEDIES.get(sqlstate) or _POSTGRES_REMEDIES.get(sqlstate[:2])


def insert_or_update(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT, as the connection's dialect writes it (the same SQL on both)."""
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)


def database(settings: Settings, branch: Branch) -> Database:
    """Where `branch` lives as the settings say: the PostgreSQL database of HUASHU_DATABASE_URL
    (shared by every replica), else its SQLite file in the data directory."""
    if settings.database_url:
        return _database(settings.database_url.get_secret_value(), "service", None)
    return sqlite_database(settings.feedback_file if branch == "feedback" else settings.edits_file, branch)


def sqlite_database(path: Path, branch: Branch) -> Database:
    """The SQLite file at `path`, holding `branch`."""
    what = "feedback" if branch == "feedback" else "edits"
    return _database(URL.create("sqlite", database=str(path)).render_as_string(), what, branch)


@lru_cache  # one per database and process: it keeps the connection pool and whether it is migrated
def _database(url: str, what: str, branch: Branch | None) -> Database:
    return Database(url, what, branch)


def _engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        # A connection per transaction, closed after it, as a sqlite3 shell or a backup expects:
        # an idle connection kept open would hold the file (a remount read-only, an exclusive lock).
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record) -> None:
            # SQLAlchemy begins transactions itself (below), so that a lock can be taken at BEGIN.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            begin = connection.get_execution_options().get("sqlite_begin", "BEGIN")  # None: no transaction
            if begin:
                connection.exec_driver_sql(begin)

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,  # a server restarted since the last request costs no failed request
        pool_timeout=BUSY_TIMEOUT_S * 5,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            # A server whose host vanished (no answer at all) fails a request within seconds, not
            # after TCP's quarter of an hour of retries.
            "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
            "options": f"-c lock_timeout={int(BUSY_TIMEOUT_S * 1000)}",
        },
    )


def _lock_key(name: str) -> int:
    """A stable 32-bit key for PostgreSQL's advisory locks."""
    return zlib.crc32(f"huashu:{name}".encode())
