"""The real service: uvicorn in its own process on a free 127.0.0.1 port, the real model and
index, queried over HTTP."""

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from app.core.config import REPO_ROOT

START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(settings, index_version):
    port = free_port()
    env = {**os.environ, "HUASHU_INDEX_DIR": str(settings.index_dir), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail("server exited:\n" + process.stdout.read().decode(errors="replace"))
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready within {START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_real_server_answers_search_and_statutes(server, index_version):
    ready = httpx.get(f"{server}/readyz").json()
    assert ready["index_version"] == index_version

    response = httpx.post(f"{server}/v1/search", json={"query": "用户宽带断了三天，张口就要一万块损失费", "top_k": 5}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    top = {sid for s in body["scripts"] for sid in s["scenarios"]}
    assert {"high-compensation", "broadband-fault"} <= top

    statute = httpx.get(f"{server}/v1/statutes/合同法/113").json()
    assert ("中华人民共和国民法典", 584) in [(a["law"], a["article_no"]) for a in statute["superseded_by"]]

    bad = httpx.post(f"{server}/v1/search", json={"query": "   "})
    assert bad.status_code == 422
