"""Shared fixtures: the real model, a real index of the real corpus built once per session, and
the real service on it."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.core.config import REPO_ROOT, Settings
from app.corpus.loader import Corpus, load_corpus, read_lines
from app.embedding.encoder import Encoder
from app.index.build import build_index
from app.index.store import CURRENT_FILE, IndexVersion, current_version, versions_dir
from app.search.engine import SearchEngine

CORPUS_DIR = REPO_ROOT / "corpus"
SERVER_START_TIMEOUT_S = 120
SAMPLE_SCRIPT = {
    "id": "double-refund/fraud-check",
    "title": "双倍返还诉求：先判断是否欺诈",
    "scenarios": ["double-refund"],
    "technique": "以退为进法",
    "situation": "客户认为被欺诈，要求退一赔三",
    "text": "我非常愿意协助您解决，但加倍赔偿需要有欺诈的事实。",
    "citations": [{"law": "消法", "article_no": 55}],
    "channels": ["phone", "counter", "online"],
    "source": {"document": "003", "section": "双倍返还", "origin": "adapted"},
}


def write_small_corpus(corpus: Path) -> Path:
    """The scenarios, one law, SAMPLE_SCRIPT and two passages at `corpus`: an index of it builds
    in seconds and takes a few hundred KB."""
    for sub in ("statutes", "scripts", "courses"):
        (corpus / sub).mkdir(parents=True)
    shutil.copy(CORPUS_DIR / "scenarios.yaml", corpus)
    shutil.copy(CORPUS_DIR / "elsewhere.txt", corpus)
    for name in ("small-talk.txt", "small-talk-look-alikes.txt"):  # a few lines of each side: builds stay fast
        (corpus / name).write_text("\n".join(read_lines(CORPUS_DIR / name)[:10]) + "\n", encoding="utf-8")
    shutil.copy(CORPUS_DIR / "statutes" / "consumer-rights-protection-law.jsonl", corpus / "statutes")
    (corpus / "scripts" / "s.jsonl").write_text(json.dumps(SAMPLE_SCRIPT, ensure_ascii=False) + "\n", encoding="utf-8")
    passages = [
        {"id": "003-001", "document": "课程", "document_id": "003", "section": "双倍返还", "text": "双倍返还的依据是欺诈行为。"},
        {"id": "003-002", "document": "课程", "document_id": "003", "section": "媒体曝光", "text": "转移话题，平淡处之。"},
    ]
    (corpus / "courses" / "passages.jsonl").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in passages), encoding="utf-8"
    )
    return corpus


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(CORPUS_DIR)


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(
        corpus_dir=CORPUS_DIR, index_dir=tmp_path_factory.mktemp("index"), data_dir=tmp_path_factory.mktemp("data")
    )


@pytest.fixture(scope="session")
def encoder(settings) -> Encoder:
    # The model is prepared by `make test` (python -m app model prepare).
    return Encoder(settings)


@pytest.fixture(scope="session")
def index_version(settings, encoder) -> str:
    # HUASHU_TEST_SEED_INDEX names an existing index directory whose current version seeds this
    # one: the build still runs in full but reuses the embeddings, which saves minutes per run.
    seed = os.environ.get("HUASHU_TEST_SEED_INDEX")
    if seed and (seed_version := current_version(Path(seed))):
        shutil.copytree(versions_dir(Path(seed)) / seed_version, versions_dir(settings.index_dir) / seed_version)
        (settings.index_dir / CURRENT_FILE).write_text(seed_version + "\n")
    return build_index(settings.corpus_dir, settings.index_dir, encoder, progress=False).version


@pytest.fixture(scope="session")
def engine(settings, encoder, index_version) -> SearchEngine:
    return SearchEngine(IndexVersion.load(settings.index_dir), encoder)


@pytest.fixture(scope="session")
def client(settings, engine):
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def admin_token() -> str:
    return "test-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(index_dir: Path, workdir: Path, **env: str):
    """The real service: uvicorn in its own process on a free 127.0.0.1 port with the real model,
    the given index directory and its own data directory; yields its base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "HUASHU_INDEX_DIR": str(index_dir),
        "HUASHU_DATA_DIR": str(workdir / "data"),
        "HF_HUB_OFFLINE": "1",
        **env,
    }
    # Its log goes to a file, not a pipe: nobody reads while it runs, and a full pipe would block it.
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail("server exited:\n" + log.read_text(errors="replace"))
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready within {SERVER_START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def server(settings, index_version, admin_token, tmp_path_factory):
    with running_server(settings.index_dir, tmp_path_factory.mktemp("server"), ADMIN_TOKEN=admin_token) as base:
        yield base


def copy_index(source: Path, version: str, index_dir: Path) -> Path:
    """An index directory of its own at `index_dir` holding a copy of `version` of `source`, current."""
    shutil.copytree(versions_dir(source) / version, versions_dir(index_dir) / version)
    (index_dir / CURRENT_FILE).write_text(version + "\n")
    return index_dir


@pytest.fixture
def index_copy(tmp_path, settings, index_version) -> Path:
    """An index directory of its own holding a copy of the session's version."""
    return copy_index(settings.index_dir, index_version, tmp_path / "index")


def reindex_and_wait(client, headers: dict, second_refused: bool = False) -> dict:
    """Start a re-index through the admin API and wait for the job to end; returns the job. With
    `second_refused`, also checks that another re-index is refused while this one runs."""
    started = client.post("/v1/admin/reindex", headers=headers)
    assert started.status_code == 202, started.text
    job = started.json()
    if second_refused:
        assert client.post("/v1/admin/reindex", headers=headers).status_code == 409  # one job at a time
    deadline = time.monotonic() + 300
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = client.get(f"/v1/admin/jobs/{job['id']}", headers=headers).json()
    return job


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (tests/postgres.py)."""
    from tests.postgres import postgres_server

    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres) -> str:
    """The URL of a new empty database on the session's PostgreSQL server."""
    return postgres.create_database()
