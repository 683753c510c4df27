"""Request ids, CORS, security headers, the admin token kept out of responses and logs, and the
service's JSON log checked on a real server."""

import io
import json
import logging
import re
import secrets
import time
from html.parser import HTMLParser

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.admin.jobs import JobRunner
from app.api.main import create_app
from app.api.routes.page import STATIC_DIR
from app.core.config import Settings
from app.core.logging import JsonFormatter, RequestIdFilter, TextFormatter, request_id_var
from app.index.build import Built
from app.store.database import sqlite_database
from tests.conftest import running_server

TOKEN = "security-test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BOT_ORIGIN = "https://bot.example.com"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def admin_client(tmp_path, settings, engine, index_copy):
    own = settings.model_copy(
        update={"index_dir": index_copy, "data_dir": tmp_path / "data", "admin_token": TOKEN, "max_upload_bytes": 64 * 1024}
    )
    with TestClient(create_app(own, engine)) as client:
        yield client


@pytest.fixture
def captured_log():
    """The service's log handler (request id filter, JSON formatter) on the huashu loggers."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("huashu")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


# Request ids


def test_a_sane_request_id_comes_back_and_a_missing_one_is_generated(client):
    sent = "chatbot-7f3a.42:retry_1"
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(first) and GENERATED_ID.fullmatch(second) and first != second


@pytest.mark.parametrize("bad", ["", "has space", "<script>", "a" * 129, "id;rm -rf", "ünïcode".encode(), "x\ty"])
def test_an_unsafe_request_id_is_replaced(client, bad):
    answered = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
    assert GENERATED_ID.fullmatch(answered)


def error_responses(client) -> dict[str, httpx.Response]:
    oversized = b'{"query": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    return {
        "404 unknown path": client.get("/no/such/path"),
        "404 unknown article": client.get("/v1/statutes/民法典/99999"),
        "405 wrong method": client.delete("/v1/search"),
        "422 bad input": client.post("/v1/search", json={"query": "   "}),
        "413 body too large": client.post("/v1/search", content=oversized, headers={"Content-Type": "application/json"}),
        "401 no token": client.get("/v1/admin/documents"),
    }


def test_errors_carry_the_request_id_and_the_security_headers(admin_client):
    for name, response in error_responses(admin_client).items():
        assert int(name[:3]) == response.status_code, name
        assert GENERATED_ID.fullmatch(response.headers.get("X-Request-ID", "")), name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["X-Frame-Options"] == "DENY", name
    oversized = admin_client.post("/v1/search", content=b"x" * (2 * 1024 * 1024), headers={"X-Request-ID": "trace-413"})
    assert oversized.status_code == 413 and oversized.headers["X-Request-ID"] == "trace-413"


def test_an_unhandled_error_is_a_500_with_the_request_id_and_a_logged_traceback(settings, engine, captured_log):
    app = create_app(settings, engine)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)  # a route with a bug, to see what a bug looks like from outside
    with TestClient(app) as client:
        response = client.get("/broken", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "bug-1" and "bug-1" in response.json()["detail"]
    assert "a bug" not in response.text  # internals stay in the log
    error = next(e for e in captured_log() if e["level"] == "ERROR")
    assert error["request_id"] == "bug-1" and "RuntimeError: a bug" in error["exception"]
    access = next(e for e in captured_log() if e["logger"] == "huashu.access")
    assert access["status"] == 500 and access["route"] == "/broken"


def test_log_lines_written_while_handling_a_request_carry_its_id(admin_client, captured_log):
    uploaded = admin_client.post(
        "/v1/admin/documents", files={"file": ("技巧.txt", "客户情绪激动时先倾听，再安抚。".encode())},
        data={"kind": "course"}, headers={**AUTH, "X-Request-ID": "upload-1"},
    )
    assert uploaded.status_code == 201
    lines = captured_log()
    audit = next(e for e in lines if e["logger"] == "huashu.audit")  # written in the thread pool
    assert audit["request_id"] == "upload-1" and "uploaded course document" in audit["message"]
    access = next(e for e in lines if e["logger"] == "huashu.access")
    assert access | {"time": None} == {
        "time": None, "level": "INFO", "logger": "huashu.access", "request_id": "upload-1",
        "message": access["message"], "method": "POST", "path": "/v1/admin/documents",
        "route": "/v1/admin/documents", "status": 201, "duration_ms": access["duration_ms"], "client": "testclient",
    }


def test_a_background_job_logs_with_the_id_of_the_request_that_started_it(captured_log, tmp_path):
    def work(progress) -> Built:
        logging.getLogger("huashu.index").info("built")
        return Built("v9", new=True)

    runner = JobRunner(sqlite_database(tmp_path / "edits.sqlite3", "admin"))
    context = request_id_var.set("reindex-req-9")  # as while handling POST /v1/admin/reindex
    try:
        job = runner.start("reindex", work)
    finally:
        request_id_var.reset(context)
    deadline = time.monotonic() + 10
    while runner.get(job.id).state != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [e for e in captured_log() if e["logger"] in ("huashu.index", "huashu.jobs")]
    assert [e["message"] for e in lines][:2] == [f"job {job.id} (reindex) started", "built"]
    assert {e["request_id"] for e in lines} == {"reindex-req-9"}


def test_a_line_break_in_a_path_cannot_forge_a_log_line(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(TextFormatter())
    logger = logging.getLogger("huashu.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        assert client.get("/x%0D%0A2026-01-01 INFO huashu.audit [-] admin:0 deleted everything").status_code == 404
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "\\r\\n2026-01-01" in lines[0]


# CORS


def test_cors_is_closed_by_default(client):
    simple = client.get("/v1/scenarios", headers={"Origin": BOT_ORIGIN})
    assert simple.status_code == 200
    assert not any(name.lower().startswith("access-control-") for name in simple.headers)
    preflight = client.options(
        "/v1/search", headers={"Origin": BOT_ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert not any(name.lower().startswith("access-control-") for name in preflight.headers)


@pytest.fixture
def cors_client(settings, engine, monkeypatch):
    monkeypatch.setenv("HUASHU_CORS_ORIGINS", f"{BOT_ORIGIN}, http://localhost:3000")
    own = Settings(corpus_dir=settings.corpus_dir, index_dir=settings.index_dir, data_dir=settings.data_dir)
    assert own.cors_origins == [BOT_ORIGIN, "http://localhost:3000"]
    with TestClient(create_app(own, engine)) as client:
        yield client


def test_cors_opens_to_the_configured_origins_only(cors_client):
    allowed = cors_client.post("/v1/search", json={"query": "宽带断了"}, headers={"Origin": BOT_ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == BOT_ORIGIN
    assert "x-request-id" in allowed.headers["Access-Control-Expose-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in allowed.headers

    preflight = cors_client.options("/v1/search", headers={
        "Origin": BOT_ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type",
    })
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == BOT_ORIGIN
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert GENERATED_ID.fullmatch(preflight.headers["X-Request-ID"])

    other = cors_client.post("/v1/search", json={"query": "宽带断了"}, headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    other_preflight = cors_client.options(
        "/v1/search", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert other_preflight.status_code == 400 and "Access-Control-Allow-Origin" not in other_preflight.headers


def test_cors_never_lets_a_browser_send_the_admin_token(cors_client):
    preflight = cors_client.options("/v1/admin/reindex", headers={
        "Origin": BOT_ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization",
    })
    # A browser sends the real request only after a 2xx preflight that allows the header.
    assert preflight.status_code == 400
    assert "authorization" not in preflight.headers.get("Access-Control-Allow-Headers", "").lower()


@pytest.mark.parametrize("origins", ["*", "https://bot.example.com/", "bot.example.com", '["https://*.example.com"]'])
def test_cors_origins_must_be_exact(origins, monkeypatch):
    monkeypatch.setenv("HUASHU_CORS_ORIGINS", origins)
    with pytest.raises(ValidationError, match="scheme://host"):
        Settings()


# Security headers and the page


def test_every_kind_of_response_has_the_security_headers(client):
    for path in ("/", "/static/app.js", "/healthz", "/v1/scenarios", "/metrics", "/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path


@pytest.mark.parametrize("path", ["/", "/admin"])
def test_the_page_has_a_strict_content_security_policy(client, path):
    page = client.get(path)
    policy = page.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"  # no inline code, nothing from other origins
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["X-Frame-Options"] == "DENY"  # no other site may frame it


class InlineCode(HTMLParser):
    """Finds what `default-src 'self'` would block: inline scripts, style elements and attributes,
    event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "style" or "style" in names or any(name.startswith("on") for name in names):
            self.found.append(f"<{tag} {sorted(names)}>")
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.found.append("<script> without src")

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append("inline script text")


def test_the_page_has_no_inline_script_or_style():
    for html in ("index.html", "admin.html"):
        parser = InlineCode()
        parser.feed((STATIC_DIR / html).read_text(encoding="utf-8"))
        assert parser.found == [], html
    scripts = sorted(STATIC_DIR.rglob("*.js"))
    assert {STATIC_DIR / "app.js", STATIC_DIR / "admin" / "main.js"} <= set(scripts)
    for path in scripts:
        script = path.read_text(encoding="utf-8")
        assert "innerHTML" not in script and "eval(" not in script and '"style"' not in script, path.name


# The admin token


def test_the_admin_token_is_never_echoed(admin_client):
    too_big = b"x" * (64 * 1024 + 1)
    responses = [
        admin_client.get("/v1/admin/documents", headers=AUTH),
        admin_client.get("/v1/admin/documents", headers={"Authorization": f"Bearer {TOKEN}x"}),
        admin_client.get("/v1/admin/documents", headers={"Authorization": f"Basic {TOKEN}"}),
        admin_client.get("/v1/admin/documents", headers={"Authorization": TOKEN}),
        admin_client.get(f"/v1/admin/documents?token={TOKEN}"),
        admin_client.get("/v1/admin/jobs/nope", headers=AUTH),
        admin_client.delete("/v1/admin/documents/nope", headers=AUTH),
        admin_client.post("/v1/admin/documents", headers=AUTH, data={"kind": "course"}),  # 422: no file
        admin_client.post("/v1/admin/documents", headers=AUTH, files={"file": ("a.exe", b"MZ")}, data={"kind": "course"}),
        admin_client.post("/v1/admin/documents", headers=AUTH, files={"file": ("a.txt", too_big)}, data={"kind": "course"}),
        admin_client.post("/v1/admin/rollback", headers=AUTH, json={"version": 12}),
        admin_client.get("/v1/admin/nope", headers=AUTH),
        admin_client.post("/v1/search", headers=AUTH, json={"query": ""}),
    ]
    assert {r.status_code for r in responses} >= {200, 401, 404, 413, 415, 422}
    for response in responses:
        assert TOKEN not in response.text, response.request.url
        assert not any(TOKEN in value for value in response.headers.values()), response.request.url


# The real service's log


def test_the_real_server_logs_json_lines_with_request_ids_and_never_the_token(index_copy, tmp_path):
    token = secrets.token_urlsafe(24)
    auth = {"Authorization": f"Bearer {token}"}
    ids = {}
    with running_server(index_copy, tmp_path, ADMIN_TOKEN=token) as base:
        with httpx.Client(base_url=base, timeout=60) as http:
            listed = http.get("/v1/admin/documents", headers=auth)
            wrong = http.get("/v1/admin/documents", headers={"Authorization": f"Bearer {token[:-1]}"})
            uploaded = http.post(
                "/v1/admin/documents", headers=auth, data={"kind": "course"},
                files={"file": ("话术.txt", "客户要求赔偿时，先共情，再说明规定。".encode())},
            )
            queried = http.get(f"/v1/scenarios?admin_token={token}")
            bad = http.post("/v1/search", headers=auth, json={"query": "   "})
            searched = http.post("/v1/search", json={"query": "宽带断了三天要赔偿"}, headers={"X-Request-ID": "agent-42"})
        for name, response in [("listed", listed), ("wrong", wrong), ("uploaded", uploaded), ("queried", queried),
                               ("bad", bad), ("searched", searched)]:
            ids[name] = response.headers["X-Request-ID"]
        assert (listed.status_code, wrong.status_code, uploaded.status_code) == (200, 401, 201)
        assert (queried.status_code, bad.status_code, searched.status_code) == (200, 422, 200)
    log_text = next(tmp_path.glob("server-*.log")).read_text(encoding="utf-8")

    assert token not in log_text
    assert "bearer" not in log_text.lower() and "authorization" not in log_text.lower()
    entries = [json.loads(line) for line in log_text.splitlines() if line.strip()]  # every line is JSON
    for entry in entries:
        assert {"time", "level", "logger", "message", "request_id"} <= entry.keys(), entry
    access = {e["request_id"]: e for e in entries if e["logger"] == "huashu.access"}
    assert set(ids.values()) <= access.keys()
    assert ids["searched"] == "agent-42"
    assert access["agent-42"]["route"] == "/v1/search" and access["agent-42"]["status"] == 200
    assert access[ids["wrong"]]["status"] == 401
    assert access[ids["queried"]]["path"] == "/v1/scenarios"  # no query string
    audit = [e for e in entries if e["logger"] == "huashu.audit"]
    assert [e["request_id"] for e in audit] == [ids["uploaded"]]
    # Outside requests (start-up, shutdown) the request id is null, never a stale one.
    assert any(e["logger"].startswith("uvicorn") and e["request_id"] is None for e in entries)
