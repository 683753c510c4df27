"""Re-indexing against real servers: searches never fail while a version builds and switches,
a killed build leaves nothing loadable, and every process follows the switch."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx

from app.core.config import REPO_ROOT
from app.index.store import IndexVersion, current_version, list_versions, set_current, versions_dir
from tests.conftest import running_server

TOKEN = "e2e-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SCRIPT = {
    "id": "premium-number/e2e-upload",
    "title": "吉祥号保底消费：上传的新话术",
    "scenarios": ["premium-number"],
    "technique": "解释协议",
    "situation": "客户买了尾号888的靓号，觉得每月最低消费两百太贵想取消保底",
    "text": "理解您的想法，靓号的保底消费是办理时协议里约定的，我帮您查一下协议期限和可以调整的方案。",
    "channels": ["phone", "counter", "online"],
    "source": {"document": None, "section": None, "origin": "authored"},
}


def wait_for(condition, seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.3)


def test_searches_never_fail_during_reindex_and_rollback(index_copy, tmp_path):
    with running_server(index_copy, tmp_path, ADMIN_TOKEN=TOKEN) as base:
        first = httpx.get(f"{base}/readyz").json()["index_version"]
        stop, failures, versions_seen, count = threading.Event(), [], set(), [0]

        def search_continuously() -> None:
            with httpx.Client(timeout=30) as client:
                while not stop.is_set():
                    response = client.post(f"{base}/v1/search", json={"query": "客户说宽带断了要赔偿"})
                    count[0] += 1
                    if response.status_code != 200:
                        failures.append(response.status_code)
                    else:
                        versions_seen.add(response.json()["index_version"])

        searcher = threading.Thread(target=search_continuously)
        searcher.start()
        try:
            content = json.dumps(SCRIPT, ensure_ascii=False).encode()
            upload = httpx.post(
                f"{base}/v1/admin/documents", headers=AUTH, files={"file": ("s.jsonl", content)}, data={"kind": "script"}
            )
            assert upload.status_code == 201
            job = httpx.post(f"{base}/v1/admin/reindex", headers=AUTH).json()
            assert httpx.post(f"{base}/v1/admin/reindex", headers=AUTH).status_code == 409

            def finished() -> bool:
                job.update(httpx.get(f"{base}/v1/admin/jobs/{job['id']}", headers=AUTH).json())
                return job["state"] in ("succeeded", "failed")

            wait_for(finished, 300, "re-index did not finish")
            assert job["state"] == "succeeded", job
            wait_for(lambda: httpx.get(f"{base}/readyz").json()["index_version"] == job["version"], 10, "no switch")
            assert httpx.post(f"{base}/v1/admin/rollback", headers=AUTH).json()["current"] == first
            wait_for(lambda: httpx.get(f"{base}/readyz").json()["index_version"] == first, 10, "no rollback")
            time.sleep(1)
        finally:
            stop.set()
            searcher.join()
        assert failures == []
        assert count[0] > 10
        assert {first, job["version"]} <= versions_seen


def test_a_killed_build_leaves_the_current_version_and_nothing_loadable(index_copy, tmp_path):
    before = current_version(index_copy)
    # A changed corpus (every script text differs) so the build has real embedding work to be killed in.
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO_ROOT / "corpus", corpus)
    for path in (corpus / "scripts").glob("*.jsonl"):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        path.write_text("".join(json.dumps({**r, "text": r["text"] + "。"}, ensure_ascii=False) + "\n" for r in lines))
    env = {**os.environ, "HUASHU_INDEX_DIR": str(index_copy), "HUASHU_CORPUS_DIR": str(corpus), "HF_HUB_OFFLINE": "1"}
    build = subprocess.Popen(
        [sys.executable, "-m", "app", "index", "build"], cwd=REPO_ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    # Kill it once it is embedding (its progress bar has started).
    wait_for(lambda: b"embedding" in build.stderr.read1(4096) or build.poll() is not None, 120, "build never embedded")
    assert build.poll() is None, "the build finished before it could be killed"
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert current_version(index_copy) == before
    assert list_versions(index_copy) == [before]
    assert IndexVersion.load(index_copy).name == before


def test_every_process_follows_the_switch(index_copy, tmp_path, index_version):
    other = "29990101T000000Z-aaaaaa"
    shutil.copytree(versions_dir(index_copy) / index_version, versions_dir(index_copy) / other)
    with running_server(index_copy, tmp_path) as one, running_server(index_copy, tmp_path) as two:
        for base in (one, two):
            assert httpx.get(f"{base}/readyz").json()["index_version"] == index_version
        set_current(index_copy, other)
        for base in (one, two):
            wait_for(lambda: httpx.get(f"{base}/readyz").json()["index_version"] == other, 10, f"{base} did not switch")
            assert httpx.post(f"{base}/v1/search", json={"query": "宽带断了"}).json()["index_version"] == other
