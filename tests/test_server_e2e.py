"""The real service (the `server` fixture in conftest.py) queried over HTTP."""

import sqlite3
from collections import Counter

import httpx

from tests.conftest import running_server


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


def test_what_a_real_server_counted_is_written_when_it_stops(settings, index_version, tmp_path):
    """Searches only count in memory; stopping the server (SIGTERM) writes the counts and the
    gaps, so nothing counted is lost."""
    with running_server(settings.index_dir, tmp_path) as base:
        answers = [
            httpx.post(f"{base}/v1/search", json={"query": query, "top_k": 3}, timeout=30).json()
            for query in ("用户宽带断了三天，要一万块损失费", "红烧肉怎么做，我电话13812345678")
        ]
    assert [answer["match"]["level"] for answer in answers] == ["strong", "none"]
    with sqlite3.connect(tmp_path / "data" / "feedback.sqlite3") as db:
        shown = dict(db.execute("SELECT script_id, SUM(count) FROM shown GROUP BY script_id").fetchall())
        gaps = db.execute("SELECT query, level, length(vector) > 0 FROM gaps").fetchall()
    assert shown == Counter(script["id"] for answer in answers for script in answer["scripts"])
    assert gaps == [("红烧肉怎么做,我电话[手机号]", "none", 1)]  # with its embedding
