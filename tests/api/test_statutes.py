import pytest


@pytest.mark.parametrize("law", ["中华人民共和国消费者权益保护法", "消费者权益保护法", "消法"])
def test_statute_by_any_name(client, law):
    response = client.get(f"/v1/statutes/{law}/55")
    assert response.status_code == 200
    body = response.json()
    assert body["law"] == "中华人民共和国消费者权益保护法"
    assert body["article"] == "第五十五条" and "三倍" in body["text"]
    assert body["status"] == "current" and body["superseded_by"] is None


@pytest.mark.parametrize(
    "path, successor",
    [
        ("合同法/113", ("中华人民共和国民法典", 584)),
        ("合同法/119", ("中华人民共和国民法典", 591)),
        ("侵权责任法/22", ("中华人民共和国民法典", 1183)),
        ("民法通则/134", ("中华人民共和国民法典", 179)),
        ("1993消法/49", ("中华人民共和国消费者权益保护法", 55)),
    ],
)
def test_repealed_provision_names_its_successor(client, path, successor):
    body = client.get(f"/v1/statutes/{path}").json()
    assert body["status"] == "repealed"
    assert successor in [(a["law"], a["article_no"]) for a in body["superseded_by"]]
    assert all(a["text"] for a in body["superseded_by"])


@pytest.mark.parametrize("path", ["不存在法/1", "消法/999"])
def test_unknown_statute_is_404(client, path):
    response = client.get(f"/v1/statutes/{path}")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_article_number_must_be_a_positive_integer(client):
    assert client.get("/v1/statutes/消法/abc").status_code == 422
    assert client.get("/v1/statutes/消法/0").status_code == 422


@pytest.mark.parametrize(
    "path, words",
    [
        ("诉讼费用交纳办法/13", "每件交纳50元"),
        ("未成年人保护法/1", "未成年人"),
        ("老年人权益保障法/1", "老年人"),
        ("携号转网服务管理规定/1", "携号转网"),
        ("电信服务规范/1", "电信服务"),
        ("电信和互联网用户个人信息保护规定/1", "用户"),
        ("申诉办法/11", "五个月"),
    ],
)
def test_the_rules_added_for_todays_complaints_answer(client, path, words):
    response = client.get(f"/v1/statutes/{path}")
    assert response.status_code == 200
    assert words in response.json()["text"]
