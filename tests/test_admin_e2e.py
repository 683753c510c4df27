"""Re-indexing against real servers: searches never fail while a version builds and switches,
the server's memory after a re-index is what it was before, a killed build leaves nothing
loadable, and every process follows the switch."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.core.config import REPO_ROOT
from app.index.store import IndexVersion, current_version, list_versions, set_current, versions_dir
from app.measure.load import listening_pid, peak_rss_mb, rss_mb
from tests.conftest import reindex_and_wait, running_server

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


@dataclass
class Searches:
    """What searches sent without pause got back: failures, and the index versions that answered."""

    failures: list = field(default_factory=list)
    versions: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.failures) + sum(self.versions.values())


@contextmanager
def searches_running(base: str, query: str) -> Iterator[Searches]:
    """Searches `query` against the service at `base`, one after another, until the block ends."""
    searches, stop = Searches(), threading.Event()

    def search_continuously() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                response = client.post(f"{base}/v1/search", json={"query": query})
                if response.status_code != 200:
                    searches.failures.append((response.status_code, response.text[:200]))
                else:
                    searches.versions[response.json()["index_version"]] += 1

    searcher = threading.Thread(target=search_continuously)
    searcher.start()
    try:
        yield searches
    finally:
        stop.set()
        searcher.join()


def course_text(passages: int) -> bytes:
    """A course document the upload splits into `passages` passages of ~500 characters, each new
    to the index (articles of a law, rearranged under numbered headings)."""
    law = REPO_ROOT / "corpus" / "statutes" / "consumer-rights-protection-law.jsonl"
    articles = [json.loads(line)["text"].replace("\n", "") for line in law.read_text(encoding="utf-8").splitlines()]
    sections = [
        f"【投诉处理要点{i}】\n" + (f"第{i}讲：" + "".join(articles[(i + k) % len(articles)] for k in range(6)))[:560]
        for i in range(passages)
    ]
    return "\n".join(sections).encode()


def upload_course_and_reindex(base: str, passages: int) -> dict:
    upload = httpx.post(
        f"{base}/v1/admin/documents", headers=AUTH, files={"file": ("讲义.txt", course_text(passages))},
        data={"kind": "course"}, timeout=60,
    )
    assert upload.status_code == 201, upload.text
    started = httpx.post(f"{base}/v1/admin/reindex", headers=AUTH)
    assert started.status_code == 202, started.text
    return started.json()


def build_process(server: int) -> int | None:
    """The process a re-index runs in: the server's spawned child (not its resource tracker)."""
    for task in Path(f"/proc/{server}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
    return None



def test_searches_never_fail_during_reindex_and_rollback(index_copy, tmp_path):
    with running_server(index_copy, tmp_path, ADMIN_TOKEN=TOKEN) as base:
        first = httpx.get(f"{base}/readyz").json()["index_version"]
        with searches_running(base, "客户说宽带断了要赔偿") as searches:
            content = json.dumps(SCRIPT, ensure_ascii=False).encode()
            upload = httpx.post(
                f"{base}/v1/admin/documents", headers=AUTH, files={"file": ("s.jsonl", content)}, data={"kind": "script"}
            )
            assert upload.status_code == 201
            with httpx.Client(base_url=base, timeout=30) as admin:
                job = reindex_and_wait(admin, AUTH, second_refused=True)
            assert job["state"] == "succeeded", job
            wait_for(lambda: httpx.get(f"{base}/readyz").json()["index_version"] == job["version"], 10, "no switch")
            assert httpx.post(f"{base}/v1/admin/rollback", headers=AUTH).json()["current"] == first
            wait_for(lambda: httpx.get(f"{base}/readyz").json()["index_version"] == first, 10, "no rollback")
            time.sleep(1)
        assert searches.failures == []
        assert searches.count > 10
        assert {first, job["version"]} <= set(searches.versions)


def test_a_reindex_gives_its_memory_back_and_reports_progress(index_copy, tmp_path):
    # Embedding long texts once left the serving process ~1.4 GB larger for good. Prints what it
    # measured: docs/performance.md, Memory of a re-index.
    passages = 300
    with running_server(index_copy, tmp_path, ADMIN_TOKEN=TOKEN) as base:
        server = listening_pid(int(base.rsplit(":", 1)[1]))
        with httpx.Client(base_url=base, timeout=30) as client:
            searches = ["客户说宽带断了要赔偿", "流量被偷了要双倍赔偿", "营业厅强制办理套餐"]
            assert all(client.post("/v1/search", json={"query": q}).status_code == 200 for q in searches)
            before = rss_mb(server)
            job = upload_course_and_reindex(base, passages)
            progress, build_peak = set(), 0.0
            while job["state"] in ("queued", "running"):
                time.sleep(0.2)
                job = client.get(f"/v1/admin/jobs/{job['id']}", headers=AUTH).json()
                progress.add(job["done"])
                try:
                    child = build_process(server)
                    build_peak = max(build_peak, peak_rss_mb(child) if child else 0.0)
                except FileNotFoundError:  # it just ended
                    pass
            assert job["state"] == "succeeded", job
            wait_for(lambda: client.get("/readyz").json()["index_version"] == job["version"], 10, "no switch")
            assert all(client.post("/v1/search", json={"query": q}).status_code == 200 for q in searches)
            after = rss_mb(server)
        print(
            f"\nre-index of {passages} new passages: serving RSS {before:.0f} MB before, {after:.0f} MB after "
            f"({after / before:.2f} ×); the build process peaked at {build_peak:.0f} MB"
        )
        assert after <= 1.2 * before
        assert job["done"] == job["total"] == passages
        assert any(0 < done < passages for done in progress), progress  # it advanced on the way
        assert 0 < build_peak <= 1536  # batches of a bounded size: ~1 GB, whatever the corpus


def test_a_killed_reindex_process_fails_the_job_and_changes_nothing(index_copy, tmp_path):
    before = current_version(index_copy)
    with running_server(index_copy, tmp_path, ADMIN_TOKEN=TOKEN) as base:
        server = listening_pid(int(base.rsplit(":", 1)[1]))
        job = upload_course_and_reindex(base, 100)

        def state() -> dict:
            return httpx.get(f"{base}/v1/admin/jobs/{job['id']}", headers=AUTH).json()

        wait_for(lambda: state()["done"] > 0, 120, "the re-index never started embedding")
        assert state()["state"] == "running"
        os.kill(build_process(server), signal.SIGKILL)  # what the kernel does when memory runs out
        wait_for(lambda: state()["state"] == "failed", 30, "the job did not fail")
        error = state()["error"]
        assert error == (
            f"BuildFailed: the index build process was killed by signal 9 (Killed) before it finished; the current "
            f"index version ({before}) is unchanged: start the re-index again; if it is killed again, check the "
            "memory left to the service: a build needs ~1 GB beside it"
        )
        assert current_version(index_copy) == before and list_versions(index_copy) == [before]
        assert IndexVersion.load(index_copy).name == before
        response = httpx.post(f"{base}/v1/search", json={"query": "客户说宽带断了要赔偿"}, timeout=30)
        assert response.status_code == 200 and response.json()["index_version"] == before

        # The next re-index removes what the killed one left; the build's log lines reach the server's log.
        job = httpx.post(f"{base}/v1/admin/reindex", headers=AUTH).json()
        wait_for(lambda: state()["state"] != "running", 300, "the second re-index did not finish")
        assert state()["state"] == "succeeded"
        lines = [line for log in tmp_path.glob("server-*.log") for line in log.read_text().splitlines()]
        removed = [json.loads(line) for line in lines if "left by an interrupted build" in line]
        assert removed and removed[0]["logger"] == "huashu" and removed[0]["request_id"]  # as the server's own
        assert [p.name for p in versions_dir(index_copy).iterdir() if p.name.startswith(".building-")] == []


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


def test_a_published_script_is_searchable_and_the_seconds_it_took_are_printed(index_copy, tmp_path):
    # The target: searchable within 10 s of publishing on 2 cores. Printed, not asserted.
    script = {**SCRIPT, "id": "premium-number/e2e-edited", "text": SCRIPT["text"] + "靓号的协议期满后可以申请取消保底。"}
    query = "客户买了尾号888的靓号，每月保底两百太贵想取消"
    with running_server(index_copy, tmp_path, ADMIN_TOKENS=f"editor:{TOKEN}") as base:
        server = listening_pid(int(base.rsplit(":", 1)[1]))
        with httpx.Client(base_url=base, headers=AUTH, timeout=30) as client:
            assert client.get("/v1/admin/whoami").json() == {"label": "editor"}
            assert client.post("/v1/search", json={"query": query}).status_code == 200
            before = rss_mb(server)
            created = client.post(f"/v1/admin/scripts/{script['id']}", json={"script": script})
            assert created.status_code == 201, created.text
            started = time.monotonic()
            revision = created.json()["revision"]
            job = client.post(f"/v1/admin/scripts/{script['id']}/publish", json={"revision": revision})
            assert job.status_code == 202, job.text

            def searchable() -> bool:
                results = client.post("/v1/search", json={"query": query, "top_k": 10}).json()["scripts"]
                return any(s["id"] == script["id"] and s["text"] == script["text"] for s in results)

            wait_for(searchable, 120, "the published script never came up in a search")
            seconds = time.monotonic() - started
            job = client.get(f"/v1/admin/jobs/{job.json()['id']}").json()
            assert job["state"] == "succeeded" and job["done"] == job["total"] >= 1
            change = client.get("/v1/admin/changes", params={"target": script["id"]}).json()["changes"][0]
            assert change["who"] == "editor" and change["after"]["text"] == script["text"]
            after = rss_mb(server)
    print(
        f"\npublish to searchable: {seconds:.1f} s ({job['total']} text(s) embedded in the serving process); "
        f"serving RSS {before:.0f} MB before, {after:.0f} MB after"
    )
    assert after <= 1.2 * before  # built in the serving process: only what one encoder call keeps
