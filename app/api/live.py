"""The engine a process serves, kept on the current index version.

Every process (uvicorn worker or separate server) pointed at one index directory watches its
CURRENT file and swaps to a new version within a second of the switch, without a restart. The
swap replaces one reference: a request in flight finishes on the engine it started with.
"""

import logging
import threading

from app.core.config import Settings
from app.embedding.encoder import Encoder
from app.index.store import IndexVersion, current_version
from app.search.engine import SearchEngine

log = logging.getLogger("huashu")
POLL_SECONDS = 1.0


def load_engine(settings: Settings, encoder: Encoder | None = None) -> SearchEngine:
    """The engine on the current index version, warmed up."""
    engine = SearchEngine(IndexVersion.load(settings.index_dir), encoder or Encoder(settings))
    engine.search("客户投诉")  # the first agent's query should not pay for lazy loading
    return engine


class LiveEngine:
    def __init__(self, settings: Settings, engine: SearchEngine | None = None):
        self.settings = settings
        self.engine = engine
        self.error = "the index is still loading"
        self._stop = threading.Event()
        self._swap_lock = threading.Lock()

    def load(self) -> None:
        """Load the current version (and the model, the first time)."""
        self.engine = load_engine(self.settings, self.engine.encoder if self.engine else None)
        log.info("serving index version %s", self.engine.index.name)

    def refresh(self) -> None:
        """Swap to the current version if it changed; keep serving the old one if it fails."""
        with self._swap_lock:
            wanted = current_version(self.settings.index_dir)
            if wanted is None or (self.engine and self.engine.index.name == wanted):
                return
            try:
                self.load()
            except Exception as e:  # a bad version must never take the service down
                log.error("cannot load index version %s, still serving the previous one: %s", wanted, e)

    def watch(self) -> None:
        threading.Thread(target=self._watch, name="index-watch", daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
