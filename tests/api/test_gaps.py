"""The gaps log through the API: searches and calls whose match is weak or none are kept
(normalised, masked) and grouped; the admin reads the groups."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.feedback.store import FeedbackStore, Gap
from app.store.database import sqlite_database

TOKEN = "gaps-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
GAPS = "/v1/admin/gaps"
RECIPE = "红烧肉怎么做，我电话13812345678"  # no telecom matter: match none (app/search/match.py)
WATCH = "智能手表能不能办一号双终端"  # only partly covered: match weak
COVERED = "客户说流量被偷了，要双倍赔偿"


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def admin_client(settings, engine, data_dir):
    with TestClient(create_app(settings.model_copy(update={"data_dir": data_dir, "admin_token": TOKEN}), engine)) as c:
        yield c


def search(client, query: str) -> str:
    response = client.post("/v1/search", json={"query": query})
    assert response.status_code == 200
    return response.json()["match"]["level"]


def test_searches_that_nothing_fits_well_are_kept_masked_and_grouped(admin_client, data_dir):
    assert search(admin_client, RECIPE) == "none"
    assert search(admin_client, "红烧肉怎么做，我电话 138-1234-5678") == "none"
    assert search(admin_client, WATCH) == "weak"
    assert search(admin_client, COVERED) == "strong"

    body = admin_client.get(GAPS, headers=ADMIN).json()
    assert body["total"] == 3
    recipe, watch = body["groups"]
    assert recipe["size"] == 2 and recipe["levels"] == {"weak": 0, "none": 2}
    assert sorted(recipe["examples"]) == ["红烧肉怎么做,我电话 [手机号]", "红烧肉怎么做,我电话[手机号]"]
    assert watch == {
        "size": 1, "examples": [WATCH], "levels": {"weak": 1, "none": 0},
        "nearest_scenario": watch["nearest_scenario"], "last_seen": watch["last_seen"],
    }
    assert set(watch["nearest_scenario"]) == {"id", "name", "score"}
    assert datetime.fromisoformat(watch["last_seen"]) > datetime.now(UTC) - timedelta(minutes=5)

    # The phone number reached neither the log nor any file of the database.
    with sqlite3.connect(data_dir / "feedback.sqlite3") as db:
        assert all("1381234" not in q and "5678" not in q for (q,) in db.execute("SELECT query FROM gaps"))
    for file in data_dir.rglob("*"):
        assert not file.is_file() or b"1381234" not in file.read_bytes()


def test_a_call_keeps_its_customer_turn_once_when_it_is_new(admin_client):
    call = [{"role": "customer", "text": RECIPE}]
    assert admin_client.post("/v1/assist", json={"turns": call}).json()["match"]["level"] == "none"
    # The page sends the whole call again after the agent's answer: the same customer turn, not new.
    call.append({"role": "agent", "text": "不好意思，这个我们帮不了您。"})
    assert admin_client.post("/v1/assist", json={"turns": call}).status_code == 200
    body = admin_client.get(GAPS, headers=ADMIN).json()
    assert body["total"] == 1
    assert body["groups"][0]["examples"] == ["红烧肉怎么做,我电话[手机号]"]


def test_days_keeps_to_the_last_days_and_min_size_to_the_larger_groups(admin_client, data_dir):
    now = datetime.now(UTC).replace(microsecond=0)
    store = FeedbackStore(sqlite_database(data_dir / "feedback.sqlite3", "feedback"))
    old = [Gap((now - timedelta(days=40)).isoformat(), "明天北京会下雨吗", "none")]
    recent = [Gap((now - timedelta(hours=h)).isoformat(), q, "none")
              for h, q in [(70, "红烧肉怎么做"), (46, "教我做红烧肉"), (22, "明天北京天气怎么样")]]
    store.add_usage({}, old + recent, keep_since=now - timedelta(days=90), keep_rows=100)

    def sizes(**params):
        body = admin_client.get(GAPS, params=params, headers=ADMIN).json()
        return body["total"], [g["size"] for g in body["groups"]]

    assert sizes() == (3, [2, 1])  # the default: 30 days
    assert sizes(days=60) == (4, [2, 2])
    assert sizes(days=2, min_size=1) == (2, [1, 1])
    assert sizes(min_size=2) == (3, [2])
    assert sizes(min_size=3) == (3, [])


@pytest.mark.parametrize(
    ("params", "field"),
    [({"days": 0}, "days"), ({"days": 91}, "days"), ({"days": "a week"}, "days"), ({"days": 1.5}, "days"),
     ({"min_size": 0}, "min_size"), ({"min_size": -1}, "min_size"), ({"min_size": 5001}, "min_size")],
)
def test_days_and_min_size_out_of_range_are_422(admin_client, params, field):
    response = admin_client.get(GAPS, params=params, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{field}: ")


def test_another_parameter_is_422(admin_client):
    response = admin_client.get(GAPS, params={"day": 7}, headers=ADMIN)
    assert response.status_code == 422
    assert response.json()["detail"] == "unknown query parameter 'day': this path takes days, min_size"


def test_the_gaps_need_the_admin_token(admin_client, settings, engine):
    assert admin_client.get(GAPS).status_code == 401
    with TestClient(create_app(settings.model_copy(update={"admin_token": None}), engine)) as no_admin:
        assert no_admin.get(GAPS, headers=ADMIN).status_code == 403
