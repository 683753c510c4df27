"""Moving from one machine to several: the rows of the SQLite files of the data directory copied
into the PostgreSQL database of HUASHU_DATABASE_URL (`python -m app db copy-sqlite`), so that
feedback, the gaps log, published edits and the change record survive the switch."""

from sqlalchemy import func, insert, select, text

from app.core.config import Settings
from app.core.errors import Conflict, Invalid
from app.store.database import database, sqlite_database
from app.store.tables import changes, feedback, gaps, scenarios, scripts, shown

# Jobs are left behind: a job of the old server is over, whatever its row says.
TABLES = {"feedback": (feedback, shown, gaps), "admin": (scripts, scenarios, changes)}
SERIAL_IDS = (feedback, gaps, changes)  # ids PostgreSQL numbers from a sequence


def copy_sqlite_files(settings: Settings) -> dict[str, int]:
    """Copy every row of the SQLite files into PostgreSQL, in one transaction; returns the rows
    copied per table. Refused while a table there has rows already: nothing is copied twice."""
    if not settings.database_url:
        raise Invalid("set HUASHU_DATABASE_URL to the PostgreSQL database the rows go to")
    target = database(settings, "admin")
    copied: dict[str, int] = {}
    with target.transaction(lock="migrations") as into:
        for branch, path in (("feedback", settings.feedback_file), ("admin", settings.edits_file)):
            if not path.exists():
                continue
            with sqlite_database(path, branch).transaction() as source:  # migrated first, if made before migrations
                for table in TABLES[branch]:
                    if into.execute(select(func.count()).select_from(table)).scalar():
                        raise Conflict(
                            f"table {table.name} of {target.where()} has rows already: copy into an empty database "
                            "(nothing was copied)"
                        )
                    rows = [dict(row) for row in source.execute(select(table)).mappings()]
                    if rows:
                        into.execute(insert(table), rows)
                    copied[table.name] = len(rows)
        for table in SERIAL_IDS:  # new rows get ids after the copied ones
            into.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), COALESCE(MAX(id), 0) + 1, false)"
                f" FROM {table.name}"
            ))
    return copied
