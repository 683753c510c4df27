"""The stores of what the service writes (feedback, scripts shown, gaps, admins' edits and change
record, jobs), each test against a SQLite file and against a real PostgreSQL server: the same
code, the same answers. Also the migrations (from nothing, and adopting a SQLite file made before
them), the copy of SQLite files into PostgreSQL, and a PostgreSQL that cannot be reached."""

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import inspect, text

from app.admin.jobs import Busy, JobRunner
from app.admin.scripts import NewScenario, ScriptEditor, StaleRevision, published_edits
from app.core.config import REPO_ROOT, Settings
from app.core.errors import Conflict
from app.corpus.documents import DocumentStore, StorageError
from app.feedback.store import FeedbackStore, Gap
from app.index.build import Built
from app.store.copy import copy_sqlite_files
from app.store.database import Database, database
from tests.conftest import CORPUS_DIR, free_port
from tests.postgres import postgres_server

EXISTING = "double-refund/step-back"
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path) -> Settings:
    """The service's settings for one test: SQLite files in its data directory, or a new
    database on the session's PostgreSQL server."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    return Settings(corpus_dir=CORPUS_DIR, data_dir=tmp_path / "data", database_url=url)


@pytest.fixture
def feedback(settings) -> FeedbackStore:
    return FeedbackStore(database(settings, "feedback"))


@pytest.fixture
def editor(settings) -> ScriptEditor:
    return ScriptEditor(database(settings, "admin"), settings.corpus_dir, DocumentStore(settings.documents_dir))


def wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


# ---------------------------------------------------------------- feedback, shown, gaps


def test_feedback_is_counted_per_script_most_disliked_first(feedback):
    for script_id, signal in [("a", "up"), ("a", "copied"), ("a", "copied"), ("b", "down"), ("b", "down"), ("b", "up")]:
        feedback.add(f"{script_id} 的问题", script_id, signal, "v1")
    assert feedback.counts() == [
        {"script_id": "b", "up": 1, "down": 2, "copied": 0},
        {"script_id": "a", "up": 1, "down": 0, "copied": 2},
    ]
    assert [(n["query"], n["script_id"], n["index_version"]) for n in feedback.recent_negative()] == [
        ("b 的问题", "b", "v1"), ("b 的问题", "b", "v1"),
    ]
    assert feedback.recent_negative(limit=1)[0]["at"].startswith(datetime.now(UTC).date().isoformat())


def test_a_nul_character_is_left_out_of_what_is_stored_and_found_nowhere(feedback, editor, settings):
    feedback.add("客户说\x00流量被偷了", "a", "down", "v1")
    assert feedback.recent_negative()[0]["query"] == "客户说流量被偷了"
    assert editor.changes("double-refund\x00", 10) == []
    assert JobRunner(database(settings, "admin")).get("0123\x00") is None


def test_shown_counts_add_up_per_day_and_join_the_feedback_of_the_period(feedback):
    keep = {"keep_since": LONG_AGO, "keep_rows": 100}
    feedback.add_usage({("2026-11-01", "a"): 3, ("2026-11-02", "a"): 1}, [], **keep)
    feedback.add_usage({("2026-11-01", "a"): 2, ("2026-11-01", "b"): 7}, [], **keep)  # the same day again: added
    today = datetime.now(UTC).date()
    feedback.add("问题", "a", "copied", "v1")
    feedback.add("问题", "c", "down", "v1")

    def counts(since, until):
        return sorted((r["script_id"], r["shown"], r["copied"], r["up"], r["down"])
                      for r in feedback.script_counts(since, until))

    assert counts(date(2026, 11, 1), date(2026, 11, 1)) == [("a", 5, 0, 0, 0), ("b", 7, 0, 0, 0)]
    assert counts(None, None) == [("a", 6, 1, 0, 0), ("b", 7, 0, 0, 0), ("c", 0, 0, 0, 1)]
    assert counts(today, None) == [("a", 0, 1, 0, 0), ("c", 0, 0, 0, 1)]
    assert counts(date(2026, 11, 3), date(2026, 11, 30)) == []


def test_gaps_keep_their_vectors_and_are_pruned_by_age_and_count(feedback):
    now = datetime.now(UTC)
    vector = np.arange(4, dtype=np.float32) / 7
    old = Gap((now - timedelta(days=100)).isoformat(timespec="seconds"), "很久以前的问题", "none")
    recent = [Gap((now - timedelta(minutes=5 - i)).isoformat(timespec="seconds"), f"问题{i}", "weak", "m", vector * i)
              for i in range(4)]
    feedback.add_usage({}, [old, *recent], keep_since=now - timedelta(days=90), keep_rows=3)
    kept = feedback.gaps(since=LONG_AGO)
    assert [g.query for g in kept] == ["问题1", "问题2", "问题3"]  # the old one and the oldest beyond 3 dropped
    assert [g.level for g in kept] == ["weak"] * 3 and {g.model for g in kept} == {"m"}
    for i, gap in zip((1, 2, 3), kept):
        assert gap.vector.dtype == np.float32 and np.array_equal(gap.vector, vector * i)
    feedback.add_usage({}, [Gap(now.isoformat(timespec="seconds"), "没有向量", "none")], now - timedelta(days=90), 3)
    assert feedback.gaps(since=now - timedelta(seconds=1))[-1].vector is None
    assert [g.query for g in feedback.gaps(since=now - timedelta(minutes=3))][-2:] == ["问题3", "没有向量"]


# ---------------------------------------------------------------- admins' edits


def edited(editor: ScriptEditor, text: str) -> dict:
    script = editor.state(EXISTING).published.model_dump(mode="json")
    return {**script, "text": text}


def test_a_save_raises_the_revision_and_a_stale_one_is_refused(editor):
    assert editor.state(EXISTING).revision == 0
    saved = editor.save(EXISTING, edited(editor, "第一版草稿，先倾听客户诉求。"), revision=0)
    assert (saved.revision, saved.draft.text) == (1, "第一版草稿，先倾听客户诉求。")
    with pytest.raises(StaleRevision, match="is at revision 1, not 0"):
        editor.save(EXISTING, edited(editor, "基于旧版本的修改。"), revision=0)
    assert editor.state(EXISTING).draft.text == "第一版草稿，先倾听客户诉求。"


def test_of_two_concurrent_saves_one_wins_and_the_other_is_a_conflict(editor):
    for revision in range(3):  # a few rounds: a race that a missing lock lets through shows in one of them
        scripts = [edited(editor, f"两位管理员同时保存的第{revision}轮第{n}版。") for n in (1, 2)]
        start, outcomes = threading.Barrier(2), []

        def save(script: dict) -> None:
            start.wait()
            try:
                outcomes.append(editor.save(EXISTING, script, revision=revision).draft.text)
            except StaleRevision as e:
                assert e.status == 409
                outcomes.append("stale")

        threads = [threading.Thread(target=save, args=(s,)) for s in scripts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes, key=lambda o: o == "stale") == [editor.state(EXISTING).draft.text, "stale"]
        assert editor.state(EXISTING).revision == revision + 1


def test_publish_and_revert_are_recorded_and_builds_read_what_is_published(editor, settings):
    draft = editor.save(EXISTING, edited(editor, "发布后的新话术文本。"), revision=0)
    change = editor.publish(EXISTING, draft.revision, who="alice")
    assert (change.kind, change.who, change.target, change.after["text"]) == ("publish", "alice", EXISTING,
                                                                             "发布后的新话术文本。")
    assert published_edits(database(settings, "admin")).scripts[EXISTING].text == "发布后的新话术文本。"
    reverted = editor.revert(change.id, who="bob")
    assert reverted.kind == "revert" and reverted.after == change.before
    assert [(c.kind, c.who) for c in editor.changes(EXISTING, 10)] == [("revert", "bob"), ("publish", "alice")]
    assert editor.changes(None, 1)[0].id == reverted.id
    assert published_edits(database(settings, "admin")).scripts[EXISTING].text == change.before["text"]


def test_scenarios_added_keep_their_order_and_an_id_once(editor):
    for scenario_id in ("zz-last-letter", "aa-first-letter"):
        editor.add_scenario(
            NewScenario(id=scenario_id, name=scenario_id, group="business", looks_like=[f"{scenario_id} 的投诉"]), "alice"
        )
    assert [s.id for s in editor.edits().scenarios] == ["zz-last-letter", "aa-first-letter"]
    with pytest.raises(Exception, match="is taken"):
        editor.add_scenario(NewScenario(id="aa-first-letter", name="x", group="business", looks_like=["x"]), "bob")
    assert [c.target for c in editor.changes(None, 10)] == ["aa-first-letter", "zz-last-letter"]


# ---------------------------------------------------------------- jobs


def test_a_second_runner_on_the_database_sees_the_job_and_is_busy(settings):
    first, second = (JobRunner(database(settings, "admin")) for _ in range(2))
    release = threading.Event()

    def work(progress) -> Built:
        for done in range(1, 101):
            progress(done, 100)
        release.wait(30)
        return Built("v2", new=True)

    job = first.start("reindex", work)
    assert second.get(job.id).state in ("queued", "running")
    with pytest.raises(Busy, match="already running"):
        second.start("reindex", lambda progress: Built("v3", new=True))
    wait_until(lambda: (second.get(job.id).done, second.get(job.id).total) == (100, 100))
    release.set()
    wait_until(lambda: second.get(job.id).state == "succeeded")
    assert second.get(job.id).model_dump(include={"version", "up_to_date", "error"}) == {
        "version": "v2", "up_to_date": False, "error": None
    }
    assert second.get("no-such-job") is None
    later = second.start("reindex", lambda progress: Built("v2", new=False))
    wait_until(lambda: first.get(later.id).state == "succeeded")
    assert first.get(later.id).up_to_date is True


def test_a_job_whose_process_stopped_is_failed_and_blocks_nothing(settings):
    # The first runner beats once an hour: to the second, which waits half a second, it has died.
    dead = JobRunner(database(settings, "admin"), heartbeat_seconds=3600)
    alive = JobRunner(database(settings, "admin"), stale_seconds=0.5)
    release = threading.Event()
    job = dead.start("reindex", lambda progress: release.wait(30) and Built("v2", new=True))
    time.sleep(1)
    reported = alive.get(job.id)
    assert reported.state == "failed" and reported.finished
    assert reported.error.startswith("the server stopped while this job ran")
    new = alive.start("reindex", lambda progress: Built("v3", new=True))
    wait_until(lambda: alive.get(new.id).state == "succeeded")
    release.set()  # the first process comes back: what was reported stays
    time.sleep(0.5)
    assert alive.get(job.id).state == "failed"


def test_a_refused_job_leaves_no_trace(settings):
    runner = JobRunner(database(settings, "admin"))

    def refuse() -> None:
        raise StaleRevision("someone saved it in between")

    with pytest.raises(StaleRevision):
        runner.start("publish", lambda progress: Built("v2", new=True), before=refuse)
    job = runner.start("reindex", lambda progress: Built("v2", new=True))  # not busy
    wait_until(lambda: runner.get(job.id).state == "succeeded")


# ---------------------------------------------------------------- migrations


def test_a_new_database_gets_every_table_at_the_newest_revision(settings):
    database(settings, "feedback").upgrade()
    database(settings, "admin").upgrade()
    engines = {database(settings, b).engine for b in ("feedback", "admin")}
    tables, revisions = set(), set()
    for engine in engines:
        tables |= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            revisions |= set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    assert tables >= {"feedback", "shown", "gaps", "scripts", "scenarios", "changes", "jobs"}
    assert revisions == {"feedback_0001", "admin_0002"}
    assert len(engines) == (1 if settings.database_url else 2)  # PostgreSQL: one database for all


# What the service created before migrations, verbatim.
OLD_FEEDBACK = [
    """CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, at TEXT NOT NULL, query TEXT NOT NULL,
        script_id TEXT NOT NULL, signal TEXT NOT NULL CHECK (signal IN ('up', 'down', 'copied')),
        index_version TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS shown (day TEXT NOT NULL, script_id TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (day, script_id))""",
    """CREATE TABLE IF NOT EXISTS gaps (id INTEGER PRIMARY KEY, at TEXT NOT NULL, query TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('weak', 'none')), model TEXT, vector BLOB)""",
    "CREATE INDEX IF NOT EXISTS gaps_at ON gaps (at)",
    "INSERT INTO feedback (at, query, script_id, signal, index_version)"
    " VALUES ('2026-11-01T08:00:00+00:00', '旧的反馈', 'a', 'down', 'v0')",
    "INSERT INTO shown VALUES ('2026-11-01', 'a', 4)",
    "INSERT INTO gaps (at, query, level, model, vector) VALUES ('2026-11-01T08:00:00+00:00', '旧的缺口', 'none', NULL, NULL)",
]
OLD_EDITS = [
    """CREATE TABLE IF NOT EXISTS scripts (id TEXT PRIMARY KEY, revision INTEGER NOT NULL,
        edited INTEGER NOT NULL DEFAULT 0, published TEXT, draft TEXT, draft_deletes INTEGER NOT NULL DEFAULT 0)""",
    "CREATE TABLE IF NOT EXISTS scenarios (id TEXT PRIMARY KEY, record TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('publish', 'revert', 'scenario')), target TEXT NOT NULL,
        before TEXT, after TEXT)""",
]


def make_old_sqlite_files(settings: Settings) -> None:
    """feedback.sqlite3 and edits.sqlite3 as the service made them before migrations, with rows."""
    settings.data_dir.mkdir()
    old_scenarios = [
        NewScenario(id=i, name=i, group="business", looks_like=[f"{i} 的投诉"]).scenario() for i in ("zz-old", "aa-old")
    ]
    with sqlite3.connect(settings.feedback_file) as db:
        db.execute("PRAGMA journal_mode=WAL")
        for statement in OLD_FEEDBACK:
            db.execute(statement)
    with sqlite3.connect(settings.edits_file) as db:
        for statement in OLD_EDITS:
            db.execute(statement)
        db.executemany("INSERT INTO scenarios VALUES (?, ?)", [(s.id, s.model_dump_json()) for s in old_scenarios])
        db.execute("INSERT INTO scripts (id, revision, draft) VALUES (?, 3, NULL)", (EXISTING,))
        db.execute("INSERT INTO changes (at, who, kind, target, before, after)"
                   " VALUES ('2026-11-01T08:00:00+00:00', 'alice', 'scenario', 'zz-old', NULL, '{}')")


def test_sqlite_files_made_before_migrations_are_adopted_with_their_rows(tmp_path):
    settings = Settings(corpus_dir=CORPUS_DIR, data_dir=tmp_path / "data")
    make_old_sqlite_files(settings)
    read_and_write_the_old_rows(settings)
    for path, revision in ((settings.feedback_file, "feedback_0001"), (settings.edits_file, "admin_0002")):
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(revision,)]


def test_the_rows_of_sqlite_files_are_copied_into_postgresql_once(tmp_path, postgres_url):
    make_old_sqlite_files(Settings(data_dir=tmp_path / "data"))
    settings = Settings(corpus_dir=CORPUS_DIR, data_dir=tmp_path / "data", database_url=postgres_url)
    assert copy_sqlite_files(settings) == {
        "feedback": 1, "shown": 1, "gaps": 1, "scripts": 1, "scenarios": 2, "changes": 1,
    }
    read_and_write_the_old_rows(settings)
    with pytest.raises(Conflict, match="has rows already"):
        copy_sqlite_files(settings)


def read_and_write_the_old_rows(settings: Settings) -> None:
    feedback = FeedbackStore(database(settings, "feedback"))
    assert feedback.counts() == [{"script_id": "a", "up": 0, "down": 1, "copied": 0}]
    assert [g.query for g in feedback.gaps(since=LONG_AGO)] == ["旧的缺口"]
    feedback.add("新的反馈", "a", "up", "v1")
    feedback.add_usage({("2026-11-01", "a"): 1}, [], LONG_AGO, 100)
    assert [(r["shown"], r["up"], r["down"]) for r in feedback.script_counts(None, None)] == [(5, 1, 1)]

    editor = ScriptEditor(database(settings, "admin"), settings.corpus_dir, DocumentStore(settings.documents_dir))
    assert [s.id for s in editor.edits().scenarios] == ["zz-old", "aa-old"]  # the order they were added in
    assert editor.state(EXISTING).revision == 3
    editor.save(EXISTING, edited(editor, "迁移之后保存的草稿。"), revision=3)
    editor.add_scenario(NewScenario(id="mm-new", name="mm", group="business", looks_like=["新的投诉"]), "bob")
    assert [s.id for s in editor.edits().scenarios] == ["zz-old", "aa-old", "mm-new"]
    assert [c.who for c in editor.changes(None, 10)] == ["bob", "alice"]


def test_db_upgrade_migrates_from_the_command_line(postgres_url):
    env = {"HUASHU_DATABASE_URL": postgres_url, "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "feedback: postgresql+psycopg://postgres:***@127.0.0.1" in result.stdout
    assert "huashu-test-password" not in result.stdout + result.stderr
    assert FeedbackStore(database(Settings(database_url=postgres_url), "feedback")).counts() == []


# ---------------------------------------------------------------- PostgreSQL that cannot be used


@pytest.mark.parametrize("problem", ["down", "wrong password", "no such database"])
def test_a_postgresql_that_cannot_be_used_is_a_storage_error_with_the_remedy(postgres, postgres_url, problem):
    url = {
        "down": postgres_url.replace(f":{postgres.port}/", f":{free_port()}/"),
        "wrong password": postgres_url.replace("huashu-test-password", "not-the-password"),
        "no such database": postgres_url.rsplit("/", 1)[0] + "/no_such_database",
    }[problem]
    settings = Settings(database_url=url)
    for attempt in (lambda: FeedbackStore(database(settings, "feedback")),
                    lambda: JobRunner(database(settings, "admin")).get("any")):
        with pytest.raises(StorageError) as raised:
            attempt()
        message = str(raised.value)
        assert raised.value.status == 503
        assert "check that the PostgreSQL server of HUASHU_DATABASE_URL is running and reachable" in message
        assert "postgresql+psycopg://postgres:***@127.0.0.1" in message and "password@" not in message


def test_a_postgresql_that_stops_while_in_use_is_a_storage_error_until_it_is_back():
    with postgres_server() as server:  # a server of its own, to stop
        url = server.create_database()
        feedback = FeedbackStore(database(Settings(database_url=url), "feedback"))
        feedback.add("停机之前", "a", "up", "v1")
        server.stop()
        with pytest.raises(StorageError, match="check that the PostgreSQL server of HUASHU_DATABASE_URL is running"):
            feedback.add("停机的时候", "a", "up", "v1")
        with pytest.raises(StorageError):
            feedback.counts()
        server.start()  # the operator starts it again: no restart of the service needed
        feedback.add("恢复之后", "a", "down", "v1")
        assert feedback.counts() == [{"script_id": "a", "up": 1, "down": 1, "copied": 0}]


def test_databases_migrated_at_once_in_several_threads_all_end_migrated(tmp_path):
    # Alembic's migration context is one per process: two databases migrating at the same moment
    # (the feedback file on a flush thread, the edits file on a request) must not cross.
    for attempt in range(5):
        databases = [
            Database(f"sqlite:///{tmp_path / f'{attempt}-{i}.sqlite3'}", "feedback", "feedback") for i in range(6)
        ]
        errors = []

        def migrate(db):
            try:
                db.upgrade()
            except Exception as e:  # any failure is the finding
                errors.append(e)

        threads = [threading.Thread(target=migrate, args=(db,)) for db in databases]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert all("feedback" in inspect(db.engine).get_table_names() for db in databases)
