"""The store's per-script counts over a period and the gaps log's bounds, on a real SQLite file."""

import sqlite3
from datetime import UTC, date, datetime, timedelta

from app.feedback.store import FeedbackStore, Gap
from app.store.database import sqlite_database

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def feedback_at(store: FeedbackStore, at: str, script_id: str, signal: str) -> None:
    """A signal given at a past moment (the store's `add` stamps the present)."""
    with sqlite3.connect(store.db.path) as db:
        db.execute(
            "INSERT INTO feedback (at, query, script_id, signal, index_version) VALUES (?, '宽带断了', ?, ?, 'v1')",
            (at, script_id, signal),
        )


def test_counts_per_script_over_inclusive_utc_days(tmp_path):
    store = FeedbackStore(sqlite_database(tmp_path / "feedback.sqlite3", "feedback"))
    store.add_usage({("2026-11-30", "a"): 4, ("2026-12-01", "a"): 2, ("2026-12-02", "b"): 7}, [], LONG_AGO, 100)
    store.add_usage({("2026-12-01", "a"): 1}, [], LONG_AGO, 100)  # a second flush of the same day adds up
    feedback_at(store, "2026-11-30T23:59:59+00:00", "a", "down")
    feedback_at(store, "2026-12-01T00:00:00+00:00", "a", "copied")
    feedback_at(store, "2026-12-02T12:00:00+00:00", "b", "up")
    feedback_at(store, "2026-12-03T00:00:00+00:00", "c", "down")

    def counts(since, until):
        return sorted(store.script_counts(since, until), key=lambda r: r["script_id"])

    assert counts(None, None) == [
        {"script_id": "a", "shown": 7, "copied": 1, "up": 0, "down": 1},
        {"script_id": "b", "shown": 7, "copied": 0, "up": 1, "down": 0},
        {"script_id": "c", "shown": 0, "copied": 0, "up": 0, "down": 1},
    ]
    assert counts(date(2026, 12, 1), date(2026, 12, 2)) == [
        {"script_id": "a", "shown": 3, "copied": 1, "up": 0, "down": 0},
        {"script_id": "b", "shown": 7, "copied": 0, "up": 1, "down": 0},
    ]
    assert counts(None, date(2026, 11, 30)) == [{"script_id": "a", "shown": 4, "copied": 0, "up": 0, "down": 1}]
    assert counts(date(2026, 12, 3), None) == [{"script_id": "c", "shown": 0, "copied": 0, "up": 0, "down": 1}]
    assert counts(date(2027, 1, 1), date.max) == []


def test_the_gaps_log_keeps_the_last_days_and_at_most_the_last_rows(tmp_path):
    store = FeedbackStore(sqlite_database(tmp_path / "feedback.sqlite3", "feedback"))
    now = datetime.now(UTC).replace(microsecond=0)
    old = Gap((now - timedelta(days=100)).isoformat(), "很久以前的问题", "none")
    recent = [Gap((now - timedelta(minutes=10 - i)).isoformat(), f"问题{i}", "weak") for i in range(10)]
    store.add_usage({}, [old], keep_since=now - timedelta(days=365), keep_rows=100)
    assert store.gaps(since=now - timedelta(days=365)) == [old]

    store.add_usage({}, recent, keep_since=now - timedelta(days=90), keep_rows=6)
    assert store.gaps(since=now - timedelta(days=365)) == recent[-6:]  # the old one and the oldest recent gone
    assert store.gaps(since=now - timedelta(minutes=2)) == recent[-2:]
