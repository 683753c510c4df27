from fastapi.testclient import TestClient

from app.api.main import create_app
from app.core.config import Settings


def test_health_and_ready_with_an_index(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["counts"]["scripts"] > 0


def test_scenarios_list_every_scenario_with_script_counts(client, corpus):
    body = client.get("/v1/scenarios").json()
    assert [s["id"] for s in body["scenarios"]] == [s.id for s in corpus.taxonomy.scenarios]
    assert len(body["scenarios"]) >= 59  # the contract's ids: added to, never removed
    assert all(s["script_count"] >= 3 for s in body["scenarios"])


def test_scenarios_name_the_provisions_that_govern_them_with_their_text(client):
    scenarios = {s["id"]: s for s in client.get("/v1/scenarios").json()["scenarios"]}
    apology = {(a["law"], a["article_no"]): a for a in scenarios["public-apology"]["statutes"]}
    assert "赔礼道歉" in apology[("中华人民共和国民法典", 179)]["text"]
    assert scenarios["intake-listening"]["statutes"] == []  # listening is governed by no provision


def test_without_an_index_search_is_503_and_health_200(tmp_path):
    settings = Settings(index_dir=tmp_path / "empty")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        response = client.post("/v1/search", json={"query": "宽带断了"})
        assert response.status_code == 503
        assert "python -m app index build" in response.json()["detail"]


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    assert "/v1/search" in client.get("/openapi.json").json()["paths"]
