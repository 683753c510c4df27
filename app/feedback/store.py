"""What the service records about its use: agents' feedback on scripts (up, down, copied), how
often each script was shown per UTC day, and the recent queries nothing fitted well (the gaps
log, masked). Every statement on those tables is here.

They live in the `feedback` database (app/store/database.py): a SQLite file in the data
directory, or the PostgreSQL database every replica shares. When it cannot do its work for a
reason of the server's storage, the store raises StorageError, which the API answers with 503
and the remedy."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import case, func, insert, literal_column, select, union_all

from app.store.database import Database, insert_or_update
from app.store.tables import feedback, gaps, shown


@dataclass(frozen=True)
class Gap:
    """A query whose answer's match was weak or none: when (ISO 8601 UTC), the query as kept, the
    level; and its embedding by `model`, when one was at hand."""

    at: str
    query: str
    level: str
    model: str | None = None
    vector: np.ndarray | None = None


class FeedbackStore:
    def __init__(self, db: Database):
        self.db = db
        db.upgrade()  # the tables, at once: a database that cannot be used says so here

    def add(self, query: str, script_id: str, signal: str, index_version: str) -> None:
        """One signal, with the query as the agent typed it but for NUL characters, which carry
        nothing and which PostgreSQL's text cannot hold."""
        with self.db.transaction() as db:
            db.execute(insert(feedback).values(
                at=_timestamp(datetime.now(UTC)), query=query.replace("\x00", ""), script_id=script_id,
                signal=signal, index_version=index_version,
            ))

    def counts(self) -> list[dict]:
        """Per script: how often it was rated up, down and copied; most down-rated first."""
        up, down, copied = (_count(feedback.c.signal == s) for s in ("up", "down", "copied"))
        query = (
            select(feedback.c.script_id, up, down, copied)
            .group_by(feedback.c.script_id)
            .order_by(down.desc(), feedback.c.script_id)
        )
        with self.db.transaction() as db:
            rows = db.execute(query).all()
        return [{"script_id": s, "up": up, "down": down, "copied": copied} for s, up, down, copied in rows]

    def recent_negative(self, limit: int = 20) -> list[dict]:
        """The latest down-rated queries, newest first: what agents searched when a script did not fit."""
        query = (
            select(feedback.c.at, feedback.c.query, feedback.c.script_id, feedback.c.index_version)
            .where(feedback.c.signal == "down")
            .order_by(feedback.c.id.desc())
            .limit(limit)
        )
        with self.db.transaction() as db:
            return [row._asdict() for row in db.execute(query)]

    def script_counts(self, since: date | None, until: date | None) -> list[dict]:
        """Per script with any activity between the two UTC days (inclusive; None: open):
        how often it was shown, copied, rated up and down. Unordered."""
        first, last = (since or date.min).isoformat(), (until or date.max).isoformat()
        zero = literal_column("0")
        day = func.substr(feedback.c.at, 1, 10)  # the UTC day of an ISO timestamp
        counted = union_all(
            select(shown.c.script_id, shown.c.count.label("shown"), zero.label("copied"), zero.label("up"),
                   zero.label("down")).where(shown.c.day.between(first, last)),
            select(feedback.c.script_id, zero, *(_one(feedback.c.signal == s) for s in ("copied", "up", "down")))
            .where(day.between(first, last)),
        ).subquery("counted")
        query = select(
            counted.c.script_id, *(func.sum(counted.c[c]) for c in ("shown", "copied", "up", "down"))
        ).group_by(counted.c.script_id)
        with self.db.transaction() as db:
            rows = db.execute(query).all()
        return [
            {"script_id": s, "shown": int(n), "copied": int(c), "up": int(u), "down": int(d)}
            for s, n, c, u, d in rows
        ]

    def add_usage(
        self, shown_counts: dict[tuple[str, str], int], new_gaps: list[Gap], keep_since: datetime, keep_rows: int
    ) -> None:
        """In one transaction: add {(UTC day, script id): times shown} to the daily counts, append
        `new_gaps` to the gaps log, then drop from the log what is older than `keep_since` and all
        but the newest `keep_rows`."""
        with self.db.transaction() as db:
            if shown_counts:
                upsert = insert_or_update(db, shown)
                db.execute(
                    upsert.on_conflict_do_update(
                        index_elements=[shown.c.day, shown.c.script_id],
                        set_={"count": shown.c.count + upsert.excluded.count},
                    ),
                    [{"day": day, "script_id": script_id, "count": n} for (day, script_id), n in shown_counts.items()],
                )
            if new_gaps:
                db.execute(insert(gaps), [
                    {"at": g.at, "query": g.query, "level": g.level, "model": g.model,
                     "vector": None if g.vector is None else _blob(g.vector)}
                    for g in new_gaps
                ])
            db.execute(gaps.delete().where(gaps.c.at < _timestamp(keep_since)))
            oldest_kept = select(gaps.c.id).order_by(gaps.c.id.desc()).limit(1).offset(keep_rows).scalar_subquery()
            db.execute(gaps.delete().where(gaps.c.id <= oldest_kept))

    def gaps(self, since: datetime) -> list[Gap]:
        """The gaps log from `since` on, oldest first."""
        query = (
            select(gaps.c.at, gaps.c.query, gaps.c.level, gaps.c.model, gaps.c.vector)
            .where(gaps.c.at >= _timestamp(since))
            .order_by(gaps.c.id)
        )
        with self.db.transaction() as db:
            rows = db.execute(query).all()
        return [
            Gap(at, query, level, model, None if vector is None else np.frombuffer(vector, dtype=np.float32))
            for at, query, level, model, vector in rows
        ]


def _one(condition):
    """1 where `condition` holds, else 0."""
    return case((condition, literal_column("1")), else_=literal_column("0"))


def _count(condition):
    return func.coalesce(func.sum(_one(condition)), 0)


def _blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def _timestamp(moment: datetime) -> str:
    """As `at` is stored: ISO 8601 UTC to the second, so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
