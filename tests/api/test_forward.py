"""Admin requests and feedback handed on to another instance of the service (as a Ray ingress
replica hands them to the index keeper): the client gets that instance's answer, the token and
the body limit are checked before anything is sent, and an unreachable instance is a 503."""

from fastapi.testclient import TestClient

from app.api.forward import answer_forwarded
from app.api.main import create_app

TOKEN = "forward-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_admin_requests_and_feedback_are_answered_by_the_other_instance(settings, engine, tmp_path):
    keeper_settings = settings.model_copy(update={"admin_token": TOKEN, "data_dir": tmp_path / "keeper"})
    replica_settings = settings.model_copy(update={"admin_token": TOKEN, "data_dir": tmp_path / "replica"})
    handed_on = []
    with TestClient(create_app(keeper_settings, engine)) as keeper:

        async def forward(request: dict) -> dict:
            handed_on.append(request["path"])
            return await answer_forwarded(keeper.app, request)

        with TestClient(create_app(replica_settings, engine, admin_elsewhere=forward)) as replica:
            versions = replica.get("/v1/admin/versions", headers={**AUTH, "X-Request-ID": "abc-1"})
            assert versions.status_code == 200
            assert versions.json() == keeper.get("/v1/admin/versions", headers=AUTH).json()
            assert versions.headers["x-request-id"] == "abc-1"

            script_id = engine.index.collections["scripts"].records[0].id
            feedback = {"query": "宽带断了", "script_id": script_id, "signal": "down", "index_version": engine.index.name}
            assert replica.post("/v1/feedback", json=feedback).status_code == 202
            summary = replica.get("/v1/admin/feedback/summary", headers=AUTH).json()
            assert [s["down"] for s in summary["scripts"] if s["script_id"] == script_id] == [1]
            assert not (tmp_path / "replica").exists()  # the replica wrote nothing itself

            upload = replica.post(
                "/v1/admin/documents", headers=AUTH, files={"file": ("讲义.txt", "第一讲：倾听客户。".encode())},
                data={"kind": "course"},
            )
            assert upload.status_code == 201, upload.text
            stored = keeper.get("/v1/admin/documents", headers=AUTH).json()
            assert [d["id"] for d in stored] == [upload.json()["document"]["id"]]

            calls = len(handed_on)
            assert replica.get("/v1/admin/versions", headers={"Authorization": "Bearer wrong"}).status_code == 401
            too_big = replica.post(
                "/v1/admin/documents", headers=AUTH, files={"file": ("a.txt", b"x" * (settings.max_upload_bytes + 1))},
                data={"kind": "course"},
            )
            assert too_big.status_code == 413
            assert len(handed_on) == calls  # refused here, never sent on

            assert replica.post("/v1/search", json={"query": "宽带断了"}).status_code == 200
            assert "/v1/search" not in handed_on


def test_an_unreachable_instance_is_a_503_that_says_to_retry(settings, engine):
    async def forward(request: dict) -> dict:
        raise ConnectionError("keeper is restarting")

    replica_settings = settings.model_copy(update={"admin_token": TOKEN})
    with TestClient(create_app(replica_settings, engine, admin_elsewhere=forward)) as replica:
        answer = replica.get("/v1/admin/versions", headers=AUTH)
        assert answer.status_code == 503
        assert "retry" in answer.json()["detail"]
