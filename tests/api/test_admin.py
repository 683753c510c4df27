import json
import logging
import threading
import time

import pytest
from fastapi.testclient import TestClient

from app.admin.documents import safe_filename
from app.admin.jobs import Busy, JobRunner
from app.api.main import create_app
from tests.conftest import reindex_and_wait

TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEW_SCRIPT = {
    "id": "number-flagged/upload-check",
    "title": "号码被标记：上传测试话术",
    "scenarios": ["number-flagged"],
    "technique": "共情 + 解释",
    "situation": "客户说他的号码被手机管家标成了外卖快递骚扰电话，别人都不接",
    "text": "非常理解您着急的心情，号码标记是第三方软件根据用户举报做的，我们帮您提交申诉。",
    "citations": [],
    "channels": ["phone", "counter", "online"],
    "source": {"document": None, "section": None, "origin": "authored"},
}
NEW_LAW = {  # a law the corpus does not have
    "law": "上传测试管理办法",
    "short": "上传办法",
    "level": "部门规章",
    "article": "第一条",
    "article_no": 1,
    "text": "电信业务经营者应当在受理用户申诉后十五日内答复。",
}


@pytest.fixture
def admin_client(tmp_path, settings, engine, index_copy):
    """An app with its own index directory (a copy of the session's version), data directory
    and admin token, sharing the session's loaded model."""
    own = settings.model_copy(
        update={"index_dir": index_copy, "data_dir": tmp_path / "data", "admin_token": TOKEN, "max_upload_bytes": 64 * 1024}
    )
    with TestClient(create_app(own, engine)) as client:
        yield client


def upload(client, name, content: bytes, kind="course", headers=AUTH, **fields):
    data = {"kind": kind, **fields}
    return client.post("/v1/admin/documents", files={"file": (name, content)}, data=data, headers=headers)


def jsonl(*records) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def stored(client) -> list[str]:
    return [d["filename"] for d in client.get("/v1/admin/documents", headers=AUTH).json()]


def test_admin_paths_need_the_token(admin_client, client):
    assert admin_client.get("/v1/admin/documents").status_code == 401
    assert admin_client.get("/v1/admin/documents", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert admin_client.get("/v1/admin/documents", headers=AUTH).status_code == 200
    # No token configured: disabled, never open.
    assert client.get("/v1/admin/documents", headers=AUTH).status_code == 403
    assert client.post("/v1/search", json={"query": "宽带断了"}).status_code == 200


def test_upload_list_deduplicate_delete(admin_client):
    text = "投诉处理技巧\n客户情绪激动时先倾听，再询问，然后安抚，最后确认问题。".encode()
    first = upload(admin_client, "技巧.txt", text)
    assert first.status_code == 201
    document = first.json()["document"]
    assert document["kind"] == "course" and document["size"] == len(text) and len(document["sha256"]) == 64
    again = upload(admin_client, "copy.txt", text)
    assert again.status_code == 200 and again.json() == {"document": document, "created": False, "replaces": []}
    assert [d["id"] for d in admin_client.get("/v1/admin/documents", headers=AUTH).json()] == [document["id"]]
    assert admin_client.delete(f"/v1/admin/documents/{document['id']}", headers=AUTH).status_code == 204
    assert admin_client.delete(f"/v1/admin/documents/{document['id']}", headers=AUTH).status_code == 404
    assert admin_client.get("/v1/admin/documents", headers=AUTH).json() == []


@pytest.mark.parametrize(
    "name, content, kind, status, message",
    [
        ("virus.exe", b"MZ...", "course", 415, "unsupported file type"),
        ("fake.pdf", b"hello", "course", 422, "not a PDF"),
        ("fake.docx", b"hello", "course", 422, "not a .docx"),
        ("binary.txt", b"ab\x00cd", "course", 422, "binary"),
        ("empty.txt", b"   \n", "course", 422, "no text"),
        ("scripts.txt", b"{}", "script", 422, "as .jsonl"),
        ("bad.jsonl", json.dumps({**NEW_SCRIPT, "scenarios": ["nope"]}).encode(), "script", 422, "bad.jsonl line 1"),
        ("bad.jsonl", b"{not json", "statute", 422, "bad.jsonl line 1: not valid JSON"),
        ("x.txt", "内容".encode(), "other", 422, "kind"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(admin_client, name, content, kind, status, message):
    response = upload(admin_client, name, content, kind=kind)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert admin_client.get("/v1/admin/documents", headers=AUTH).json() == []


def test_a_script_id_twice_in_one_upload_is_refused_and_later_work_goes_on(admin_client):
    twice = jsonl(NEW_SCRIPT, {**NEW_SCRIPT, "title": "号码被标记：同一个 id 的第二条"})
    refused = upload(admin_client, "twice.jsonl", twice, kind="script")
    assert refused.status_code == 422
    assert "twice.jsonl" in refused.json()["detail"] and NEW_SCRIPT["id"] in refused.json()["detail"]
    assert stored(admin_client) == []
    # Nothing of it was kept: an unrelated upload and the next build go through.
    other = {**NEW_SCRIPT, "id": "number-flagged/upload-other"}
    assert upload(admin_client, "other.jsonl", jsonl(other), kind="script").status_code == 201
    assert reindex_and_wait(admin_client, AUTH)["state"] == "succeeded"


def test_a_statute_an_uploaded_script_cites_cannot_be_deleted(admin_client):
    statute = upload(admin_client, "办法.jsonl", jsonl(NEW_LAW), kind="statute")
    assert statute.status_code == 201, statute.json()
    citing = {**NEW_SCRIPT, "citations": [{"law": NEW_LAW["short"], "article_no": 1}]}
    script = upload(admin_client, "cites.jsonl", jsonl(citing), kind="script")
    assert script.status_code == 201, script.json()

    statute_id = statute.json()["document"]["id"]
    refused = admin_client.delete(f"/v1/admin/documents/{statute_id}", headers=AUTH)
    assert refused.status_code == 409
    assert "cites.jsonl" in refused.json()["detail"] and NEW_SCRIPT["id"] in refused.json()["detail"]
    assert sorted(stored(admin_client)) == ["cites.jsonl", "办法.jsonl"]

    script_id = script.json()["document"]["id"]
    assert admin_client.delete(f"/v1/admin/documents/{script_id}", headers=AUTH).status_code == 204
    assert admin_client.delete(f"/v1/admin/documents/{statute_id}", headers=AUTH).status_code == 204


def test_a_bad_document_stored_by_an_earlier_version_can_still_be_deleted(admin_client):
    # Stored without the checks, as before they existed: the build refuses it.
    text = jsonl(NEW_SCRIPT, NEW_SCRIPT).decode()
    bad, _ = admin_client.app.state.documents.add("twice.jsonl", "script", text.encode(), text)
    other = jsonl({**NEW_SCRIPT, "id": "number-flagged/other"})
    refused = upload(admin_client, "other.jsonl", other, kind="script")
    assert refused.status_code == 422 and "twice.jsonl" in refused.json()["detail"]
    assert admin_client.delete(f"/v1/admin/documents/{bad.id}", headers=AUTH).status_code == 204
    assert upload(admin_client, "other.jsonl", other, kind="script").status_code == 201


@pytest.mark.parametrize("law", ["中华人民共和国消费者权益保护法", "消费者权益保护法"])
def test_an_official_article_is_replaced_only_with_the_replace_flag(admin_client, caplog, law):
    official = admin_client.get("/v1/statutes/消法/55").json()
    amended = {"law": law, "short": "消法", "article": "第五十五条", "article_no": 55, "text": "经营者有欺诈行为的，修订后的条文。"}

    refused = upload(admin_client, "消法55.jsonl", jsonl(amended), kind="statute")
    assert refused.status_code == 409
    assert "中华人民共和国消费者权益保护法 第五十五条" in refused.json()["detail"] and "replace" in refused.json()["detail"]
    assert stored(admin_client) == []

    with caplog.at_level(logging.INFO, logger="huashu.audit"):
        accepted = upload(admin_client, "消法55.jsonl", jsonl(amended), kind="statute", replace="true")
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["replaces"] == ["中华人民共和国消费者权益保护法 第五十五条"]
    assert accepted.json()["document"]["replace"] is True
    assert any("第五十五条" in r.getMessage() for r in caplog.records if r.name == "huashu.audit")

    assert reindex_and_wait(admin_client, AUTH)["state"] == "succeeded"
    replaced = admin_client.get("/v1/statutes/消法/55").json()
    assert replaced["text"] == amended["text"]
    # What the record leaves out stays as it was: the article keeps its law, chapter and level.
    for field in ("law", "chapter", "level"):
        assert replaced[field] == official[field], field


def test_an_article_uploaded_twice_in_one_file_is_refused(admin_client):
    response = upload(admin_client, "twice.jsonl", jsonl(NEW_LAW, {**NEW_LAW, "text": "另一段条文。"}), kind="statute")
    assert response.status_code == 422 and "第一条" in response.json()["detail"]
    assert stored(admin_client) == []


def test_a_successor_that_does_not_exist_is_refused(admin_client):
    nowhere = [{"law": "民法典", "article_no": 99999}, {"law": "不存在法", "article_no": 1}]
    repealed = {**NEW_LAW, "status": "repealed", "successor": nowhere}
    response = upload(admin_client, "old.jsonl", jsonl(repealed), kind="statute")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "old.jsonl" in detail and "99999" in detail and "不存在法" in detail
    assert stored(admin_client) == []


def test_the_token_is_checked_before_the_body_is_read(admin_client, settings, engine, tmp_path):
    too_big = b"x" * (100 * 1024)  # over the 64 KB upload limit: reading it would be a 413
    wrong = {"Authorization": "Bearer wrong"}
    assert upload(admin_client, "big.txt", too_big, headers=wrong).status_code == 401
    assert upload(admin_client, "big.txt", too_big, headers={}).status_code == 401
    read = []

    def streamed():  # no Content-Length: nothing refuses it before a byte is read
        for _ in range(100):
            read.append(1024)
            yield b"x" * 1024

    multipart = {"content-type": "multipart/form-data; boundary=B"}
    response = admin_client.post("/v1/admin/documents", content=streamed(), headers={**multipart, **wrong})
    assert response.status_code == 401 and read == []
    assert admin_client.post("/v1/admin/rollback", content=b"[" * (2 * 1024 * 1024), headers=wrong).status_code == 401
    disabled = settings.model_copy(update={"data_dir": tmp_path / "data", "admin_token": None, "max_upload_bytes": 65536})
    with TestClient(create_app(disabled, engine)) as no_admin:
        assert upload(no_admin, "big.txt", too_big).status_code == 403
    assert stored(admin_client) == []


def test_oversized_upload_is_413(admin_client):
    response = upload(admin_client, "big.txt", "流".encode() * 30000)
    assert response.status_code == 413
    assert admin_client.get("/v1/admin/documents", headers=AUTH).json() == []


def test_a_path_in_the_file_name_is_never_used_as_a_path(admin_client, tmp_path):
    response = upload(admin_client, "../../etc/passwd\x07.txt", "客户投诉处理的内容".encode())
    assert response.status_code == 201
    name = response.json()["document"]["filename"]
    assert name.startswith("passwd") and name.endswith(".txt") and "/" not in name and ".." not in name
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize(
    "raw, safe",
    [("../../etc/passwd", "passwd"), ("..\\win\\a.txt", "a.txt"), ("bad\x00na\x07me.pdf", "badname.pdf"), ("..", "upload"), ("客服 话术.docx", "客服_话术.docx")],
)
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_reindex_serves_the_new_script_and_rollback_returns(admin_client):
    before = admin_client.get("/readyz").json()["index_version"]
    line = json.dumps(NEW_SCRIPT, ensure_ascii=False).encode()
    assert upload(admin_client, "new.jsonl", line, kind="script").status_code == 201

    job = reindex_and_wait(admin_client, AUTH)
    assert job["state"] == "succeeded", job
    assert admin_client.get("/readyz").json()["index_version"] == job["version"] != before

    body = admin_client.post("/v1/search", json={"query": "号码被手机管家标成外卖快递骚扰电话"}).json()
    assert body["index_version"] == job["version"]
    assert NEW_SCRIPT["id"] in [s["id"] for s in body["scripts"]]

    rolled = admin_client.post("/v1/admin/rollback", headers=AUTH)
    assert rolled.status_code == 200 and rolled.json()["current"] == before
    assert admin_client.get("/readyz").json()["index_version"] == before
    assert admin_client.get("/v1/admin/jobs/nope", headers=AUTH).status_code == 404


def test_only_one_job_runs_at_a_time():
    runner, release = JobRunner(), threading.Event()
    job = runner.start("reindex", lambda progress: release.wait(10) and "v2")
    with pytest.raises(Busy):
        runner.start("reindex", lambda progress: "v3")
    release.set()
    deadline = time.monotonic() + 10
    while runner.get(job.id).state != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.get(job.id).version == "v2"
    assert runner.start("reindex", lambda progress: "v3").state in ("queued", "running", "succeeded")


def test_a_failed_job_reports_its_error():
    runner = JobRunner()
    job = runner.start("reindex", lambda progress: (_ for _ in ()).throw(RuntimeError("disk full")))
    deadline = time.monotonic() + 10
    while runner.get(job.id).state != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.get(job.id).error == "RuntimeError: disk full"


def _docx(text: str) -> bytes:
    import io

    import docx

    document = docx.Document()
    for paragraph in text.split("\n"):
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf(text: str) -> bytes:
    """A one-page PDF whose text layer says `text` (ASCII: the standard fonts have no CJK)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_docx_and_pdf_uploads_are_stored_as_text(admin_client, tmp_path):
    docx_upload = upload(admin_client, "讲义.docx", _docx("第一章 投诉受理\n客户情绪激动时先倾听，再安抚。"))
    assert docx_upload.status_code == 201, docx_upload.json()
    pdf_upload = upload(admin_client, "handout.pdf", _pdf("Complaint handling: listen first, then apologise."))
    assert pdf_upload.status_code == 201, pdf_upload.json()
    store = admin_client.app.state.documents
    texts = {d.filename: store.content(d) for d in store.list()}
    assert "客户情绪激动时先倾听" in texts["讲义.docx"]
    assert "listen first" in texts["handout.pdf"]
