"""/metrics in the Prometheus text format: request counts and latency by route template, the
served index version, index build durations."""

import uuid

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.api.main import create_app
from tests.conftest import reindex_and_wait

TOKEN = "metrics-test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STATUTE_ROUTE = "/v1/statutes/{law}/{article_no}"


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, keyed by name and labels; the text must parse."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_method_and_status(client):
    before = scrape(client)
    for law, article in (("民法典", 584), ("消法", 55), ("合同法", 113)):
        assert client.get(f"/v1/statutes/{law}/{article}").status_code == 200
    assert client.get("/v1/statutes/民法典/99999").status_code == 404
    assert client.post("/v1/search", json={"query": "宽带断了"}).status_code == 200
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("huashu_http_requests_total", route=STATUTE_ROUTE, method="GET", status="200") == 3
    assert delta("huashu_http_requests_total", route=STATUTE_ROUTE, method="GET", status="404") == 1
    assert delta("huashu_http_requests_total", route="/v1/search", method="POST", status="200") == 1
    assert delta("huashu_http_request_duration_seconds_count", route=STATUTE_ROUTE, method="GET") == 4
    assert delta("huashu_http_request_duration_seconds_count", route="/v1/search", method="POST") == 1
    assert delta("huashu_http_request_duration_seconds_sum", route="/v1/search", method="POST") > 0
    # Raw paths never become labels.
    routes = {dict(labels).get("route") for _, labels in after} - {None}
    assert not any("民法典" in route or "合同法" in route for route in routes)


def test_unknown_paths_and_methods_share_one_label_each(client):
    before = scrape(client)
    paths = [f"/probe/{uuid.uuid4().hex}" for _ in range(3)]
    for path in paths:
        assert client.get(path).status_code == 404
    assert client.request("BREW", "/healthz").status_code == 405
    response = client.get("/metrics")
    after = scrape(client)
    assert not any(path in response.text for path in paths)
    unmatched = value(after, "huashu_http_requests_total", route="<unmatched>", method="GET", status="404")
    assert unmatched - value(before, "huashu_http_requests_total", route="<unmatched>", method="GET", status="404") == 3
    assert value(after, "huashu_http_requests_total", route="/healthz", method="other", status="405") >= 1


def test_requests_refused_before_routing_and_static_files_are_counted_under_their_route(client):
    before = scrape(client)
    too_large = client.post("/v1/search", content=b"x", headers={"Content-Length": str(2 * 1024 * 1024)})
    assert too_large.status_code == 413
    assert client.get("/static/app.js").status_code == 200
    after = scrape(client)
    for labels in ({"route": "/v1/search", "method": "POST", "status": "413"},
                   {"route": "/static/{path}", "method": "GET", "status": "200"}):
        counted = value(after, "huashu_http_requests_total", **labels) - value(before, "huashu_http_requests_total", **labels)
        assert counted == 1, labels


def test_the_served_index_version_and_its_documents(client, index_version, engine):
    samples = scrape(client)
    model = engine.index.manifest["model"]["id"]
    assert value(samples, "huashu_index_info", version=index_version, model=model) == 1
    versions = [dict(labels)["version"] for name, labels in samples if name == "huashu_index_info"]
    assert versions == [index_version]  # only the one being served
    for collection, count in engine.index.manifest["counts"].items():
        assert value(samples, "huashu_index_documents", collection=collection) == count


def test_metrics_can_be_switched_off(settings, engine):
    with TestClient(create_app(settings.model_copy(update={"metrics_enabled": False}), engine)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/healthz").status_code == 200


@pytest.fixture
def admin_client(tmp_path, settings, engine, index_copy):
    own = settings.model_copy(update={"index_dir": index_copy, "data_dir": tmp_path / "data", "admin_token": TOKEN})
    with TestClient(create_app(own, engine)) as client:
        yield client


def test_a_rebuild_records_its_duration_and_the_new_version(admin_client, index_version):
    build = {"kind": "reindex", "outcome": "succeeded"}
    before = value(scrape(admin_client), "huashu_index_build_duration_seconds_count", **build)
    course = "新增课程：客户要求赔偿时，先倾听、安抚，再说明我们能做的补救措施。".encode()
    upload = admin_client.post(
        "/v1/admin/documents", files={"file": ("新课程.txt", course)}, data={"kind": "course"}, headers=AUTH
    )
    assert upload.status_code == 201, upload.text  # something new to build
    job = reindex_and_wait(admin_client, AUTH)
    assert job["state"] == "succeeded", job

    samples = scrape(admin_client)
    assert value(samples, "huashu_index_build_duration_seconds_count", **build) == before + 1
    assert value(samples, "huashu_index_build_duration_seconds_sum", **build) > 0
    versions = [dict(labels)["version"] for name, labels in samples if name == "huashu_index_info"]
    assert versions == [job["version"]] and job["version"] != index_version
