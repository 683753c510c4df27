"""The engine a process serves, kept on the current index version.

Every process (uvicorn worker or separate server) pointed at one index directory watches its
CURRENT file and swaps to a new version within a second of the switch, without a restart. The
swap replaces one reference: a request in flight finishes on the engine it started with. A
version that cannot be loaded (missing, damaged, built by another model) is logged and skipped:
the process keeps serving the version it has, and /readyz names it.

On a Ray cluster (app/cluster/) a replica has an index directory of its own and an `upstream`
that copies the cluster's current version into it first; the switch is then the same.
"""

import logging
import threading
from pathlib import Path
from typing import Protocol

from app.core.config import Settings
from app.embedding.encoder import Encoder, QueryEncoder, model_identity
from app.index.store import IndexVersion, check_version, current_version
from app.search.engine import SearchEngine

log = logging.getLogger("huashu")
POLL_SECONDS = 1.0


def load_engine(settings: Settings, encoder: QueryEncoder | None = None) -> SearchEngine:
    """The engine on the current index version, warmed up."""
    engine = SearchEngine(IndexVersion.load(settings.index_dir), encoder or Encoder(settings))
    engine.search("客户投诉")  # the first agent's query should not pay for lazy loading
    return engine


def preflight(settings: Settings) -> str:
    """Check what `serve` needs before it starts and return the version it will serve: the
    current index version is intact and was built by the configured model, whose directory
    exists. Raises with what to do (the service itself loads the index and the weights)."""
    return check_version(settings.index_dir, None, model_identity(settings))


class Upstream(Protocol):
    def pull(self, index_dir: Path) -> None:
        """Make the current version of the source current in `index_dir`, copied in complete."""


class LiveEngine:
    def __init__(
        self,
        settings: Settings,
        engine: SearchEngine | None = None,
        encoder: QueryEncoder | None = None,
        upstream: Upstream | None = None,
    ):
        """`encoder`: the one to search with (default: the process loads its own); `upstream`:
        where index versions come from when they are not written into this index directory."""
        self.settings = settings
        self.engine = engine
        self.encoder = encoder
        self.upstream = upstream
        self.error = "the index is still loading"
        self.failed_version: str | None = None  # refused once; versions never change, so not retried
        self._stop = threading.Event()
        self._swap_lock = threading.Lock()

    def load(self) -> None:
        """Load the current version (and the model, the first time)."""
        wanted = current_version(self.settings.index_dir)
        try:
            self.engine = load_engine(self.settings, self.engine.encoder if self.engine else self.encoder)
        except Exception:
            self.failed_version = wanted
            raise
        log.info("serving index version %s", self.engine.index.name)

    def refresh(self) -> None:
        """Swap to the current version if it changed; keep serving the old one if it fails."""
        with self._swap_lock:
            self.pull()
            wanted = current_version(self.settings.index_dir)
            if wanted is None or wanted == self.failed_version or (self.engine and self.engine.index.name == wanted):
                return
            try:
                self.load()
            except Exception as e:  # a bad version must never take the service down
                if self.engine is None:
                    self.error = str(e)
                    log.error("cannot load index version %s, nothing to serve: %s", wanted, e)
                else:
                    log.error(
                        "cannot load index version %s, still serving %s: %s", wanted, self.engine.index.name, e
                    )

    def pull(self) -> None:
        """Copy the upstream's current version in, if there is an upstream; when it cannot be
        reached, keep serving what is here."""
        if self.upstream is None:
            return
        try:
            self.upstream.pull(self.settings.index_dir)
        except Exception as e:
            log.error("cannot follow the cluster's index version, still serving what this replica has: %s", e)

    def watch(self) -> None:
        threading.Thread(target=self._watch, name="index-watch", daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.refresh()
            except Exception:  # the watcher must outlive any error, or the process stops following
                log.exception("index watch failed; retrying")

    def stop(self) -> None:
        self._stop.set()
