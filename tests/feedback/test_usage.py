"""What searches showed is counted in memory and written to the real store in the background,
at shutdown, and once the store can be written again; nothing is lost on the way."""

import sqlite3
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.corpus.documents import StorageError
from app.feedback.store import FeedbackStore
from app.feedback.usage import UsageRecorder
from app.store.database import sqlite_database

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path) -> FeedbackStore:
    return FeedbackStore(sqlite_database(tmp_path / "data" / "feedback.sqlite3", "feedback"))


def shown(store: FeedbackStore) -> dict[str, int]:
    return {row["script_id"]: row["shown"] for row in store.script_counts(None, None)}


def kept(store: FeedbackStore) -> list[tuple[str, str]]:
    return [(gap.query, gap.level) for gap in store.gaps(since=LONG_AGO)]


def test_a_flush_writes_the_scripts_shown_today_and_the_weak_and_none_queries(store):
    usage = UsageRecorder(lambda: store)
    today = datetime.now(UTC).date()
    usage.shown(["a", "b"])
    usage.shown(["a"])
    usage.asked("客戶說 13812345678 收不到短信", "weak")  # normalised and masked on the way
    usage.asked("红烧肉怎么做", "none")
    usage.asked("客户说流量被偷了", "strong")  # fits: no gap
    usage.asked("客户", "none")  # the first word of a query still being typed
    assert shown(store) == {} and kept(store) == []  # nothing written on the request path

    usage.flush()
    assert shown(store) == {"a": 2, "b": 1}
    assert {r["script_id"] for r in store.script_counts(today, today)} == {"a", "b"}  # counted on the day searched
    assert kept(store) == [("客户说 [手机号] 收不到短信", "weak"), ("红烧肉怎么做", "none")]
    assert store.gaps(since=datetime.now(UTC) - timedelta(minutes=1))[0].at.startswith(today.isoformat())

    usage.flush()  # nothing new: nothing written twice
    assert shown(store) == {"a": 2, "b": 1} and len(kept(store)) == 2


def test_nothing_is_lost_while_the_store_cannot_be_written(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.write_text("a file where the data directory should be")
    usage = UsageRecorder(lambda: FeedbackStore(sqlite_database(data_dir / "feedback.sqlite3", "feedback")))
    usage.shown(["a"])
    usage.asked("红烧肉怎么做", "none")
    with pytest.raises(StorageError, match="cannot keep feedback in"):
        usage.flush()
    usage.shown(["a", "b"])  # searches go on meanwhile
    usage.asked("明天北京会下雨吗", "none")

    data_dir.unlink()  # the operator fixes the disk
    usage.flush()
    store = FeedbackStore(sqlite_database(data_dir / "feedback.sqlite3", "feedback"))
    assert shown(store) == {"a": 2, "b": 1}
    assert kept(store) == [("红烧肉怎么做", "none"), ("明天北京会下雨吗", "none")]


def test_the_background_thread_writes_every_few_seconds_and_stop_writes_the_rest(store):
    usage = UsageRecorder(lambda: store, flush_seconds=0.05)
    usage.start()
    usage.shown(["a"])
    deadline = time.monotonic() + 30
    while shown(store) != {"a": 1} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shown(store) == {"a": 1}

    slow = UsageRecorder(lambda: store, flush_seconds=3600)
    slow.start()
    slow.shown(["b"])
    slow.stop()  # at shutdown: written without waiting for the hour
    usage.stop()
    assert shown(store) == {"a": 1, "b": 1}



def test_the_kept_queries_carry_their_embedding_by_the_serving_model(store, encoder):
    usage = UsageRecorder(lambda: store, lambda: encoder)
    usage.asked("红烧肉怎么做", "none")
    usage.asked("红烧肉怎么做,我电话13812345678", "none")
    usage.flush()
    gaps = store.gaps(since=LONG_AGO)
    assert [gap.model for gap in gaps] == [encoder.model_id] * 2
    expected = encoder.model.encode_query(["红烧肉怎么做", "红烧肉怎么做,我电话[手机号]"])  # the masked text's
    for gap, vector in zip(gaps, expected):
        assert gap.vector.dtype == np.float32 and np.allclose(gap.vector, vector, atol=1e-5)

    no_engine = UsageRecorder(lambda: store)  # no index loaded yet: kept without one
    no_engine.asked("明天北京会下雨吗", "none")
    no_engine.flush()
    assert store.gaps(since=LONG_AGO)[-1].vector is None


def test_a_write_refused_by_a_lock_is_retried_whole(store):
    usage = UsageRecorder(lambda: store)
    usage.shown(["a"])
    usage.asked("红烧肉怎么做", "none")
    holder = sqlite3.connect(store.db.path, isolation_level=None)  # another process holds the database
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError, match="database is locked"):
            usage.flush()
    finally:
        holder.close()
    usage.flush()
    assert shown(store) == {"a": 1} and kept(store) == [("红烧肉怎么做", "none")]
