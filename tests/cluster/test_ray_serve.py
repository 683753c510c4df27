"""The service on a real Ray cluster on this machine: a head and a worker node, two ingress
replicas (one per node), the query encoder and the index keeper, started by
`python -m app serve --ray` joining the cluster. The HTTP contract answers through Ray, and a
re-index and a rollback reach every replica while searches keep running, without an error.
Once with what is written in the keeper's data directory, once in a PostgreSQL database
(HUASHU_DATABASE_URL) that every replica writes what it showed to."""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

from app.core.config import REPO_ROOT, Settings
from app.feedback.store import FeedbackStore
from app.store.database import database
from tests.conftest import free_port, reindex_and_wait
from tests.test_admin_e2e import SCRIPT, searches_running, wait_for

TOKEN = "ray-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RAY = str(Path(sys.executable).parent / "ray")
START_TIMEOUT_S = 300
OBJECT_STORE_BYTES = 200 * 1000 * 1000
REPLICAS = 2


def start_node(workdir: Path, name: str, env: dict, *args: str) -> subprocess.Popen:
    """One Ray node in the foreground (`ray start --block`), in a process group of its own: ending
    the group ends the node's processes and nothing else on the machine. Every port is its own, so
    two nodes share this machine."""
    ports = {
        "--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port",
        "--metrics-export-port", "--runtime-env-agent-port",
    }
    command = [
        RAY, "start", "--block", "--num-cpus=2", f"--object-store-memory={OBJECT_STORE_BYTES}",
        "--disable-usage-stats", "--node-ip-address=127.0.0.1", *(f"{p}={free_port()}" for p in sorted(ports)), *args,
    ]
    log = (workdir / f"{name}.log").open("wb")
    return subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM first (a `ray start --block` stops its node's processes; the service takes its
    application off), then the whole group, whatever is left of it."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def ingress_replicas() -> list[int]:
    """The processes of this cluster's ingress replicas (Ray names them by deployment)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ServeReplica:ray-test-huashu:Ingress" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ray_database(request) -> str | None:
    """Where feedback, edits, jobs and what searches showed are kept: SQLite files in the data
    directory (None), or a PostgreSQL database every replica shares (its URL)."""
    return request.getfixturevalue("postgres").create_database() if request.param == "postgresql" else None


@pytest.fixture(scope="module")
def ray_service(index_copy_module, tmp_path_factory, ray_database):
    workdir = tmp_path_factory.mktemp("ray")
    port, gcs_port = free_port(), free_port()
    env = {
        **os.environ,
        **({"HUASHU_DATABASE_URL": ray_database} if ray_database else {}),
        "HUASHU_INDEX_DIR": str(index_copy_module),  # the keeper's; each ingress replica copies into its own
        "HUASHU_DATA_DIR": str(workdir / "data"),
        "ADMIN_TOKEN": TOKEN,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO_ROOT),
        "RAY_USAGE_STATS_ENABLED": "0",
        # Token authentication, with a token of this cluster's own: nothing read from ~/.ray.
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }
    config = yaml.safe_load((REPO_ROOT / "deploy" / "ray-serve.yaml").read_text(encoding="utf-8"))
    config["http_options"] = {"host": "127.0.0.1", "port": port}
    config["proxy_location"] = "HeadOnly"
    application = config["applications"][0]
    application["name"] = "ray-test-huashu"
    for deployment in application["deployments"]:
        deployment.pop("autoscaling_config", None)
        deployment["num_replicas"] = REPLICAS if deployment["name"] == "Ingress" else 1
        if deployment["name"] == "Ingress":
            deployment["max_replicas_per_node"] = 1  # one on each node
    config_file = workdir / "ray-serve.yaml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")

    started = []
    try:
        started.append(start_node(
            workdir, "head", env, "--head", f"--port={gcs_port}", "--include-dashboard=false",
            f"--ray-client-server-port={free_port()}", f"--temp-dir={workdir / 'head'}",
        ))
        wait_for(lambda: _listening(gcs_port), 60, "the head node did not start")
        started.append(start_node(workdir, "worker", env, f"--address=127.0.0.1:{gcs_port}"))
        log = (workdir / "serve.log").open("wb")
        started.append(subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--ray", "--config", str(config_file)],
            env={**env, "RAY_ADDRESS": f"127.0.0.1:{gcs_port}"}, cwd=REPO_ROOT, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        ))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _all_ready(base):
            if started[-1].poll() is not None or time.monotonic() > deadline:
                pytest.fail("the service did not start on Ray:\n" + (workdir / "serve.log").read_text(errors="replace"))
            time.sleep(1)
        yield base
    finally:
        for process in reversed(started):  # the service, then the worker, then the head
            stop(process)


@pytest.fixture(scope="module")
def index_copy_module(tmp_path_factory, settings, index_version, ray_database) -> Path:
    """The keeper's index directory: a copy of the session's version, one for each database."""
    import shutil

    from app.index.store import CURRENT_FILE, versions_dir

    index_dir = tmp_path_factory.mktemp("keeper-index")
    shutil.copytree(versions_dir(settings.index_dir) / index_version, versions_dir(index_dir) / index_version)
    (index_dir / CURRENT_FILE).write_text(index_version + "\n")
    return index_dir


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _all_ready(base: str) -> bool:
    """Every replica ready: several answers in a row from /readyz (requests spread over both)."""
    try:
        return all(httpx.get(f"{base}/readyz", timeout=5).status_code == 200 for _ in range(2 * REPLICAS))
    except httpx.TransportError:
        return False


def versions_served(base: str, answers: int = 6 * REPLICAS) -> Counter:
    return Counter(httpx.get(f"{base}/readyz", timeout=10).json()["index_version"] for _ in range(answers))


def test_two_replicas_one_on_each_node(ray_service):
    assert len(ingress_replicas()) == REPLICAS


def test_the_http_contract_through_ray(ray_service, index_version):
    base = ray_service
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert versions_served(base) == Counter({index_version: 6 * REPLICAS})

    found = httpx.post(f"{base}/v1/search", json={"query": "用户宽带断了三天，张口就要一万块损失费", "top_k": 5}, timeout=30)
    assert found.status_code == 200
    assert {"high-compensation", "broadband-fault"} <= {sid for s in found.json()["scripts"] for sid in s["scenarios"]}
    assert httpx.post(f"{base}/v1/search", json={"query": "   "}).status_code == 422

    call = httpx.post(f"{base}/v1/assist", json={"turns": [{"role": "customer", "text": "流量被偷了，我要双倍赔偿"}]}, timeout=30)
    assert call.status_code == 200, call.text
    assert call.json()["scripts"]

    statute = httpx.get(f"{base}/v1/statutes/合同法/113").json()
    assert ("中华人民共和国民法典", 584) in [(a["law"], a["article_no"]) for a in statute["superseded_by"]]
    assert any(s["id"] == "broadband-fault" for s in httpx.get(f"{base}/v1/scenarios").json()["scenarios"])

    # Admin requests and feedback are answered by the index keeper, whichever replica takes them.
    assert httpx.get(f"{base}/v1/admin/versions", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{base}/v1/admin/versions", headers=AUTH).json()["current"] == index_version
    script_id = found.json()["scripts"][0]["id"]
    for _ in range(REPLICAS * 2):
        given = httpx.post(f"{base}/v1/feedback", json={
            "query": "宽带断了", "script_id": script_id, "signal": "down", "index_version": index_version,
        })
        assert given.status_code == 202, given.text
    summary = httpx.get(f"{base}/v1/admin/feedback/summary", headers=AUTH).json()
    assert [s["down"] for s in summary["scripts"] if s["script_id"] == script_id] == [REPLICAS * 2]


def test_what_every_replica_showed_is_counted_where_the_admin_views_read(ray_service, ray_database):
    base = ray_service
    answers = [
        httpx.post(f"{base}/v1/search", json={"query": "客户说话费被乱扣了，要求三倍赔偿", "top_k": 3}, timeout=30).json()
        for _ in range(4 * REPLICAS)
    ]
    shown = Counter(script["id"] for answer in answers for script in answer["scripts"])

    def counted(rows) -> bool:
        counts = {row["script_id"]: row["shown"] for row in rows}
        return all(counts.get(script_id, 0) >= n for script_id, n in shown.items())

    report = f"{base}/v1/admin/feedback/scripts"
    wait_for(lambda: counted(httpx.get(report, headers=AUTH, timeout=30).json()["scripts"]), 30, "not counted")
    if ray_database:  # written by the replicas to the shared database itself
        store = FeedbackStore(database(Settings(database_url=ray_database), "feedback"))
        assert counted(store.script_counts(None, None))


def test_reindex_and_rollback_reach_every_replica_while_searches_run(ray_service, index_version):
    base = ray_service
    with searches_running(base, "靓号每月最低消费两百太贵想取消保底") as searches:
        content = json.dumps(SCRIPT, ensure_ascii=False).encode()
        upload = httpx.post(
            f"{base}/v1/admin/documents", headers=AUTH, files={"file": ("s.jsonl", content)}, data={"kind": "script"}
        )
        assert upload.status_code == 201, upload.text
        stored = httpx.get(f"{base}/v1/admin/documents", headers=AUTH).json()
        assert [d["id"] for d in stored] == [upload.json()["document"]["id"]]
        with httpx.Client(base_url=base, timeout=30) as admin:
            job = reindex_and_wait(admin, AUTH, second_refused=True)  # one job, on the keeper
        assert job["state"] == "succeeded", job
        new = job["version"]
        wait_for(lambda: set(versions_served(base)) == {new}, 30, "not every replica switched to the new version")
        found = httpx.post(f"{base}/v1/search", json={"query": SCRIPT["situation"], "top_k": 3}, timeout=30).json()
        assert SCRIPT["id"] in [s["id"] for s in found["scripts"]]

        back = httpx.post(f"{base}/v1/admin/rollback", headers=AUTH)
        assert back.status_code == 200, back.text
        assert back.json()["current"] == index_version
        wait_for(lambda: set(versions_served(base)) == {index_version}, 30, "not every replica rolled back")
        time.sleep(1)
    assert searches.failures == []
    assert searches.count > 10
    assert {index_version, new} <= set(searches.versions)
