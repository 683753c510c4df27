"""The real service (the `server` fixture in conftest.py) queried over HTTP."""

import httpx


def test_real_server_answers_search_and_statutes(server, index_version):
    ready = httpx.get(f"{server}/readyz").json()
    assert ready["index_version"] == index_version

    response = httpx.post(f"{server}/v1/search", json={"query": "用户宽带断了三天，张口就要一万块损失费", "top_k": 5}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    top = {sid for s in body["scripts"] for sid in s["scenarios"]}
    assert {"high-compensation", "broadband-fault"} <= top

    statute = httpx.get(f"{server}/v1/statutes/合同法/113").json()
    assert ("中华人民共和国民法典", 584) in [(a["law"], a["article_no"]) for a in statute["superseded_by"]]

    bad = httpx.post(f"{server}/v1/search", json={"query": "   "})
    assert bad.status_code == 422
