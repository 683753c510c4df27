import sqlite3

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app

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
