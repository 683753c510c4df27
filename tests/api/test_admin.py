import io
import json
import logging
import re
import threading
import time
import zipfile
import zlib
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from app.admin.jobs import Busy, JobRunner
from app.api.main import create_app
from app.corpus.documents import safe_filename
from app.index.build import Built
from app.index.store import CURRENT_FILE, list_versions
from app.store.database import sqlite_database
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
def make_admin_client(tmp_path, settings, engine, index_copy):
    """An app with its own index directory (a copy of the session's version), data directory
    and admin token, sharing the session's loaded model; `changes` are other settings."""

    @contextmanager
    def make(**changes):
        own = settings.model_copy(
            update={"index_dir": index_copy, "data_dir": tmp_path / "data", "admin_token": TOKEN, **changes}
        )
        with TestClient(create_app(own, engine)) as client:
            yield client

    return make


@pytest.fixture
def admin_client(make_admin_client):
    with make_admin_client(max_upload_bytes=64 * 1024) as client:
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


@pytest.mark.parametrize(
    "name", ["讲义.txt", "A.PDF", "x.Docx", "..md", "dir/a.jsonl", "a.txt.exe", "file", ".txt", "dir/.pdf", "a.txt "]
)
def test_the_schema_states_which_file_names_are_taken(admin_client, name):
    upload_body = admin_client.get("/openapi.json").json()["paths"]["/v1/admin/documents"]["post"]["requestBody"]
    part = upload_body["content"]["multipart/form-data"]["encoding"]["file"]
    stated = re.search(part["headers"]["Content-Disposition"]["schema"]["pattern"], f'filename="{name}"')
    response = upload(admin_client, name, "客户情绪激动时先倾听，再安抚。".encode())  # text: a .pdf's is a 422
    assert (response.status_code != 415) == bool(stated), response.text


@pytest.mark.parametrize("flag, status", [("true", 201), ("false", 201), ("", 201), ("yes", 422), ("1", 422)])
def test_replace_is_true_or_false_as_the_schema_says(admin_client, flag, status):
    response = upload(admin_client, "办法.jsonl", jsonl(NEW_LAW), kind="statute", replace=flag)
    assert response.status_code == status, response.text
    assert status == 201 or response.json()["detail"] == "replace: send true or false"


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


def test_a_reindex_with_nothing_changed_keeps_the_current_version(admin_client, index_copy):
    before = admin_client.get("/v1/admin/versions", headers=AUTH).json()
    job = reindex_and_wait(admin_client, AUTH)
    assert job["state"] == "succeeded", job
    assert job["version"] == before["current"] and job["up_to_date"] is True
    assert admin_client.get("/v1/admin/versions", headers=AUTH).json() == before
    assert list_versions(index_copy) == before["versions"]


@pytest.mark.parametrize("current", [None, "20991231T000000Z-gone00"], ids=["missing", "naming-no-version"])
def test_a_rollback_without_a_current_version_is_409_and_switches_nothing(admin_client, index_copy, current):
    (index_copy / CURRENT_FILE).unlink()
    if current:
        (index_copy / CURRENT_FILE).write_text(current + "\n")
    response = admin_client.post("/v1/admin/rollback", headers=AUTH)
    assert response.status_code == 409
    assert "no current index version to roll back from" in response.json()["detail"]
    assert (index_copy / CURRENT_FILE).exists() == bool(current)
    assert not current or (index_copy / CURRENT_FILE).read_text().strip() == current


def test_only_one_job_runs_at_a_time(tmp_path):
    runner, release = JobRunner(sqlite_database(tmp_path / "edits.sqlite3", "admin")), threading.Event()
    job = runner.start("reindex", lambda progress: release.wait(10) and Built("v2", new=True))
    with pytest.raises(Busy):
        runner.start("reindex", lambda progress: Built("v3", new=True))
    release.set()
    deadline = time.monotonic() + 10
    while runner.get(job.id).state != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.get(job.id).version == "v2"
    assert runner.start("reindex", lambda progress: Built("v3", new=True)).state in ("queued", "running", "succeeded")


def test_a_failed_job_reports_its_error(tmp_path):
    runner = JobRunner(sqlite_database(tmp_path / "edits.sqlite3", "admin"))
    job = runner.start("reindex", lambda progress: (_ for _ in ()).throw(RuntimeError("disk full")))
    deadline = time.monotonic() + 10
    while runner.get(job.id).state != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.get(job.id).error == "RuntimeError: disk full"


def _docx(text: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in text.split("\n"):
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf(text: str) -> bytes:
    """A one-page PDF whose text layer says `text` (ASCII: the standard fonts have no CJK)."""
    return _pdf_of(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())


def _pdf_of(stream: bytes, pages: int = 1) -> bytes:
    """A PDF of `pages` pages that all draw the one content stream `stream`, compressed."""
    stream = zlib.compress(stream, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % (6 + i) for i in range(pages)), pages),
        b"<< >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ] + [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>"
    ] * pages
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


# ---------------------------------------------------------------- hostile files
# Each is refused with a reason, never a 500 or a long wait, and nothing of it is stored.

TEXT = "第一章 投诉受理\n客户情绪激动时先倾听，再询问，然后安抚，最后确认问题。如果客户要求赔偿，先核实情况，再按规定处理。\n"


def assert_nothing_stored(client) -> None:
    assert client.get("/v1/admin/documents", headers=AUTH).json() == []
    root = client.app.state.documents.root
    assert not root.exists() or list(root.iterdir()) == []


def _docx_with(part: str, xml: bytes) -> bytes:
    """A .docx made by python-docx, with `part` replaced by `xml`."""
    original = zipfile.ZipFile(io.BytesIO(_docx(TEXT)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for info in original.infolist():
            package.writestr(info.filename, xml if info.filename == part else original.read(info.filename))
    return buffer.getvalue()


def _document_xml() -> bytes:
    return zipfile.ZipFile(io.BytesIO(_docx(TEXT))).read("word/document.xml")


def _docx_bomb(megabytes: int) -> bytes:
    """A .docx whose document.xml holds `megabytes` MB of paragraphs (a few hundred KB zipped),
    written piece by piece."""
    original = zipfile.ZipFile(io.BytesIO(_docx(TEXT)))
    head, tail = _document_xml().split(b"<w:body>")
    paragraphs = "<w:p><w:r><w:t>客户情绪激动时先倾听，再安抚。</w:t></w:r></w:p>".encode() * 20000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        for info in original.infolist():
            if info.filename != "word/document.xml":
                package.writestr(info.filename, original.read(info.filename))
                continue
            with package.open(info.filename, "w") as part:
                part.write(head + b"<w:body>")
                for _ in range(megabytes * 1024 * 1024 // len(paragraphs)):
                    part.write(paragraphs)
                part.write(tail)
    return buffer.getvalue()


def test_a_docx_bomb_is_refused_before_it_is_unpacked(make_admin_client):
    # 64 MB of XML in a few hundred KB: refused on the sizes the zip declares, under the default limits.
    bomb = _docx_bomb(64)
    assert len(bomb) < 1024 * 1024
    with make_admin_client() as client:
        started = time.monotonic()
        response = upload(client, "讲义.docx", bomb)
        assert time.monotonic() - started < 5
        assert response.status_code == 413
        assert response.json()["detail"] == (
            "the .docx document unpacks to more than 32 MB (limit: HUASHU_MAX_UNPACKED_BYTES)"
        )
        assert_nothing_stored(client)


LAUGHS = '<!ENTITY lol "lollollollollollollollollollol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
)


def _with_dtd(dtd: str, old: bytes, new: bytes) -> bytes:
    xml = _document_xml()
    declaration_end = xml.index(b"?>") + 2
    return xml[:declaration_end] + dtd.encode() + xml[declaration_end:].replace(old, new, 1)


def _in_utf16(xml: bytes) -> bytes:
    return xml.replace(b"UTF-8", b"UTF-16").decode().encode("utf-16")


DOCUMENT = "word/document.xml"
ENTITY_LOOP = '<!DOCTYPE w:document [<!ENTITY a "&b;"><!ENTITY b "&a;">]>'
EXTERNAL_ENTITY = '<!DOCTYPE w:document [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
STYLES_WITH_DTD = b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x "y">]><w:styles xmlns:w="w">&x;</w:styles>'


@pytest.mark.parametrize(
    "part, xml, says",
    [
        (DOCUMENT, b"this is no XML", "cannot be read: Start tag expected"),
        ("[Content_Types].xml", b"\x89PNG\r\n\x1a\n", "cannot be read"),
        (DOCUMENT, _document_xml().replace("客户".encode(), b"a" * 11_000_000), "Text node too long"),
        # Entities: a loop, a billion laughs in an attribute (expanded even when text entities are
        # not), a file of the server's, and a DTD in another part or in UTF-16.
        (DOCUMENT, _with_dtd(ENTITY_LOOP, "客户".encode(), b"&a;"), "declares a DTD in word/document.xml"),
        (DOCUMENT, _with_dtd(f"<!DOCTYPE w:document [{LAUGHS}]>", b"<w:p>", b'<w:p w:rsidR="&lol9;">'), "a DTD"),
        (DOCUMENT, _with_dtd(EXTERNAL_ENTITY, "客户".encode(), b"&x;"), "declares a DTD"),
        ("word/styles.xml", STYLES_WITH_DTD, "declares a DTD in word/styles.xml"),
        (DOCUMENT, _in_utf16(_with_dtd("<!DOCTYPE w:document>", b"", b"")), "declares a DTD"),
    ],
    ids=[
        "not-xml", "not-xml-content-types", "huge-node", "entity-loop", "billion-laughs", "external-entity",
        "dtd-in-styles", "dtd-in-utf16",
    ],
)
def test_a_docx_with_hostile_xml_is_a_readable_422(admin_client, part, xml, says):
    response = upload(admin_client, "讲义.docx", _docx_with(part, xml))
    assert response.status_code == 422, response.json()
    assert response.json()["detail"].startswith("the .docx document ") and says in response.json()["detail"]
    assert_nothing_stored(admin_client)


def test_a_pdf_that_takes_too_long_to_read_is_413(make_admin_client):
    # A few KB: one small stream of text operators that fifty pages each draw (30 s of parsing).
    slow = _pdf_of(b"BT /F1 12 Tf 72 720 Td (ab) Tj ET\n" * 20000, pages=50)
    assert len(slow) < 16 * 1024
    with make_admin_client(max_extract_seconds=1) as client:
        started = time.monotonic()
        response = upload(client, "handout.pdf", slow)
        assert time.monotonic() - started < 8
        assert response.status_code == 413
        assert response.json()["detail"] == "reading the text takes more than 1 s (limit: HUASHU_MAX_EXTRACT_SECONDS)"
        assert_nothing_stored(client)


def test_the_pages_of_a_pdf_count_against_the_unpacked_limit(make_admin_client):
    # Each page parses the stream again, so each page counts.
    shared = _pdf_of(b"BT /F1 12 Tf 72 720 Td (ab) Tj ET\n" * 2000, pages=50)
    with make_admin_client(max_unpacked_bytes=1024 * 1024) as client:
        response = upload(client, "handout.pdf", shared)
        assert response.status_code == 413
        detail = response.json()["detail"]
        assert detail == "the PDF's pages unpack to more than 1 MB (limit: HUASHU_MAX_UNPACKED_BYTES)"
        assert_nothing_stored(client)


def test_a_pdf_past_the_pdf_readers_limits_is_413(admin_client):
    # An array of more elements than pypdf reads (LimitReachedError), in 1 KB.
    wide = _pdf_of(b"BT /F1 12 Tf 72 720 Td [" + b"(a) 1 " * 60000 + b"] TJ ET")
    response = upload(admin_client, "handout.pdf", wide)
    assert response.status_code == 413
    assert response.json()["detail"].startswith("the PDF is past a limit of the PDF reader: ")
    assert_nothing_stored(admin_client)


@pytest.mark.parametrize(
    "name, content",
    [
        ("讲义.txt", TEXT.encode() * 40),
        ("讲义.docx", _docx(TEXT * 40)),
        ("handout.pdf", _pdf_of(b"BT /F1 12 Tf 72 720 Td (" + b"a" * 5000 + b") Tj ET")),
    ],
    ids=["txt", "docx", "pdf"],
)
def test_the_extracted_text_is_bounded(make_admin_client, name, content):
    with make_admin_client(max_text_bytes=4096) as client:
        response = upload(client, name, content)
        assert response.status_code == 413
        assert response.json()["detail"] == "the text is longer than 4 KB in UTF-8 (limit: HUASHU_MAX_TEXT_BYTES)"
        assert_nothing_stored(client)


@pytest.mark.parametrize("kind", ["script", "statute"])
def test_a_jsonl_number_of_thousands_of_digits_is_a_readable_422(admin_client, kind):
    # Past Python's int-string limit (4,300 digits), which json.loads raises as a bare ValueError.
    record = json.dumps({**NEW_SCRIPT, "n": 0}, ensure_ascii=False).replace('"n": 0', '"n": ' + "9" * 5000)
    response = upload(admin_client, "new.jsonl", record.encode(), kind=kind)
    assert response.status_code == 422
    # Named as the corpus loader names every upload it reads (the uploaded records are checked by it).
    assert response.json()["detail"] == "upload new.jsonl line 1: not valid JSON (a number has more than 4300 digits)"
    assert_nothing_stored(admin_client)


# ---------------------------------------------------------------- encodings of plain text

TRADITIONAL = "第一章 投訴受理\n客戶情緒激動時先傾聽，再詢問，然後安撫，最後確認問題。如果客戶要求賠償，先核實情況，再按規定處理。\n"
JAPANESE = "お客様のお問い合わせありがとうございます。通信料金についてのご不明な点は、担当者が詳しくご説明いたします。\n"


@pytest.mark.parametrize(
    "text, encoding",
    [(TEXT, "utf-8"), (TEXT, "utf-8-sig"), (TEXT, "gb18030"), (TRADITIONAL, "big5"), (JAPANESE, "shift_jis")],
    ids=["utf-8", "utf-8-bom", "gb18030", "big5", "shift-jis"],
)
def test_plain_text_is_stored_as_written_in_its_encoding(admin_client, text, encoding):
    response = upload(admin_client, "讲义.txt", text.encode(encoding))
    assert response.status_code == 201, response.json()
    store = admin_client.app.state.documents
    assert store.content(store.list()[0]) == text


@pytest.mark.parametrize(
    "content",
    ["客戶投訴".encode("big5"), "投诉".encode("gb18030"), bytes(range(0x80, 0x100)) * 4],
    ids=["short-big5", "short-gb18030", "no-text"],
)
def test_text_whose_encoding_cannot_be_told_is_refused(admin_client, content):
    response = upload(admin_client, "讲义.txt", content)
    assert response.status_code == 422
    assert response.json()["detail"].endswith("save it as UTF-8 and upload it again")
    assert_nothing_stored(admin_client)
