"""Editing scripts through the admin API against the real corpus, model and index: drafts checked
against the whole corpus, stale revisions refused, publish and revert re-index and the search
follows, every change recorded with the token's label."""

import json
import threading
import time
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app

TOKEN, ALICE, BOB = "test-admin-token", "alice-token", "bob-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
AS_ALICE = {"Authorization": f"Bearer {ALICE}"}
AS_BOB = {"Authorization": f"Bearer {BOB}"}
EXISTING = "double-refund/step-back"
NEW = {
    "id": "number-flagged/edit-api",
    "title": "号码被标记：在线编辑的话术",
    "scenarios": ["number-flagged"],
    "technique": "共情 + 解释",
    "situation": "客户说他的号码被手机管家标成了快递外卖骚扰电话，亲戚朋友都不接他电话",
    "text": "非常理解您着急的心情，号码标记是第三方软件根据用户举报做的，我现在帮您向{软件名称}提交申诉。",
    "citations": [{"law": "消法", "article_no": 29}],
    "channels": ["phone", "counter", "online"],
    "source": {"document": None, "section": None, "origin": "authored"},
}
# A complaint only the edited text answers: nothing in the corpus speaks of a lighthouse.
MARKER = "灯塔"


@pytest.fixture
def make_client(tmp_path, settings, engine, index_copy):
    """An app with its own index directory (a copy of the session's version) and data directory,
    ADMIN_TOKEN and two labelled ADMIN_TOKENS, sharing the session's loaded model."""

    @contextmanager
    def make(**changes):
        own = settings.model_copy(update={
            "index_dir": index_copy, "data_dir": tmp_path / "data", "admin_token": TOKEN,
            "admin_tokens": {"alice": ALICE, "bob": BOB}, **changes,
        })
        with TestClient(create_app(own, engine)) as client:
            yield client

    return make


@pytest.fixture
def client(make_client):
    with make_client() as client:
        yield client


def state(client, script_id: str) -> dict:
    response = client.get(f"/v1/admin/scripts/{script_id}", headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def wait(client, job: dict) -> dict:
    deadline = time.monotonic() + 300
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/v1/admin/jobs/{job['id']}", headers=AUTH).json()
    return job


def publish(client, script_id: str, headers=AUTH) -> dict:
    response = client.post(
        f"/v1/admin/scripts/{script_id}/publish", json={"revision": state(client, script_id)["revision"]},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    assert response.json()["kind"] == "publish"
    job = wait(client, response.json())
    assert job["state"] == "succeeded", job
    return job


def found(client, query: str, script_id: str) -> dict | None:
    # Among the scripts of its own scenario: the others of a scenario rank below every other scenario's first.
    scenario = script_id.split("/")[0]
    body = {"query": query, "top_k": 30, "scenarios": [scenario]}
    results = client.post("/v1/search", json=body).json()["scripts"]
    return next((s for s in results if s["id"] == script_id), None)


def test_whoami_names_the_label_of_each_token(client):
    assert client.get("/v1/admin/whoami", headers=AUTH).json() == {"label": "admin"}
    assert client.get("/v1/admin/whoami", headers=AS_ALICE).json() == {"label": "alice"}
    assert client.get("/v1/admin/whoami", headers=AS_BOB).json() == {"label": "bob"}
    assert client.get("/v1/admin/whoami", headers={"Authorization": "Bearer alice"}).status_code == 401
    assert client.get("/v1/admin/whoami").status_code == 401


def test_admin_tokens_alone_enable_the_admin_api(make_client):
    with make_client(admin_token=None) as client:
        assert client.get("/v1/admin/whoami", headers=AUTH).status_code == 401
        assert client.get("/v1/admin/whoami", headers=AS_BOB).json() == {"label": "bob"}
    with make_client(admin_token=None, admin_tokens={}) as client:
        assert client.get("/v1/admin/whoami", headers=AS_BOB).status_code == 403


def test_get_lists_and_shows_a_corpus_script_with_its_citations(client):
    listed = client.get("/v1/admin/scripts", params={"scenario": "double-refund", "limit": 500}, headers=AUTH).json()
    assert EXISTING in [s["id"] for s in listed["scripts"]]
    assert all("double-refund" in s["scenarios"] for s in listed["scripts"])
    assert listed["total"] == len(listed["scripts"])
    one = state(client, EXISTING)
    assert one["published"]["id"] == EXISTING and one["draft"] is None and one["revision"] == 0
    assert one["problems"] == [] and all(c["found"] and c["text"] for c in one["cited"])
    assert [c["article_no"] for c in one["cited"]] == [c["article_no"] for c in one["published"]["citations"]]
    searched = client.get("/v1/admin/scripts", params={"q": one["published"]["title"]}, headers=AUTH).json()
    assert [s["id"] for s in searched["scripts"]] == [EXISTING]
    assert client.get("/v1/admin/scripts/double-refund/no-such-script", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "change, field, says",
    [
        ({"text": "您好，这个问题……我们再看看。"}, "text", "placeholder"),
        ({"text": "请您提供XX号码。"}, "text", "placeholder"),
        ({"scenarios": ["number-flagged", "no-such-scenario"]}, "scenarios[1]", "unknown scenario 'no-such-scenario'"),
        ({"citations": [{"law": "民法典", "article_no": 99999}]}, "citations[0]", "does not resolve"),
        ({"citations": [{"law": "没有这部法", "article_no": 1}]}, "citations[0]", "does not resolve"),
        ({"title": " "}, "title", "blank"),
        ({"channels": ["fax"]}, "channels[0]", "phone"),
        ({"source": {"document": None}}, "source.origin", "required"),
        ({"id": "Number Flagged"}, "id", "pattern"),
    ],
)
def test_each_problem_is_shown_with_its_field_and_nothing_is_stored(client, change, field, says):
    script = {**NEW, **change}
    checked = client.post("/v1/admin/scripts/validate", json={"script": script}, headers=AUTH)
    assert checked.status_code == 200
    problems = checked.json()["problems"]
    assert any(p["field"] == field and says in p["message"] for p in problems), problems

    refused = client.post(f"/v1/admin/scripts/{NEW['id']}", json={"script": script}, headers=AUTH)
    assert refused.status_code == 422
    assert any(p["field"] == field for p in refused.json()["problems"]) and refused.json()["detail"]
    assert client.get(f"/v1/admin/scripts/{NEW['id']}", headers=AUTH).status_code == 404


def test_validation_shows_the_cited_articles_text(client):
    checked = client.post("/v1/admin/scripts/validate", json={"script": NEW}, headers=AUTH).json()
    assert checked["problems"] == []
    assert checked["cited"] == [
        {"law": "消法", "article_no": 29, "found": True, "text": client.get("/v1/statutes/消法/29").json()["text"]}
    ]


def test_an_id_taken_is_409_and_a_body_for_another_id_is_422(client):
    existing = state(client, EXISTING)["published"]
    assert client.post(f"/v1/admin/scripts/{EXISTING}", json={"script": existing}, headers=AUTH).status_code == 409
    taken = client.post("/v1/admin/scripts/validate", json={"script": existing, "new": True}, headers=AUTH).json()
    assert [p["field"] for p in taken["problems"]] == ["id"]

    assert client.post(f"/v1/admin/scripts/{NEW['id']}", json={"script": NEW}, headers=AUTH).status_code == 201
    again = client.post(f"/v1/admin/scripts/{NEW['id']}", json={"script": NEW}, headers=AUTH)
    assert again.status_code == 409 and "exists" in again.json()["detail"]  # a draft holds the id too

    other = client.post("/v1/admin/scripts/number-flagged/other-id", json={"script": NEW}, headers=AUTH)
    assert other.status_code == 422 and other.json()["problems"][0]["field"] == "id"


def test_a_save_with_a_stale_revision_is_409_and_keeps_the_first_save(client):
    original = state(client, EXISTING)
    alices = {**original["published"], "text": original["published"]["text"] + "（甲改）"}
    bobs = {**original["published"], "text": original["published"]["text"] + "（乙改）"}
    first = client.put(f"/v1/admin/scripts/{EXISTING}", json={"script": alices, "revision": 0}, headers=AS_ALICE)
    assert first.status_code == 200 and first.json()["revision"] == 1
    second = client.put(f"/v1/admin/scripts/{EXISTING}", json={"script": bobs, "revision": 0}, headers=AS_BOB)
    assert second.status_code == 409 and "revision 1" in second.json()["detail"]
    now = state(client, EXISTING)
    assert now["draft"]["text"] == alices["text"] and now["published"] == original["published"]
    # The same holds for a delete, a discard and a publish started from a stale revision.
    assert client.delete(f"/v1/admin/scripts/{EXISTING}", params={"revision": 0}, headers=AUTH).status_code == 409
    assert client.delete(f"/v1/admin/scripts/{EXISTING}/draft", params={"revision": 0}, headers=AUTH).status_code == 409
    assert client.post(f"/v1/admin/scripts/{EXISTING}/publish", json={"revision": 0}, headers=AUTH).status_code == 409
    misspelt = client.delete(f"/v1/admin/scripts/{EXISTING}/draft", params={"rev": 1}, headers=AUTH)
    assert misspelt.status_code == 422 and "'rev'" in misspelt.json()["detail"] and "revision" in misspelt.json()["detail"]
    discarded = client.delete(f"/v1/admin/scripts/{EXISTING}/draft", params={"revision": 1}, headers=AUTH).json()
    assert discarded["draft"] is None and discarded["revision"] == 2
    assert client.post(f"/v1/admin/scripts/{EXISTING}/publish", json={"revision": 2}, headers=AUTH).status_code == 409


def test_concurrent_saves_of_one_revision_let_exactly_one_through(client):
    published = state(client, EXISTING)["published"]
    statuses = []

    def save(n: int) -> None:
        script = {**published, "text": published["text"] + f"（第{n}版）"}
        statuses.append(client.put(f"/v1/admin/scripts/{EXISTING}", json={"script": script, "revision": 0},
                                   headers=AUTH).status_code)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409, 409, 409]
    assert state(client, EXISTING)["revision"] == 1


def test_publish_makes_the_new_text_searchable_and_revert_brings_the_old_back(client):
    before = state(client, EXISTING)["published"]
    query = f"客户说要去{MARKER}下面拉横幅，要求双倍赔偿"
    edited = {**before, "text": f"您说要去{MARKER}下面拉横幅，我理解您很着急。" + before["text"]}
    saved = client.put(f"/v1/admin/scripts/{EXISTING}", json={"script": edited, "revision": 0}, headers=AS_ALICE)
    assert saved.status_code == 200, saved.text
    assert found(client, query, EXISTING)["text"] == before["text"]  # a draft is not searched

    job = publish(client, EXISTING, headers=AS_ALICE)
    assert job["version"] == client.get("/readyz").json()["index_version"]
    assert found(client, query, EXISTING)["text"] == edited["text"]
    after = state(client, EXISTING)
    assert after["published"]["text"] == edited["text"] and after["draft"] is None and after["revision"] == 2

    change = client.get("/v1/admin/changes", params={"target": EXISTING}, headers=AUTH).json()["changes"][0]
    assert change["who"] == "alice" and change["kind"] == "publish"
    assert change["before"]["text"] == before["text"] and change["after"]["text"] == edited["text"]

    reverted = client.post(f"/v1/admin/changes/{change['id']}/revert", headers=AS_BOB)
    assert reverted.status_code == 202
    assert wait(client, reverted.json())["state"] == "succeeded"
    assert state(client, EXISTING)["published"]["text"] == before["text"]
    assert found(client, query, EXISTING)["text"] == before["text"]
    latest = client.get("/v1/admin/changes", headers=AUTH).json()["changes"][0]
    assert (latest["who"], latest["kind"], latest["after"]["text"]) == ("bob", "revert", before["text"])


def test_a_new_script_is_published_and_a_deleted_one_is_gone(client):
    query = "客户说号码被手机管家标记成快递外卖骚扰电话，别人都不接"
    assert client.post(f"/v1/admin/scripts/{NEW['id']}", json={"script": NEW}, headers=AUTH).status_code == 201
    publish(client, NEW["id"])
    assert found(client, query, NEW["id"])["slots"] == ["软件名称"]

    drafted = client.delete(f"/v1/admin/scripts/{NEW['id']}", params={"revision": 2}, headers=AUTH).json()
    assert drafted["draft_deletes"] is True and drafted["published"]["id"] == NEW["id"]
    publish(client, NEW["id"])
    assert found(client, query, NEW["id"]) is None
    assert client.get(f"/v1/admin/scripts/{NEW['id']}", headers=AUTH).status_code == 404
    change = client.get("/v1/admin/changes", params={"target": NEW["id"]}, headers=AUTH).json()["changes"][0]
    assert change["after"] is None and change["before"]["id"] == NEW["id"]


def test_a_scenario_added_is_usable_by_a_script_at_once(client):
    scenario = {"id": "lighthouse-visit", "name": "灯塔参观", "group": "business", "looks_like": [f"客户参观{MARKER}时手机没信号"]}
    script = {**NEW, "id": "lighthouse-visit/signal", "scenarios": ["lighthouse-visit"],
              "situation": f"客户说在{MARKER}景区手机一点信号都没有，要求赔偿门票"}
    refused = client.post(f"/v1/admin/scripts/{script['id']}", json={"script": script}, headers=AUTH)
    assert [p["field"] for p in refused.json()["problems"]] == ["scenarios[0]"]

    added = client.post("/v1/admin/scenarios", json=scenario, headers=AS_ALICE)
    assert added.status_code == 201 and added.json()["id"] == scenario["id"]
    assert client.post("/v1/admin/scenarios", json=scenario, headers=AUTH).status_code == 409
    bad = client.post("/v1/admin/scenarios", json={**scenario, "id": "Lighthouse_Visit"}, headers=AUTH)
    assert bad.status_code == 422 and "lowercase" in bad.json()["detail"]
    unknown = client.post("/v1/admin/scenarios", json={**scenario, "id": "other", "group": "nowhere"}, headers=AUTH)
    assert unknown.status_code == 422 and "unknown group" in unknown.json()["detail"]

    assert client.post(f"/v1/admin/scripts/{script['id']}", json={"script": script}, headers=AUTH).status_code == 201
    publish(client, script["id"])
    scenarios = {s["id"]: s for s in client.get("/v1/scenarios").json()["scenarios"]}
    assert scenarios["lighthouse-visit"]["script_count"] == 1
    hit = found(client, f"客户在{MARKER}景区手机没信号要赔门票", script["id"])
    assert hit is not None
    change = client.get("/v1/admin/changes", params={"target": "lighthouse-visit"}, headers=AUTH).json()["changes"]
    assert [(c["kind"], c["who"]) for c in change] == [("scenario", "alice")]
    assert client.post(f"/v1/admin/changes/{change[0]['id']}/revert", headers=AUTH).status_code == 409


def test_a_publish_while_a_job_runs_is_409_and_publishes_nothing(client):
    edited = {**state(client, EXISTING)["published"], "text": "您好，我来帮您核实。"}
    client.put(f"/v1/admin/scripts/{EXISTING}", json={"script": edited, "revision": 0}, headers=AUTH)
    release = threading.Event()
    running = client.app.state.jobs.start("reindex", lambda progress: release.wait(30) and None)
    try:
        busy = client.post(f"/v1/admin/scripts/{EXISTING}/publish", json={"revision": 1}, headers=AUTH)
        assert busy.status_code == 409 and "running" in busy.json()["detail"]
    finally:
        release.set()
    while running.state in ("queued", "running"):
        time.sleep(0.05)
    now = state(client, EXISTING)
    assert now["revision"] == 1 and now["draft"]["text"] == edited["text"]
    assert client.get("/v1/admin/changes", headers=AUTH).json()["changes"] == []


def test_uploads_and_deletes_of_documents_are_checked_with_the_edits(client):
    law = {"law": "编辑测试管理办法", "short": "编辑办法", "article": "第一条", "article_no": 1, "text": "受理申诉后十五日内答复。"}
    body = (json.dumps(law, ensure_ascii=False) + "\n").encode()
    uploaded = client.post("/v1/admin/documents", files={"file": ("办法.jsonl", body)}, data={"kind": "statute"},
                           headers=AUTH).json()["document"]
    citing = {**NEW, "citations": [{"law": "编辑办法", "article_no": 1}]}
    assert client.post(f"/v1/admin/scripts/{NEW['id']}", json={"script": citing}, headers=AUTH).status_code == 201
    publish(client, NEW["id"])
    refused = client.delete(f"/v1/admin/documents/{uploaded['id']}", headers=AUTH)
    assert refused.status_code == 409 and NEW["id"] in refused.json()["detail"]
    # An upload of a script with that id would vanish behind the edited one: refused.
    again = (json.dumps({**NEW, "citations": []}, ensure_ascii=False) + "\n").encode()
    shadowed = client.post("/v1/admin/documents", files={"file": ("s.jsonl", again)}, data={"kind": "script"},
                           headers=AUTH)
    assert shadowed.status_code == 422 and "edited by an admin" in shadowed.json()["detail"]


def test_an_unwritable_data_directory_is_503_with_the_remedy(make_client, tmp_path):
    (tmp_path / "not-a-directory").write_text("")
    with make_client(data_dir=tmp_path / "not-a-directory") as client:
        response = client.get(f"/v1/admin/scripts/{EXISTING}", headers=AUTH)
    assert response.status_code == 503 and "HUASHU_DATA_DIR" in response.json()["detail"]
