"""The service with HUASHU_DATABASE_URL set: what the real server (uvicorn, the real model and
index) writes is in PostgreSQL, where another process reads it, and nothing goes to SQLite files;
a PostgreSQL that is down is a 503 with the remedy, and searches go on."""

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.admin.jobs import JobRunner
from app.api.main import create_app
from app.core.config import Settings
from app.feedback.store import FeedbackStore
from app.store.database import database
from tests.conftest import free_port, running_server

TOKEN = "pg-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_a_server_on_postgresql_keeps_feedback_usage_and_jobs_there(index_copy, tmp_path, postgres_url):
    shared = Settings(database_url=postgres_url)  # another replica's view of the same database
    with running_server(index_copy, tmp_path, HUASHU_DATABASE_URL=postgres_url, ADMIN_TOKEN=TOKEN) as base:
        search = {"query": "客户说流量被偷了，要双倍赔偿", "top_k": 3}
        answer = httpx.post(f"{base}/v1/search", json=search, timeout=30)
        script_id = answer.json()["scripts"][0]["id"]
        body = {"query": "客户说流量被偷了", "script_id": script_id, "signal": "down", "index_version": "v1"}
        assert httpx.post(f"{base}/v1/feedback", json=body, timeout=30).status_code == 202

        summary = httpx.get(f"{base}/v1/admin/feedback/summary", headers=AUTH, timeout=30).json()
        assert [(s["script_id"], s["down"]) for s in summary["scripts"]] == [(script_id, 1)]
        assert summary["recent_negative"][0]["query"] == "客户说流量被偷了"
        per_script = httpx.get(f"{base}/v1/admin/feedback/scripts", headers=AUTH, timeout=30).json()["scripts"]
        shown = {s["script_id"]: s["shown"] for s in per_script}
        assert shown == Counter(s["id"] for s in answer.json()["scripts"])  # the search counted, written first

        job = httpx.post(f"{base}/v1/admin/reindex", headers=AUTH, timeout=30).json()
        assert JobRunner(database(shared, "admin")).get(job["id"]).kind == "reindex"  # any replica answers
        deadline = datetime.now(UTC) + timedelta(minutes=5)
        while httpx.get(f"{base}/v1/admin/jobs/{job['id']}", headers=AUTH, timeout=30).json()["state"] in (
            "queued", "running"
        ):
            assert datetime.now(UTC) < deadline
            time.sleep(0.5)
        finished = JobRunner(database(shared, "admin")).get(job["id"])
        assert finished.state == "succeeded" and finished.up_to_date, finished.error

    stored = FeedbackStore(database(shared, "feedback"))
    assert [(c["script_id"], c["down"]) for c in stored.counts()] == [(script_id, 1)]
    assert not list((tmp_path / "data").glob("*.sqlite3"))  # nothing kept on the node


def test_a_postgresql_that_is_down_is_a_503_with_the_remedy_and_searches_go_on(settings, engine, postgres_url):
    down = postgres_url.rsplit(":", 1)[0] + f":{free_port()}/huashu"
    own = settings.model_copy(update={"database_url": SecretStr(down), "admin_token": TOKEN})
    with TestClient(create_app(own, engine)) as client:
        assert client.post("/v1/search", json={"query": "客户说流量被偷了，要双倍赔偿"}).status_code == 200
        script_id = engine.index.collections["scripts"].records[0].id
        body = {"query": "客户说流量被偷了", "script_id": script_id, "signal": "down", "index_version": "v1"}
        for response in (
            client.post("/v1/feedback", json=body),
            client.get("/v1/admin/feedback/summary", headers=AUTH),
            client.get("/v1/admin/jobs/0123456789ab", headers=AUTH),
            client.post("/v1/admin/reindex", headers=AUTH),
            client.get("/v1/admin/changes", headers=AUTH),
        ):
            assert response.status_code == 503, response.text
            detail = response.json()["detail"]
            assert "check that the PostgreSQL server of HUASHU_DATABASE_URL is running and reachable" in detail
            assert "postgres:***@127.0.0.1" in detail and "huashu-test-password" not in detail
