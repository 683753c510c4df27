import csv
import io
import sqlite3
from collections import Counter
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.feedback.store import FeedbackStore
from app.store.database import sqlite_database

TOKEN = "feedback-admin-token"
SUMMARY = "/v1/admin/feedback/summary"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def admin_client(settings, engine, data_dir):
    """The app with its own empty feedback store and an admin token."""
    with TestClient(create_app(settings.model_copy(update={"data_dir": data_dir, "admin_token": TOKEN}), engine)) as c:
        yield c


@pytest.fixture
def script_ids(engine) -> list[str]:
    return [record.id for record in engine.index.collections["scripts"].records[:2]]


def feedback(client, **fields):
    body = {"query": "客户说流量被偷了", "script_id": "", "signal": "up", "index_version": "v1"} | fields
    return client.post("/v1/feedback", json=body)


def test_feedback_is_stored_and_summarised_most_down_rated_first(admin_client, script_ids, engine, data_dir):
    liked, disliked = script_ids
    for script_id, signal in [(liked, "up"), (liked, "copied"), (liked, "copied"), (disliked, "down")]:
        response = feedback(admin_client, script_id=script_id, signal=signal)
        assert response.status_code == 202
        assert response.json() == {"status": "stored"}
    feedback(admin_client, script_id=disliked, signal="down", query="宽带断了要赔一万")

    summary = admin_client.get(SUMMARY, headers=ADMIN)
    assert summary.status_code == 200
    body = summary.json()
    titles = {r.id: r.title for r in engine.index.collections["scripts"].records}
    assert body["scripts"] == [
        {"script_id": disliked, "title": titles[disliked], "up": 0, "down": 2, "copied": 0},
        {"script_id": liked, "title": titles[liked], "up": 1, "down": 0, "copied": 2},
    ]
    assert [(n["query"], n["script_id"]) for n in body["recent_negative"]] == [
        ("宽带断了要赔一万", disliked),
        ("客户说流量被偷了", disliked),
    ]
    assert body["recent_negative"][0]["index_version"] == "v1" and body["recent_negative"][0]["at"]

    # Durable: the rows are in the SQLite file under the data directory.
    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM feedback").fetchone() == (5,)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"query": "   "}, "query"),
        ({"query": "流" * 1001}, "query"),
        ({"signal": "meh"}, "signal"),
        ({"index_version": None}, "index_version"),
    ],
)
def test_invalid_feedback_is_422_and_names_the_field(admin_client, script_ids, fields, field):
    response = feedback(admin_client, script_id=script_ids[0], **fields)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(field)


@pytest.mark.parametrize("query", ["\u200b", " \u200b\u3000\u200d ", "\ufeff\u2060", "\u200e\t\u200f"])
def test_a_feedback_query_of_only_invisible_characters_is_422(admin_client, script_ids, query):
    response = feedback(admin_client, script_id=script_ids[0], query=query)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("query")


@pytest.mark.parametrize("version", ["../../etc/passwd", "/var/lib/huashu/index", "..", "v1/../v2", "v1\\v2"])
def test_a_path_like_index_version_is_422(admin_client, script_ids, version):
    response = feedback(admin_client, script_id=script_ids[0], index_version=version)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("index_version")
    assert admin_client.get(SUMMARY, headers=ADMIN).json()["scripts"] == []


def test_feedback_on_an_unknown_script_is_404(admin_client):
    response = feedback(admin_client, script_id="no-such/script")
    assert response.status_code == 404
    assert response.json()["detail"] == "unknown script id: no-such/script"
    assert admin_client.get(SUMMARY, headers=ADMIN).json()["scripts"] == []


def test_summary_needs_the_admin_token(admin_client, settings, engine):
    assert admin_client.get(SUMMARY).status_code == 401
    assert admin_client.get(SUMMARY, headers={"Authorization": "Bearer wrong"}).status_code == 401
    with TestClient(create_app(settings.model_copy(update={"admin_token": None}), engine)) as no_admin:
        assert no_admin.get(SUMMARY, headers=ADMIN).status_code == 403


# ---------------------------------------------------------------- per script over a period

SCRIPTS = "/v1/admin/feedback/scripts"


def shown_by(responses) -> Counter:
    return Counter(script["id"] for response in responses for script in response.json()["scripts"])


def test_every_script_a_search_or_a_call_returned_is_counted_as_shown(admin_client):
    responses = [
        admin_client.post("/v1/search", json={"query": "客户说流量被偷了，要双倍赔偿"}),
        admin_client.post("/v1/search", json={"query": "宽带断了三天要求赔偿", "top_k": 3}),
        admin_client.post("/v1/search", json={"query": "客户说流量被偷了，要双倍赔偿"}),
        admin_client.post("/v1/assist", json={"turns": [{"role": "customer", "text": "话费多扣了五十块"}]}),
    ]
    assert all(r.status_code == 200 for r in responses)
    body = admin_client.get(SCRIPTS, headers=ADMIN).json()
    assert body["since"] is None and body["until"] is None
    assert {row["script_id"]: row["shown"] for row in body["scripts"]} == shown_by(responses)
    assert all(row["copied"] == row["up"] == row["down"] == 0 and row["copy_rate"] == 0.0 for row in body["scripts"])


def test_the_disliked_come_first_then_the_shown_but_never_copied(admin_client, engine):
    first = admin_client.post("/v1/search", json={"query": "客户说流量被偷了，要双倍赔偿", "top_k": 5}).json()
    ids = [s["id"] for s in first["scripts"]]
    copied, liked_and_copied, disliked_once, disliked_twice, never_copied = ids
    signals = [(copied, "copied"), (liked_and_copied, "up"), (liked_and_copied, "copied"), (liked_and_copied, "copied"),
               (disliked_once, "down"), (disliked_twice, "down"), (disliked_twice, "down"), (never_copied, "up")]
    for script_id, signal in signals:
        assert feedback(admin_client, script_id=script_id, signal=signal).status_code == 202
    admin_client.post("/v1/search", json={"query": "客户说流量被偷了，要双倍赔偿", "top_k": 1})  # ids[0] shown twice

    rows = admin_client.get(SCRIPTS, headers=ADMIN).json()["scripts"]
    assert [row["script_id"] for row in rows] == [disliked_twice, disliked_once, never_copied, copied, liked_and_copied]
    titles = {r.id: r.title for r in engine.index.collections["scripts"].records}
    assert rows[0] == {"script_id": disliked_twice, "title": titles[disliked_twice], "shown": 1, "copied": 0,
                       "up": 0, "down": 2, "copy_rate": 0.0, "down_rate": 2.0}
    assert {k: rows[3][k] for k in ("shown", "copied", "up", "down", "copy_rate", "down_rate")} == {
        "shown": 2, "copied": 1, "up": 0, "down": 0, "copy_rate": 0.5, "down_rate": 0.0
    }
    assert (rows[4]["up"], rows[4]["copied"], rows[4]["copy_rate"]) == (1, 2, 2.0)


@pytest.fixture
def history(admin_client, data_dir, script_ids):
    """Scripts shown and rated on three past days, written to the service's store."""
    a, b = script_ids
    store = FeedbackStore(sqlite_database(data_dir / "feedback.sqlite3", "feedback"))
    shown = {("2026-11-01", a): 10, ("2026-11-02", a): 5, ("2026-11-02", b): 4, ("2026-11-03", b): 8}
    store.add_usage(shown, [], keep_since=datetime(2000, 1, 1, tzinfo=UTC), keep_rows=100)
    with sqlite3.connect(store.db.path) as db:
        db.executemany(
            "INSERT INTO feedback (at, query, script_id, signal, index_version) VALUES (?, '宽带断了', ?, ?, 'v1')",
            [("2026-11-01T23:59:59+00:00", a, "down"), ("2026-11-02T00:00:00+00:00", a, "copied"),
             ("2026-11-02T08:00:00+00:00", b, "copied"), ("2026-11-03T08:00:00+00:00", b, "down")],
        )
    return a, b


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("", {"a": (15, 1, 1), "b": (12, 1, 1)}),
        ("?since=2026-11-01&until=2026-11-01", {"a": (10, 0, 1)}),
        ("?since=2026-11-02&until=2026-11-02", {"a": (5, 1, 0), "b": (4, 1, 0)}),
        ("?since=2026-11-02", {"a": (5, 1, 0), "b": (12, 1, 1)}),
        ("?until=2026-11-02", {"a": (15, 1, 1), "b": (4, 1, 0)}),
        ("?since=2026-11-04", {}),
    ],
)
def test_the_period_counts_whole_utc_days_both_ends_included(admin_client, history, period, expected):
    a, b = history
    body = admin_client.get(SCRIPTS + period, headers=ADMIN).json()
    names = {a: "a", b: "b"}
    assert {names[r["script_id"]]: (r["shown"], r["copied"], r["down"]) for r in body["scripts"]} == expected
    query = dict(part.split("=") for part in period.lstrip("?").split("&") if part)
    assert (body["since"], body["until"]) == (query.get("since"), query.get("until"))


def test_the_csv_holds_the_same_rows_in_utf8_with_a_bom(admin_client, history):
    json_rows = admin_client.get(SCRIPTS + "?since=2026-11-02", headers=ADMIN).json()["scripts"]
    response = admin_client.get(SCRIPTS + ".csv?since=2026-11-02", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="feedback-scripts-2026-11-02-now.csv"'
    assert response.content.startswith(b"\xef\xbb\xbfscript_id,title,shown,copied,up,down,copy_rate,down_rate\r\n")
    parsed = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    as_text = [{k: "" if v is None else str(v) for k, v in row.items()} for row in json_rows]
    assert parsed == as_text and len(parsed) == 2
    assert any("\u4e00" <= c <= "\u9fff" for c in parsed[0]["title"])  # the Chinese title intact


@pytest.mark.parametrize("day", ["2026-13-01", "2026-02-30", "20261201", "2026-12-1", "yesterday", "1700000000",
                                 "2026-12-01T00:00:00", " 2026-12-01", ""])
@pytest.mark.parametrize("path", [SCRIPTS, SCRIPTS + ".csv"])
@pytest.mark.parametrize("name", ["since", "until"])
def test_a_day_that_is_not_yyyy_mm_dd_is_422(admin_client, path, name, day):
    response = admin_client.get(path, params={name: day}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"] == f"{name}: not a day: write it as YYYY-MM-DD (a UTC day), e.g. 2026-12-01"


@pytest.mark.parametrize("path", [SCRIPTS, SCRIPTS + ".csv"])
def test_since_after_until_is_422(admin_client, path):
    response = admin_client.get(path, params={"since": "2026-12-02", "until": "2026-12-01"}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"] == "since (2026-12-02) is after until (2026-12-01): swap them"
    one_day = {"since": "2026-12-01", "until": "2026-12-01"}
    assert admin_client.get(path, params=one_day, headers=ADMIN).status_code == 200


@pytest.mark.parametrize("path", [SCRIPTS, SCRIPTS + ".csv"])
def test_the_per_script_counts_need_the_admin_token(admin_client, settings, engine, path):
    assert admin_client.get(path).status_code == 401
    assert admin_client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    with TestClient(create_app(settings.model_copy(update={"admin_token": None}), engine)) as no_admin:
        assert no_admin.get(path, headers=ADMIN).status_code == 403


@pytest.mark.parametrize("path", [SCRIPTS, SCRIPTS + ".csv"])
def test_a_misspelt_parameter_is_422_not_ignored(admin_client, path):
    response = admin_client.get(path, params={"sinse": "2026-12-01"}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"] == "unknown query parameter 'sinse': this path takes since, until"
