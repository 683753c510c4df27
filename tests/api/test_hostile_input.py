"""Hostile input the generators of the contract tests do not make: odd characters by the
thousand, broken encodings, absurd nesting, oversized bodies, wrong content types. Each gets a
clear 4xx or a valid 200, never a 500 or a hang, and the service keeps answering searches."""

import json
import socket
from itertools import cycle, islice

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app

QUERY = "客户说流量被偷了，要求双倍返还"
JSON = {"content-type": "application/json"}
MB = 1024 * 1024
HOSTILE_BODY_BYTES = 50 * MB
CHUNK = 64 * 1024
DEEP = 100_000  # far past Python's recursion limit

CONTROLS = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
DIRECTION_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
ISOLATES = "\u2066\u2067\u2068\u2069\u061c"


def repeat_to(characters, length: int = 1000) -> str:
    return "".join(islice(cycle(characters), length))


def post_json_text(client, text: str, path: str = "/v1/search"):
    """Post JSON written by hand: it may say what no JSON encoder would (repeated keys, escapes)."""
    return client.post(path, content=text.encode(), headers=JSON)


def search_body(query: str, **fields) -> str:
    # ensure_ascii writes every non-ASCII character as an escape: a lone surrogate becomes "\ud800".
    return json.dumps({"query": query, **fields}, ensure_ascii=True)


def assert_clear_4xx(response, status: int, message: str = "") -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail and message in detail


@pytest.fixture(autouse=True)
def still_answers_a_normal_search(client):
    """After every hostile request, the service answers a normal search as usual."""
    yield
    response = client.post("/v1/search", json={"query": QUERY})
    assert response.status_code == 200 and response.json()["scripts"]


@pytest.fixture
def admin_client(tmp_path, settings, engine, index_copy):
    own = settings.model_copy(update={"index_dir": index_copy, "data_dir": tmp_path / "data", "admin_token": "hostile"})
    with TestClient(create_app(own, engine), headers={"Authorization": "Bearer hostile"}) as client:
        yield client


# -- 1000-character queries ----------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [repeat_to("😡🤬📱💸"), repeat_to("👨\u200d👩\u200d👧\u200d👦"), repeat_to("流量被偷😡")],
    ids=["emoji", "emoji-joined-by-zero-width-joiners", "emoji-and-text"],
)
def test_a_query_of_1000_emoji_is_searched_and_echoed_intact(client, query):
    response = post_json_text(client, search_body(query))
    assert response.status_code == 200
    assert response.json()["query"] == query


@pytest.mark.parametrize(
    "query, message",
    [
        (repeat_to(CONTROLS), "no visible characters"),
        (repeat_to(ZERO_WIDTH + DIRECTION_MARKS + ISOLATES), "no visible characters"),
        ("\x00" * 1000, "no visible characters"),
        ("\ud800" * 500 + "\udfff" * 500, "lone surrogate"),
        ("流量\ud83d被偷了", "lone surrogate"),
        ("\ufdfa" * 1000, "18000 characters once normalised"),
    ],
    ids=["control-characters", "zero-width-and-direction-marks", "nul", "lone-surrogates", "half-a-pair", "expanding"],
)
def test_a_query_that_is_no_text_is_a_readable_422(client, query, message):
    assert_clear_4xx(post_json_text(client, search_body(query)), 422, message)


@pytest.mark.parametrize(
    "marks",
    [
        ZERO_WIDTH,
        DIRECTION_MARKS,
        ISOLATES,
    ],
    ids=["zero-width", "direction-marks-and-overrides", "isolates"],
)
def test_invisible_marks_inside_a_complaint_do_not_change_the_answer(client, marks):
    clean = client.post("/v1/search", json={"query": QUERY}).json()
    marked = "".join(ch + marks[i % len(marks)] for i, ch in enumerate(QUERY))
    response = client.post("/v1/search", json={"query": marked})
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["scripts"]] == [s["id"] for s in clean["scripts"]]


def test_control_characters_and_nul_inside_a_complaint_are_searched(client):
    query = "客户说\x00流量\x07被偷了\x1b，要求\x7f双倍\x85返还"
    response = post_json_text(client, search_body(query))
    assert response.status_code == 200 and response.json()["scripts"]


def test_a_surrogate_pair_written_as_escapes_is_one_character(client):
    response = post_json_text(client, '{"query": "\\ud83d\\ude21 ' + QUERY + '"}')
    assert response.status_code == 200
    assert response.json()["query"] == "😡 " + QUERY


def test_lone_surrogates_in_other_fields_are_422(client, engine):
    assert_clear_4xx(post_json_text(client, search_body(QUERY, scenarios=["\udc00"])), 422, "scenarios.0")
    script_id = engine.index.collections["scripts"].records[0].id
    feedback = {"query": QUERY, "script_id": script_id + "\ud800", "signal": "up", "index_version": "v"}
    assert_clear_4xx(post_json_text(client, json.dumps(feedback), "/v1/feedback"), 422, "script_id")
    valid = {**feedback, "query": repeat_to("😡🤬"), "script_id": script_id}
    assert post_json_text(client, json.dumps(valid), "/v1/feedback").status_code == 202


# -- bytes that are not UTF-8 JSON ---------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b'{"query": "\xff\xfe\xc3\x28"}', '{"query": "café"}'.encode("latin-1"), b'{"query": "\xc0\xaf"}'],
    ids=["invalid-bytes", "latin-1", "overlong"],
)
def test_a_body_that_is_not_utf8_is_a_400(client, body):
    assert_clear_4xx(client.post("/v1/search", content=body, headers=JSON), 400)


def test_a_surrogate_encoded_as_bytes_is_a_422(client):
    # Python's JSON reader lets the UTF-8 form of a surrogate through; validation stops it.
    response = client.post("/v1/search", content=b'{"query": "\xed\xa0\x80"}', headers=JSON)
    assert_clear_4xx(response, 422, "lone surrogate")


# -- structure -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * DEEP + "]" * DEEP,
        '{"query": ' + "[" * DEEP + "]" * DEEP + "}",
        '{"query": "宽带", "scenarios": ' + "[" * DEEP + "]" * DEEP + "}",
        '{"query": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}",
    ],
    ids=["array", "in-query", "in-scenarios", "objects"],
)
def test_deeply_nested_json_is_a_400(client, body):
    assert_clear_4xx(post_json_text(client, body), 400)


def test_moderately_nested_json_is_a_readable_422(client):
    body = '{"query": "宽带", "scenarios": ' + "[" * 500 + "]" * 500 + "}"
    assert_clear_4xx(post_json_text(client, body), 422, "scenarios")


def test_deeply_nested_json_to_the_admin_api_is_refused(admin_client):
    assert_clear_4xx(admin_client.post("/v1/admin/rollback", content=("[" * DEEP).encode(), headers=JSON), 400)
    upload = {"file": ("deep.jsonl", ("[" * DEEP).encode())}
    for kind in ("script", "statute"):
        response = admin_client.post("/v1/admin/documents", files=upload, data={"kind": kind})
        assert_clear_4xx(response, 422, "nested too deeply")
    assert admin_client.get("/v1/admin/documents").json() == []


def test_repeated_keys_the_last_one_counts(client):
    response = post_json_text(client, '{"query": "宽带", "top_k": 1, "query": "' + QUERY + '", "top_k": 3}')
    assert response.status_code == 200
    assert response.json()["query"] == QUERY and len(response.json()["scripts"]) == 3


def test_an_empty_body_is_a_readable_422(client):
    assert_clear_4xx(client.post("/v1/search", content=b"", headers=JSON), 422, "the request body is required")


@pytest.mark.parametrize("body", ["null", "[]", "5", '"query"', "true"])
def test_a_body_that_is_not_an_object_is_a_422(client, body):
    assert_clear_4xx(post_json_text(client, body), 422)


def test_too_many_or_too_long_scenario_ids_are_422(client):
    assert_clear_4xx(post_json_text(client, search_body(QUERY, scenarios=["x"] * 50_000)), 422, "scenarios")
    assert_clear_4xx(post_json_text(client, search_body(QUERY, scenarios=["x" * 100_000])), 422, "scenarios.0")


def test_unknown_scenario_ids_are_named_once_and_briefly(client):
    response = post_json_text(client, search_body(QUERY, scenarios=[f"nope-{i % 7}" for i in range(90)]))
    assert_clear_4xx(response, 422, "unknown scenario id(s): nope-0, nope-1, nope-2, nope-3, nope-4 and 2 more")


# -- methods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("OPTIONS", "/v1/admin/documents", "GET, POST"),
        ("PUT", "/v1/admin/documents", "GET, POST"),
        ("PATCH", "/v1/admin/documents/abc", "DELETE"),
        ("OPTIONS", "/v1/search", "POST"),
        ("DELETE", "/v1/statutes/消法/55", "GET"),
        ("TRACE", "/healthz", "GET"),
    ],
)
def test_a_method_a_path_does_not_take_is_a_405_naming_every_one_it_does(admin_client, method, path, allowed):
    response = admin_client.request(method, path)
    assert_clear_4xx(response, 405, f"method {method} is not allowed here; allowed: {allowed}")
    assert response.headers["allow"] == allowed


# -- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "top_k", ["0", "-1", "51", "2.5", "1e308", "99" * 100, "NaN", "Infinity", "-Infinity", "null", '"five"', "[]", "{}"]
)
def test_a_top_k_out_of_range_or_not_an_integer_is_a_422(client, top_k):
    assert_clear_4xx(post_json_text(client, f'{{"query": "{QUERY}", "top_k": {top_k}}}'), 422, "top_k")


def test_a_number_of_thousands_of_digits_is_a_400(client):
    # Python refuses to read integers of more than 4300 digits (quadratic to convert).
    assert_clear_4xx(post_json_text(client, f'{{"query": "{QUERY}", "top_k": {"9" * 5000}}}'), 400)


# -- content types, query strings, paths ---------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
def test_a_json_body_sent_as_another_content_type_is_a_422(client, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/v1/search", content=search_body(QUERY).encode(), headers=headers)
    assert_clear_4xx(response, 422, "Content-Type: application/json")


def test_an_upload_sent_as_json_is_told_to_use_multipart(admin_client):
    response = admin_client.post("/v1/admin/documents", json={"kind": "course", "file": "内容"})
    assert_clear_4xx(response, 422, "Content-Type: multipart/form-data")


def test_a_multipart_upload_without_a_boundary_is_a_400(admin_client):
    response = admin_client.post("/v1/admin/documents", content=b"abc", headers={"content-type": "multipart/form-data"})
    assert_clear_4xx(response, 400)


def test_bad_query_string_values_are_ignored(client):
    response = client.post("/v1/search?top_k=abc&query=%00&%FF=%FE%ED%A0%80", json={"query": QUERY, "top_k": 2})
    assert response.status_code == 200 and len(response.json()["scripts"]) == 2
    assert client.get("/v1/scenarios?x=%00&y=" + "%FF" * 1000).status_code == 200


@pytest.mark.parametrize("article_no", ["abc", "0", "-1", "1e3", "５５", "100001", "9" * 5000, "%00", "55%ED%A0%80"])
def test_a_bad_article_number_is_a_422(client, article_no):
    assert_clear_4xx(client.get(f"/v1/statutes/消法/{article_no}"), 422, "article_no")


@pytest.mark.parametrize(
    "law", ["%00", "%ED%A0%80", "%FF%FE", "流" * 5000, "%E2%80%AE%E2%80%8B", "..%2F..%2Fetc%2Fpasswd"]
)
def test_a_bad_law_name_is_a_404(client, law):
    assert_clear_4xx(client.get(f"/v1/statutes/{law}/55"), 404)


# -- body size -----------------------------------------------------------------------------


def test_a_json_body_over_the_limit_is_413(client):
    response = client.post("/v1/search", content=search_body("流" * (2 * MB)).encode(), headers=JSON)
    assert_clear_4xx(response, 413, "larger than 1 MB")


def raw_request(base: str, head: str) -> tuple[int, dict]:
    """Send only a request's head on a socket of its own; the status and JSON body of the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head.encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head_part, _, body = answer.partition(b"\r\n\r\n")
    return int(head_part.split()[1]), json.loads(body)


class CountingBody:
    """A streamed request body (chunked: no Content-Length) that counts what was taken from it."""

    def __init__(self, prefix: bytes, size: int = HOSTILE_BODY_BYTES):
        self.prefix, self.size, self.sent = prefix, size, 0

    def __iter__(self):
        yield self.prefix
        while self.sent < self.size:
            self.sent += CHUNK
            yield b"a" * CHUNK


def test_a_declared_50_mb_body_is_refused_before_a_byte_of_it_is_sent(server):
    head = (
        "POST /v1/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {HOSTILE_BODY_BYTES}\r\n\r\n"
    )
    status, body = raw_request(server, head)
    assert status == 413 and "larger than 1 MB" in body["detail"]
    assert httpx.post(f"{server}/v1/search", json={"query": QUERY}, timeout=60).status_code == 200


def test_a_50_mb_json_body_streamed_without_a_length_is_cut_off_with_413(server):
    body = CountingBody(b'{"query": "')
    response = httpx.post(f"{server}/v1/search", content=body, headers=JSON, timeout=60)
    assert_clear_4xx(response, 413, "larger than 1 MB")
    assert body.sent < HOSTILE_BODY_BYTES  # the server stopped reading long before the end
    assert httpx.post(f"{server}/v1/search", json={"query": QUERY}, timeout=60).status_code == 200


def test_a_chunked_upload_past_the_limit_is_413_and_not_stored(server, admin_token):
    auth = {"Authorization": f"Bearer {admin_token}"}
    form_start = (
        b'--B\r\nContent-Disposition: form-data; name="kind"\r\n\r\ncourse\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="huge.txt"\r\nContent-Type: text/plain\r\n\r\n'
    )
    body = CountingBody(form_start)
    headers = {"content-type": "multipart/form-data; boundary=B", **auth}
    response = httpx.post(f"{server}/v1/admin/documents", content=body, headers=headers, timeout=60)
    assert_clear_4xx(response, 413, "larger than 20 MB")
    assert body.sent < HOSTILE_BODY_BYTES
    stored = httpx.get(f"{server}/v1/admin/documents", headers=auth, timeout=60).json()
    assert "huge.txt" not in [d["filename"] for d in stored]
    assert httpx.post(f"{server}/v1/search", json={"query": QUERY}, timeout=60).status_code == 200
