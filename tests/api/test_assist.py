"""POST /v1/assist: the contract of a live call (docs/api.md, "A live call")."""

import pytest

CALL = {
    "turns": [
        {"role": "customer", "text": "我家宽带断了三天了，报修也没人来"},
        {"role": "agent", "text": "非常抱歉，我马上帮您催"},
        {"role": "customer", "text": "五个月前你们就多扣过我二百块，这次再不修好我就去工信部投诉"},
    ]
}


def test_assist_answers_a_search_and_the_call(client):
    response = client.post("/v1/assist", json=CALL)
    assert response.status_code == 200
    body = response.json()
    assert body["query"] == CALL["turns"][-1]["text"]
    assert {"index_version", "took_ms", "match", "detected_scenarios", "scripts", "statutes", "passages"} <= set(body)
    assert 1 <= len(body["scripts"]) <= 5
    assert {"scenario": "broadband-fault", "name": "宽带故障与移机", "turn": 0} in body["demands"]
    assert body["escalation"]["level"] in ("watch", "high")
    regulator = [r for r in body["escalation"]["reasons"] if r["kind"] == "regulator"]
    assert regulator and regulator[0]["turn"] == 2 and regulator[0]["evidence"] in CALL["turns"][2]["text"]
    assert body["escalation"]["advice"]


def test_facts_carry_the_provision_they_are_checked_against(client):
    facts = client.post("/v1/assist", json=CALL).json()["facts"]
    outage = next(f for f in facts if f["words"] == "三天")
    assert outage["kind"] == "duration" and outage["turn"] == 0 and outage["value"] == 72
    assert outage["statute"]["law"] == "中华人民共和国电信条例" and outage["statute"]["article_no"] == 32
    assert "48小时" in outage["statute"]["text"] and outage["implies"]
    amount = next(f for f in facts if f["words"] == "二百块")
    assert amount["kind"] == "amount" and amount["value"] == 200 and amount["turn"] == 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"turns": [{"role": "agent", "text": "您好"}]}, "no customer turn"),
        ({"turns": []}, "at least 1"),
        ({"turns": [{"role": "customer", "text": " \u200b "}]}, "no visible characters"),
        ({"turns": [{"role": "customer", "text": "流量" * 501}]}, "at most 1000"),
        ({"turns": [{"role": "customer", "text": "流量不对"}] * 51}, "at most 50"),
        ({"turns": [{"role": "boss", "text": "流量不对"}]}, "customer"),
    ],
)
def test_a_bad_conversation_is_a_readable_422(client, body, words):
    response = client.post("/v1/assist", json=body)
    assert response.status_code == 422
    assert words in response.json()["detail"]


def test_the_same_call_again_reads_its_turns_once(client, engine):
    client.post("/v1/assist", json=CALL)
    kept = len(engine._readings)
    client.post("/v1/assist", json=CALL)
    assert len(engine._readings) == kept
