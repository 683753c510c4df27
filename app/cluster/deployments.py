"""The service as three Ray Serve deployments (`python -m app serve --ray`; replicas, autoscaling
and CPUs in deploy/ray-serve.yaml, a Ray Serve config file).

- Ingress: the FastAPI service itself (create_app), as many replicas as the config asks. Each
  embeds queries with the QueryEncoder deployment and keeps its own copy of the index versions in
  a directory of its own, copied from the IndexKeeper: no file system is shared between nodes.
- QueryEncoder: the query embeddings; concurrent requests of every ingress replica are encoded
  in one batch.
- IndexKeeper: one replica, the home of what is written: it answers the admin requests (uploads,
  re-index, rollback) and the agents' feedback that the ingress replicas hand on, on its own
  HUASHU_INDEX_DIR and HUASHU_DATA_DIR (give its node persistent volumes), and hands the ingress
  replicas the current version's name and files. With HUASHU_DATABASE_URL, feedback, edits and
  jobs are in PostgreSQL, and every replica writes the scripts it showed and the gaps log there.

The guarantees of one machine hold: a replica copies a version in full and checks every file
against its manifest before its own CURRENT names it (complete before it serves); it then
swaps its engine by one reference (atomic per request); a rollback moves the keeper's CURRENT,
and every replica follows within about a second.
"""

import asyncio
import logging
import logging.config
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

import numpy as np
import ray
import yaml
from ray import serve
from ray.serve.handle import DeploymentHandle

from app.api.forward import answer_forwarded
from app.api.main import create_app
from app.core.config import REPO_ROOT, Settings, get_settings
from app.core.logging import logging_config
from app.embedding.encoder import Encoder
from app.index.store import current_version, list_versions, prune_versions, receive_version, set_current, version_files

log = logging.getLogger("huashu")
CONFIG_FILE = REPO_ROOT / "deploy" / "ray-serve.yaml"
CALL_TIMEOUT_S = 60
REPLICA_DIR_PREFIX = "huashu-replica-index-"
COPY_TIMEOUT_S = 600  # a version is ~20 MB: minutes only on a very slow network


@serve.deployment(name="QueryEncoder")
class QueryEncoderDeployment:
    def __init__(self):
        self.encoder = Encoder(get_settings())

    def identity(self) -> tuple[str, int]:
        return self.encoder.model_id, self.encoder.dimension

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.005)
    async def encode(self, requests: list[list[str]]) -> list[np.ndarray]:
        """Each request is the texts of one search (the query and its clauses); all of them in
        one pass, in a thread so the replica keeps collecting the next batch meanwhile."""
        vectors = await asyncio.to_thread(self.encoder.encode_queries, [t for texts in requests for t in texts])
        bounds = np.cumsum([0] + [len(texts) for texts in requests])
        return [vectors[start:end] for start, end in zip(bounds[:-1], bounds[1:])]


def configured(settings: Settings) -> Settings:
    """A replica logs as `python -m app serve` does (HUASHU_LOG_FORMAT, HUASHU_LOG_LEVEL), to its
    stderr, which Ray keeps with the replica's other logs."""
    logging.config.dictConfig(logging_config(settings.log_format, settings.log_level))
    return settings


class RemoteEncoder:
    """The QueryEncoder deployment as a search engine's encoder (app.embedding.encoder.QueryEncoder).
    Searches run in the service's thread pool, so waiting for the answer blocks one thread only."""

    def __init__(self, handle: DeploymentHandle, model_id: str, dimension: int):
        self.handle, self.model_id, self.dimension = handle, model_id, dimension

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.handle.encode.remote(texts).result(timeout_s=CALL_TIMEOUT_S)


async def remote_encoder(handle: DeploymentHandle) -> RemoteEncoder:
    model_id, dimension = await handle.identity.remote()
    return RemoteEncoder(handle, model_id, dimension)


class KeeperUpstream:
    """Where an ingress replica's index versions come from (app.api.live.Upstream)."""

    def __init__(self, keeper: DeploymentHandle, keep_versions: int):
        self.keeper, self.keep_versions = keeper, keep_versions

    def pull(self, index_dir: Path) -> None:
        wanted = self.keeper.current.remote().result(timeout_s=CALL_TIMEOUT_S)
        if wanted is None:
            return
        if wanted not in list_versions(index_dir):
            log.info("copying index version %s from the index keeper", wanted)
            files = self.keeper.files.remote(wanted).result(timeout_s=COPY_TIMEOUT_S)
            receive_version(index_dir, wanted, files)
        if current_version(index_dir) != wanted:
            set_current(index_dir, wanted)
            prune_versions(index_dir, self.keep_versions)


@serve.deployment(name="IndexKeeper", num_replicas=1)
class IndexKeeper:
    async def __init__(self, encoder: DeploymentHandle):
        self.settings = configured(get_settings())
        self.app = create_app(self.settings, encoder=await remote_encoder(encoder))
        # Requests reach this app from the ingress replicas, not from Serve's proxy: its lifespan
        # (loading the index, following CURRENT) is started here.
        self.lifespan = self.app.router.lifespan_context(self.app)
        await self.lifespan.__aenter__()

    def current(self) -> str | None:
        return current_version(self.settings.index_dir)

    def files(self, version: str) -> dict[str, bytes]:
        return version_files(self.settings.index_dir, version)

    async def answer(self, request: dict) -> dict:
        return await answer_forwarded(self.app, request)

    async def __del__(self):
        await self.lifespan.__aexit__(None, None, None)


@serve.deployment(name="Ingress")
@serve.ingress()
class Ingress:
    async def __init__(self, encoder: DeploymentHandle, keeper: DeploymentHandle):
        self.keeper = keeper
        self.encoder = await remote_encoder(encoder)
        await keeper.current.remote()  # the keeper is up: the first copy of the index can start
        self.index_dir = replica_index_dir()
        self.settings = configured(get_settings()).model_copy(update={"index_dir": self.index_dir})

    def __serve_build_asgi_app__(self):
        return create_app(
            self.settings, encoder=self.encoder, upstream=KeeperUpstream(self.keeper, self.settings.keep_versions),
            admin_elsewhere=self.forward,
        )

    async def forward(self, request: dict) -> dict:
        return await self.keeper.answer.remote(request)

    def __del__(self):
        shutil.rmtree(self.index_dir, ignore_errors=True)


def replica_index_dir() -> Path:
    """A new index directory for this replica, named by its process. A replica stopped without
    its destructor (a node shut down at once) leaves its directory behind: those of processes that
    no longer exist are removed here."""
    for stale in Path(tempfile.gettempdir()).glob(f"{REPLICA_DIR_PREFIX}*"):
        pid = stale.name.removeprefix(REPLICA_DIR_PREFIX).split("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{REPLICA_DIR_PREFIX}{os.getpid()}-"))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def build(options: dict[str, dict] | None = None):
    """The application, each deployment with its options from the config file (by name)."""
    options = options or {}
    encoder = QueryEncoderDeployment.options(**options.get("QueryEncoder", {})).bind()
    keeper = IndexKeeper.options(**options.get("IndexKeeper", {})).bind(encoder)
    return Ingress.options(**options.get("Ingress", {})).bind(encoder, keeper)


app = build()  # what `serve run deploy/ray-serve.yaml` and KubeRay's serveConfigV2 import


def read_config(path: Path) -> dict:
    """deploy/ray-serve.yaml: a Ray Serve config file with one application."""
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    applications = config.get("applications") or [{}]
    if len(applications) != 1:
        raise ValueError(f"{path} must describe one application, not {len(applications)}")
    return config


def run(config_path: Path = CONFIG_FILE) -> None:
    """Start Ray locally, or join the cluster at RAY_ADDRESS, deploy the service and wait until
    stopped (Ctrl-C or SIGTERM), then take it off the cluster."""
    config = read_config(config_path)
    application = config["applications"][0]
    options = {d["name"]: {k: v for k, v in d.items() if k != "name"} for d in application.get("deployments", [])}
    address = os.environ.get("RAY_ADDRESS")
    if not address:
        # Workers of a local cluster start from this environment: they import the service from here.
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    ray.init(address=address or "local", namespace="huashu", log_to_driver=False)
    serve.start(proxy_location=config.get("proxy_location", "EveryNode"), http_options=config.get("http_options", {}))
    name = application.get("name", "huashu")
    serve.run(build(options), name=name, route_prefix=application.get("route_prefix", "/"))
    http = config.get("http_options", {})
    print(f"serving on http://{http.get('host', '127.0.0.1')}:{http.get('port', 8000)} (Ray Serve application {name})",
          flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    serve.delete(name)
    serve.shutdown()
