"""Faults: damaged index files, a CURRENT naming a missing or damaged version, a missing or
foreign model, a full disk during a build or an upload, a server killed mid-upload. The service
keeps serving the last good version or refuses to start with what to do, and no stored document
is lost or half-written. (A build killed mid-way is in test_admin_e2e.py.)"""

import fcntl
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api.live import preflight
from app.api.main import create_app
from app.core.config import DEFAULT_MODEL_NAME, REPO_ROOT
from app.core.files import write_atomically
from app.embedding.encoder import INFO_FILE, ONNX_FILE, ModelNotFound
from app.index.build import LOCK_FILE, BuildFailed, build_index
from app.index.store import (
    CURRENT_FILE,
    FILES_KEY,
    MANIFEST_FILE,
    CorruptIndex,
    IndexNotFound,
    IndexUnusable,
    IndexVersion,
    current_version,
    list_versions,
    set_current,
    versions_dir,
)
from tests.conftest import free_port, running_server, write_small_corpus

TOKEN = "faults-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


# ---------------------------------------------------------------- helpers


@contextmanager
def tmpfs(path: Path, size: str, *options: str):
    """A small filesystem of its own at `path` (a full or read-only disk); needs root."""
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command to simulate a small disk")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join([f"size={size}", *options]), "tmpfs", str(path)],
        capture_output=True, text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to simulate a small disk: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_disk(directory: Path, leave: int) -> Path:
    """Take all free space of the filesystem holding `directory` but `leave` bytes."""
    stat = os.statvfs(directory)
    filler = directory / "filler"
    filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


def copy_version(index_dir: Path, version: str, new: str) -> Path:
    shutil.copytree(versions_dir(index_dir) / version, versions_dir(index_dir) / new)
    return versions_dir(index_dir) / new


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flip":  # same size, one byte changed: only the checksum can tell
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    elif how == "delete":
        path.unlink()


def wait_for(condition, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


def server_pid(base: str) -> int:
    """The process serving `base` (one worker: the `python -m app serve` process itself)."""
    port = base.rsplit(":", 1)[1]
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in args and b"--port" in args and args[args.index(b"--port") + 1] == port.encode():
            return int(proc.name)
    raise AssertionError(f"no server process on port {port}")


def kill_server(base: str) -> None:
    os.kill(server_pid(base), signal.SIGKILL)

    def gone() -> bool:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return False
        except httpx.TransportError:
            return True

    wait_for(gone, 10, "the killed server still answers")


def assert_serves(base: str, version: str) -> None:
    assert httpx.get(f"{base}/readyz").json()["index_version"] == version
    search = httpx.post(f"{base}/v1/search", json={"query": "客户说宽带断了要赔偿"}, timeout=30)
    assert search.status_code == 200 and search.json()["index_version"] == version


def switch_to_a_copy(base: str, index_dir: Path, version: str) -> str:
    """Make an intact copy of `version` current and wait until the server at `base` serves it."""
    good = "29990102T000000Z-good00"
    copy_version(index_dir, version, good)
    set_current(index_dir, good)
    wait_for(lambda: httpx.get(f"{base}/readyz").json()["index_version"] == good, 20, "no switch to a good version")
    return good


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- integrity of a version


def test_a_version_records_the_size_and_checksum_of_every_file(index_copy, index_version):
    directory = versions_dir(index_copy) / index_version
    files = json.loads((directory / MANIFEST_FILE).read_text())[FILES_KEY]
    on_disk = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
    assert set(files) == on_disk - {MANIFEST_FILE}
    assert {"scripts/dense.faiss", "statutes.jsonl", "scenarios.json"} <= set(files)
    for path, recorded in files.items():
        data = (directory / path).read_bytes()
        assert recorded == {"size": len(data), "sha256": sha256(data)}


@pytest.mark.parametrize(
    "path, how, says",
    [
        ("statutes/dense.faiss", "truncate", "truncated"),
        ("scripts/dense.faiss", "flip", "checksum"),
        ("passages/bm25/data.csc.index.npy", "flip", "checksum"),
        ("scripts/records.jsonl", "truncate", "truncated"),
        ("scenarios/text-hashes.json", "delete", "missing"),
        ("statutes.jsonl", "flip", "checksum"),
    ],
)
def test_a_damaged_file_is_refused_with_its_name(index_copy, index_version, path, how, says):
    damage(versions_dir(index_copy) / index_version / path, how)
    with pytest.raises(CorruptIndex) as refused:
        IndexVersion.load(index_copy)
    message = str(refused.value)
    assert index_version in message and path in message and says in message
    assert "python -m app index build" in message


def test_a_damaged_manifest_is_refused(index_copy, index_version):
    damage(versions_dir(index_copy) / index_version / MANIFEST_FILE, "truncate")
    with pytest.raises(CorruptIndex, match=f"{index_version} is damaged: manifest.json"):
        IndexVersion.load(index_copy)


def test_the_message_names_an_intact_version_to_switch_to(index_copy, index_version):
    bad = "29990101T000000Z-bad000"
    damage(copy_version(index_copy, index_version, bad) / "scripts" / "dense.faiss", "truncate")
    set_current(index_copy, bad)
    with pytest.raises(CorruptIndex, match=f"python -m app index use {index_version}"):
        IndexVersion.load(index_copy)


@pytest.mark.parametrize("content", ["20990101T000000Z-gone00", "../../etc", "\udcff\x00garbage"])
def test_a_current_file_naming_no_version_is_refused(index_copy, index_version, content):
    (index_copy / CURRENT_FILE).write_text(content, errors="surrogateescape")
    with pytest.raises(IndexNotFound, match=f"missing or incomplete: .*python -m app index use {index_version}"):
        IndexVersion.load(index_copy)


def test_a_version_without_checksums_still_loads(index_copy, index_version):
    # Versions built before checksums were recorded keep serving (with a warning) until rebuilt.
    manifest_path = versions_dir(index_copy) / index_version / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    del manifest[FILES_KEY]
    manifest_path.write_text(json.dumps(manifest))
    assert IndexVersion.load(index_copy).name == index_version


# ---------------------------------------------------------------- start-up and the running service


def _no_model(tmp_path: Path) -> dict[str, str]:
    return {"HUASHU_MODEL_CACHE_DIR": str(tmp_path / "empty-model-cache")}


def _another_model(tmp_path: Path) -> dict[str, str]:
    # What the default model's directory holds after another model was put there.
    model = tmp_path / "models" / DEFAULT_MODEL_NAME
    model.mkdir(parents=True)
    (model / INFO_FILE).write_text(json.dumps({"source": "another", "sha256": "0" * 64, "dimension": 384}))
    (model / ONNX_FILE).parent.mkdir()
    (model / ONNX_FILE).touch()
    return {"HUASHU_MODEL_CACHE_DIR": str(tmp_path / "models")}


def _missing_version(index_dir: Path, good: str) -> None:
    write_atomically(index_dir / CURRENT_FILE, "20990101T000000Z-gone00\n")


def _damaged_version(index_dir: Path, good: str) -> None:
    damage(copy_version(index_dir, good, "29990101T000000Z-bad000") / "statutes" / "dense.faiss", "truncate")
    set_current(index_dir, "29990101T000000Z-bad000")


@pytest.mark.parametrize(
    "break_index, model_env, says",
    [
        (_missing_version, None, ["20990101T000000Z-gone00", "missing", "python -m app index use {good}"]),
        (_damaged_version, None, ["statutes/dense.faiss", "truncated", "python -m app index use {good}"]),
        (None, _no_model, ["embedding model not found", "python -m app model prepare"]),
        (None, _another_model, ["was built with model", "python -m app model prepare", "python -m app index build"]),
    ],
    ids=["missing-version", "damaged-version", "missing-model", "another-model"],
)
def test_the_startup_check_refuses_and_says_what_to_do(
    settings, index_copy, index_version, tmp_path, break_index, model_env, says
):
    if break_index:
        break_index(index_copy, index_version)
    model_cache_dir = Path(model_env(tmp_path)["HUASHU_MODEL_CACHE_DIR"]) if model_env else settings.model_cache_dir
    own = settings.model_copy(update={"index_dir": index_copy, "model_cache_dir": model_cache_dir})
    with pytest.raises((IndexUnusable, ModelNotFound)) as refused:
        preflight(own)
    for words in says:
        assert words.format(good=index_version) in str(refused.value)


def test_serve_refuses_to_start_in_one_line(index_copy, index_version, tmp_path):
    # A truncated FAISS file (which FAISS maps into memory): an exit with the message, never a signal.
    _damaged_version(index_copy, index_version)
    env = {
        **os.environ, "HUASHU_INDEX_DIR": str(index_copy), "HUASHU_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", str(free_port())], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: index version 29990101T000000Z-bad000 is damaged: statutes/dense.faiss")
    assert f"python -m app index use {index_version}" in last_line


def test_a_bad_new_version_is_skipped_and_the_last_good_one_keeps_serving(index_copy, index_version, tmp_path):
    with running_server(index_copy, tmp_path) as base:
        bad = "29990101T000000Z-bad000"
        damage(copy_version(index_copy, index_version, bad) / "statutes" / "dense.faiss", "flip")
        set_current(index_copy, bad)
        logs = list(tmp_path.glob("server-*.log"))
        wait_for(
            lambda: any(f"cannot load index version {bad}" in log.read_text(errors="replace") for log in logs),
            20, "the server never tried the damaged version",
        )
        assert "statutes/dense.faiss" in "".join(log.read_text(errors="replace") for log in logs)
        assert_serves(base, index_version)
        # It keeps following CURRENT: the next good version is served.
        switch_to_a_copy(base, index_copy, index_version)


@pytest.mark.parametrize("path", ["statutes/dense.faiss", "statutes/bm25/data.csc.index.npy"])
def test_an_index_file_cut_short_under_a_running_server_does_not_kill_it(index_copy, index_version, tmp_path, path):
    # Replicas share one index volume: a file cut short there in place (a botched copy or sync)
    # must not kill every one of them, as reading a mapped page past the end of a file does (SIGBUS).
    with running_server(index_copy, tmp_path) as base:
        assert_serves(base, index_version)
        pid = server_pid(base)
        file = versions_dir(index_copy) / index_version / path
        os.truncate(file, file.stat().st_size // 2)
        for query in ["客户说宽带断了要赔偿", "流量被偷了要双倍赔偿", "营业厅强制办理套餐", "个人信息被泄露了"]:
            response = httpx.post(f"{base}/v1/search", json={"query": query}, timeout=30)
            assert response.status_code == 200, response.text
            assert response.json()["statutes"]
        os.kill(pid, 0)  # still alive
        assert_serves(base, index_version)


@pytest.mark.parametrize("how", ["damaged", "another-model"])
def test_switching_by_hand_to_an_unusable_version_is_refused_and_changes_nothing(
    app_with_data_dir, index_copy, index_version, tmp_path, how
):
    older = copy_version(index_copy, index_version, "20000101T000000Z-old000")  # what a rollback goes back to
    if how == "damaged":
        damage(older / "scripts" / "dense.faiss", "flip")
        says = "scripts/dense.faiss does not match its checksum"
    else:
        manifest = json.loads((older / MANIFEST_FILE).read_text())
        manifest["model"]["id"] = "some-other-model"
        (older / MANIFEST_FILE).write_text(json.dumps(manifest))
        says = "was built with model some-other-model"
    with app_with_data_dir(tmp_path / "data") as client:
        response = client.post("/v1/admin/rollback", headers=AUTH)
        assert response.status_code == 409 and says in response.json()["detail"]
    assert current_version(index_copy) == index_version
    env = {**os.environ, "HUASHU_INDEX_DIR": str(index_copy), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "app", "index", "use", older.name], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and says in result.stderr
    assert current_version(index_copy) == index_version


@contextmanager
def read_only_view(source: Path, view: Path):
    """`source` also mounted read-only at `view` (a bind mount): what a search replica sees of
    an index volume mounted `:ro`, while the writer keeps its read-write view; needs root."""
    view.mkdir(parents=True)
    for command in (["mount", "--bind", str(source), str(view)], ["mount", "-o", "remount,bind,ro", str(view)]):
        done = subprocess.run(command, capture_output=True, text=True) if shutil.which("mount") else None
        if done is None or done.returncode != 0:
            subprocess.run(["umount", str(view)], capture_output=True)
            pytest.skip(f"cannot mount a read-only view: {done.stderr.strip() if done else 'no mount command'}")
    try:
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


def test_a_search_replica_serves_a_read_only_index_and_follows_the_writer(index_copy, index_version, tmp_path):
    with read_only_view(index_copy, tmp_path / "index-ro") as index_ro:
        with pytest.raises(OSError, match="Read-only file system"):
            (index_ro / "probe").write_text("")
        with running_server(index_ro, tmp_path, ADMIN_TOKEN=TOKEN) as base:
            assert_serves(base, index_version)
            # The writer (an admin replica or the CLI) switches versions through its own view.
            newer = switch_to_a_copy(base, index_copy, index_version)
            # A re-index started on the read-only replica by mistake fails with the reason.
            job = httpx.post(f"{base}/v1/admin/reindex", headers=AUTH, timeout=30).json()
            wait_for(
                lambda: httpx.get(f"{base}/v1/admin/jobs/{job['id']}", headers=AUTH).json()["state"] == "failed",
                60, "the re-index did not fail",
            )
            assert "Read-only file system" in httpx.get(f"{base}/v1/admin/jobs/{job['id']}", headers=AUTH).json()["error"]
            assert httpx.get(f"{base}/readyz").json()["index_version"] == newer


# ---------------------------------------------------------------- full disk during a build


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> Path:
    return write_small_corpus(tmp_path_factory.mktemp("small") / "corpus")


@pytest.fixture(scope="module")
def small_index(small_corpus, tmp_path_factory, encoder, settings, index_version) -> Path:
    # Built over a copy of the session's version, whose embeddings it reuses; that one is pruned.
    index_dir = tmp_path_factory.mktemp("small-index")
    shutil.copytree(versions_dir(settings.index_dir) / index_version, versions_dir(index_dir) / index_version)
    set_current(index_dir, index_version)
    build_index(small_corpus, index_dir, encoder, progress=False, keep_versions=1)
    assert len(list_versions(index_dir)) == 1
    return index_dir


def _version_bytes(index_dir: Path) -> int:
    directory = versions_dir(index_dir) / current_version(index_dir)
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize("left", ["nothing", "a little", "half a version"])
def test_a_full_disk_fails_the_build_and_changes_nothing(small_corpus, small_index, encoder, tmp_path, left):
    needed = _version_bytes(small_index)
    corpus = shutil.copytree(small_corpus, tmp_path / "corpus")  # one passage more: something to build
    passage = {"id": "003-003", "document": "课程", "document_id": "003", "section": "回访", "text": "按约定时间回访客户。"}
    with (corpus / "courses" / "passages.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(passage, ensure_ascii=False) + "\n")
    with tmpfs(tmp_path / "disk", f"{4 * needed // 1024 + 64}k") as disk:
        index_dir = disk / "index"
        shutil.copytree(small_index, index_dir)
        before = current_version(index_dir)
        filler = fill_disk(disk, {"nothing": 0, "a little": 16 * 1024, "half a version": needed // 2}[left])

        with pytest.raises(BuildFailed, match=f"no space left on device in {versions_dir(index_dir)}: free some"):
            build_index(corpus, index_dir, encoder, progress=False)
        assert current_version(index_dir) == before
        assert list_versions(index_dir) == [before]
        assert [p.name for p in versions_dir(index_dir).iterdir()] == [before]  # no .building-*
        assert sorted(p.name for p in index_dir.iterdir()) == sorted([CURRENT_FILE, LOCK_FILE, "versions"])
        assert IndexVersion.load(index_dir).name == before

        filler.unlink()  # space again: the next build succeeds
        after = build_index(corpus, index_dir, encoder, progress=False).version
        assert current_version(index_dir) == after != before


def test_a_build_removes_what_a_killed_build_left(small_corpus, small_index, encoder, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(small_index, index_dir)
    leftover = versions_dir(index_dir) / ".building-20200101T000000Z-dead00"
    (leftover / "scripts").mkdir(parents=True)
    (leftover / "scripts" / "dense.faiss").write_bytes(b"half")
    version = build_index(small_corpus, index_dir, encoder, progress=False).version
    assert sorted(p.name for p in versions_dir(index_dir).iterdir()) == sorted(list_versions(index_dir))
    assert current_version(index_dir) == version


def test_a_second_build_at_the_same_time_is_refused(small_corpus, small_index, encoder, tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(small_index, index_dir)
    before = current_version(index_dir)
    building = versions_dir(index_dir) / ".building-20200101T000000Z-live00"
    building.mkdir()
    with (index_dir / LOCK_FILE).open("a") as lock:  # a build in another process holds it
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(BuildFailed, match="another index build is running"):
            build_index(small_corpus, index_dir, encoder, progress=False)
    assert building.is_dir()  # the running build's directory is left alone
    assert current_version(index_dir) == before


# ---------------------------------------------------------------- uploads


def _stored_documents(data_dir: Path) -> dict[str, str]:
    """{id: sha256 of the stored original} for every document directory on disk."""
    root = data_dir / "documents"
    return {
        d.name: sha256(next(d.glob("original*")).read_bytes())
        for d in root.iterdir()
        if not d.name.startswith(".")
    }


def _multipart(name: str, kind: str, content: bytes, boundary: str = "huashu-faults") -> tuple[bytes, bytes, bytes]:
    """Head, body and tail of a multipart upload, so a test can stream it in pieces."""
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head, content, f"\r\n--{boundary}--\r\n".encode()


def _course_text(tag: str, megabytes: int) -> bytes:
    # Long lines: the course check's cost grows with the number of lines, not their length.
    line = (f"{tag} complaint handling: listen first, then apologise, then confirm. " * 200)[:10000] + "\n"
    return (line * (megabytes * 1024 * 1024 // len(line))).encode()


def _leftovers(data_dir: Path) -> list[str]:
    return [p.name for p in (data_dir / "documents").iterdir() if p.name.startswith(".")]


def test_a_server_killed_during_uploads_loses_no_document(index_copy, tmp_path):
    data_dir = tmp_path / "data"
    env = {"ADMIN_TOKEN": TOKEN, "HUASHU_MAX_UPLOAD_BYTES": str(64 * 1024 * 1024)}
    earlier = {
        "讲义.txt": "投诉处理技巧：先倾听，再安抚，最后确认问题。".encode(),
        "notes.md": "# 媒体曝光\n转移话题，平淡处之。".encode(),
    }
    big = _course_text("stored", 8)

    # 1. Two documents stored, then the server is killed while it writes a large one.
    with running_server(index_copy, tmp_path, **env) as base:
        for name, content in earlier.items():
            assert httpx.post(
                f"{base}/v1/admin/documents", headers=AUTH, files={"file": (name, content)}, data={"kind": "course"}
            ).status_code == 201
        stored = _stored_documents(data_dir)
        assert sorted(stored.values()) == sorted(sha256(c) for c in earlier.values())

        outcome: dict = {}

        def upload() -> None:
            try:
                outcome["response"] = httpx.post(
                    f"{base}/v1/admin/documents", headers=AUTH, files={"file": ("big.txt", big)},
                    data={"kind": "course"}, timeout=120,
                )
            except httpx.TransportError as e:
                outcome["error"] = e

        uploader = threading.Thread(target=upload)
        uploader.start()
        # Killed the moment the document's staging directory appears: its files half written.
        while uploader.is_alive() and not any(name.startswith(".upload-") for name in _leftovers(data_dir)):
            time.sleep(0.0005)
        caught_mid_store = uploader.is_alive()
        if caught_mid_store:
            kill_server(base)
        uploader.join()
        assert caught_mid_store, f"the upload finished before it could be killed: {outcome}"

    # 2. Restarted: what the killed upload left is gone; the earlier documents are intact; the
    #    big one is either wholly stored (killed just after its rename) or absent.
    with running_server(index_copy, tmp_path, **env) as base:
        assert _leftovers(data_dir) == []
        listed = {d["id"]: d["sha256"] for d in httpx.get(f"{base}/v1/admin/documents", headers=AUTH).json()}
        on_disk = _stored_documents(data_dir)
        assert listed == on_disk
        assert {k: v for k, v in on_disk.items() if k in stored} == stored
        assert set(on_disk.values()) - set(stored.values()) <= {sha256(big)}
        stored = on_disk

        # 3. Killed again while a large upload streams in: nothing of it is stored.
        head, content, tail = _multipart("streamed.txt", "course", _course_text("streamed", 8))
        chunk = 256 * 1024

        def stream():
            yield head
            for start in range(0, len(content), chunk):
                if start == len(content) // 2 // chunk * chunk:
                    kill_server(base)  # half of the file sent
                yield content[start : start + chunk]
            yield tail

        with pytest.raises(httpx.TransportError):
            httpx.post(
                f"{base}/v1/admin/documents", content=stream(), timeout=60,
                headers={**AUTH, "Content-Type": "multipart/form-data; boundary=huashu-faults"},
            )
        assert _stored_documents(data_dir) == stored
        assert _leftovers(data_dir) == []


@pytest.fixture
def app_with_data_dir(tmp_path, settings, engine, index_copy):
    """An app on the given data directory (shares the session's loaded model)."""

    @contextmanager
    def make(data_dir: Path):
        own = settings.model_copy(update={"index_dir": index_copy, "data_dir": data_dir, "admin_token": TOKEN})
        with TestClient(create_app(own, engine)) as client:
            yield client

    return make


def _upload(client, content: bytes):
    return client.post(
        "/v1/admin/documents", files={"file": ("讲义.txt", content)}, data={"kind": "course"}, headers=AUTH
    )


def test_a_missing_data_directory_is_created(app_with_data_dir, tmp_path):
    with app_with_data_dir(tmp_path / "not" / "yet" / "data") as client:
        assert _upload(client, "客户情绪激动时先倾听。".encode()).status_code == 201
        assert len(client.get("/v1/admin/documents", headers=AUTH).json()) == 1


def test_a_data_directory_that_cannot_be_created_is_a_clear_503(app_with_data_dir, tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    with app_with_data_dir(tmp_path / "a-file" / "data") as client:
        response = _upload(client, "客户情绪激动时先倾听。".encode())
        assert response.status_code == 503
        assert "cannot store documents" in response.json()["detail"]
        assert "check that HUASHU_DATA_DIR exists and is writable" in response.json()["detail"]
        assert client.get("/v1/admin/documents", headers=AUTH).json() == []


def test_a_read_only_data_directory_is_a_clear_503(app_with_data_dir, tmp_path):
    with tmpfs(tmp_path / "ro", "1m", "ro") as data_dir, app_with_data_dir(data_dir) as client:
        response = _upload(client, "客户情绪激动时先倾听。".encode())
        assert response.status_code == 503
        assert "Read-only file system" in response.json()["detail"]


def test_a_full_data_disk_is_a_clear_503_and_leaves_nothing(app_with_data_dir, tmp_path):
    with tmpfs(tmp_path / "disk", "256k") as data_dir, app_with_data_dir(data_dir) as client:
        stored = _upload(client, "客户情绪激动时先倾听。".encode())
        assert stored.status_code == 201
        response = _upload(client, _course_text("full", 1))
        assert response.status_code == 503
        assert "no space left on device" in response.json()["detail"]
        kept = stored.json()["document"]["id"]
        assert [d["id"] for d in client.get("/v1/admin/documents", headers=AUTH).json()] == [kept]
        assert sorted(p.name for p in (data_dir / "documents").iterdir()) == [kept]


# ---------------------------------------------------------------- the server's storage, from the API


def test_a_rollback_on_a_read_only_index_is_a_clear_503(settings, engine, index_copy, index_version, tmp_path):
    older = copy_version(index_copy, index_version, "20000101T000000Z-old000").name  # what a rollback goes back to
    with read_only_view(index_copy, tmp_path / "index-ro") as index_ro:
        own = settings.model_copy(update={"index_dir": index_ro, "data_dir": tmp_path / "data", "admin_token": TOKEN})
        with TestClient(create_app(own, engine)) as client:
            response = client.post("/v1/admin/rollback", headers=AUTH)
            assert response.status_code == 503
            detail = response.json()["detail"]
            assert f"cannot make {older} current" in detail and "(Read-only file system)" in detail
            assert f"run `python -m app index use {older}` where the index directory is writable" in detail
            assert detail.endswith("the current version is unchanged")
        env = {**os.environ, "HUASHU_INDEX_DIR": str(index_ro), "HF_HUB_OFFLINE": "1"}
        result = subprocess.run(
            [sys.executable, "-m", "app", "index", "use", older], cwd=REPO_ROOT, env=env,
            capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines()[-1].startswith(f"error: cannot make {older} current")
    assert current_version(index_copy) == index_version


SUMMARY = "/v1/admin/feedback/summary"
# The admin's other reads of the same database.
READS = [SUMMARY, "/v1/admin/feedback/scripts", "/v1/admin/feedback/scripts.csv", "/v1/admin/gaps"]


def _feedback(client, engine):
    script_id = engine.index.collections["scripts"].records[0].id
    body = {"query": "客户说流量被偷了", "script_id": script_id, "signal": "down", "index_version": "v1"}
    return client.post("/v1/feedback", json=body)


def test_feedback_on_a_read_only_database_is_a_clear_503(app_with_data_dir, engine, tmp_path):
    with tmpfs(tmp_path / "disk", "1m") as data_dir, app_with_data_dir(data_dir) as client:
        assert _feedback(client, engine).status_code == 202
        subprocess.run(["mount", "-o", "remount,ro", str(data_dir)], check=True)
        for response in (_feedback(client, engine), *(client.get(path, headers=AUTH) for path in READS)):
            assert response.status_code == 503
            detail = response.json()["detail"]
            assert detail.startswith(f"the feedback database {data_dir / 'feedback.sqlite3'} cannot be used")
            assert "check that HUASHU_DATA_DIR and the files in it are writable" in detail


def test_feedback_on_a_locked_database_is_a_quick_503(app_with_data_dir, engine, tmp_path):
    with app_with_data_dir(tmp_path / "data") as client:
        assert _feedback(client, engine).status_code == 202
        # Another process (a sqlite3 shell, a backup) holds the database: readers are shut out too.
        holder = sqlite3.connect(tmp_path / "data" / "feedback.sqlite3", isolation_level=None)
        try:
            holder.execute("PRAGMA locking_mode=EXCLUSIVE")
            holder.execute("BEGIN EXCLUSIVE")
            holder.execute("DELETE FROM feedback")
            sends = [lambda: _feedback(client, engine)] + [lambda p=p: client.get(p, headers=AUTH) for p in READS]
            for send in sends:
                started = time.monotonic()
                response = send()
                assert time.monotonic() - started < 5  # SQLite waited 10 s, then a 500
                assert response.status_code == 503
                detail = response.json()["detail"]
                assert "(database is locked): another process holds a lock on it: try again" in detail
        finally:
            holder.close()  # rolls back
        assert _feedback(client, engine).status_code == 202
        assert client.get(SUMMARY, headers=AUTH).json()["recent_negative"][0]["query"] == "客户说流量被偷了"
