"""What searches showed, recorded without slowing them: the scripts each answer returned
(counted per UTC day) and the queries whose match was weak or none (the gaps log).

A search only adds to counters in memory; a background thread writes them to the store every
FLUSH_SECONDS, and once more at shutdown. A query reaches the disk only normalised and masked
(app/feedback/mask.py), with its embedding, and is kept GAP_KEEP_DAYS days, at most
GAP_KEEP_ROWS of them.
"""

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from app.core.errors import HuashuError
from app.embedding.encoder import QueryEncoder
from app.feedback.mask import mask_numbers
from app.feedback.store import FeedbackStore, Gap
from app.text.normalize import normalize

log = logging.getLogger("huashu")

FLUSH_SECONDS = 5.0
GAP_LEVELS = ("weak", "none")
# The grouping compares the kept queries pairwise: 5,000 bounds its distance matrix to about
# 100 MB and its time to seconds. A busier service keeps the most recent 5,000.
GAP_KEEP_ROWS = 5000
# A quarter: long enough to see a new kind of complaint build up, short enough that the queries
# (masked, but still an agent's words about a customer) do not pile up.
GAP_KEEP_DAYS = 90
# Shorter queries are what the page searches while the agent is still typing the first word.
GAP_MIN_CHARS = 4
# What waits in memory while the store cannot be written (a locked or full disk): beyond this,
# the oldest gaps are dropped rather than the process growing.
MAX_PENDING_GAPS = 10_000


class UsageRecorder:
    def __init__(
        self,
        store: Callable[[], FeedbackStore],
        encoder: Callable[[], QueryEncoder | None] = lambda: None,
        flush_seconds: float = FLUSH_SECONDS,
    ):
        self._store = store  # called at each flush: an unusable data directory never stops the service
        self._encoder = encoder  # the serving engine's, if one is loaded
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._shown: Counter[tuple[str, str]] = Counter()
        self._gaps: deque[tuple[str, str, str]] = deque(maxlen=MAX_PENDING_GAPS)  # (at, raw query, level)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def shown(self, script_ids: Iterable[str]) -> None:
        """The scripts one answer returned. Microseconds: a lock and a counter."""
        day = datetime.now(UTC).date().isoformat()
        with self._lock:
            for script_id in script_ids:
                self._shown[(day, script_id)] += 1

    def asked(self, query: str, level: str) -> None:
        """A query and its match level: kept for the gaps log when weak or none."""
        if level in GAP_LEVELS:
            at = datetime.now(UTC).isoformat(timespec="seconds")
            with self._lock:
                self._gaps.append((at, query, level))

    def flush(self) -> None:
        """Write what was recorded since the last flush. Raises the store's error (StorageError)
        after putting the counts back, so that nothing is lost when the disk recovers."""
        with self._lock:
            shown, self._shown = self._shown, Counter()
            pending = list(self._gaps)
            self._gaps.clear()
        kept = [(at, text, level) for at, query, level in pending if len(text := kept_query(query)) >= GAP_MIN_CHARS]
        if not shown and not kept:
            return
        try:
            gaps = _with_vectors(kept, self._encoder())
            keep_since = datetime.now(UTC) - timedelta(days=GAP_KEEP_DAYS)
            self._store().add_usage(shown, gaps, keep_since, GAP_KEEP_ROWS)  # all or nothing
        except Exception:
            with self._lock:
                self._shown.update(shown)
                # Before what came in meanwhile; past the bound, the oldest go.
                self._gaps = deque([*pending, *self._gaps], maxlen=MAX_PENDING_GAPS)
            raise

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="usage-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what is left (at shutdown)."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        self._flush_logged()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self._flush_logged()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except HuashuError as e:
            if not self._failing:  # once per outage, not every few seconds
                log.error("cannot record the scripts shown and the gaps, keeping them in memory: %s", e)
            self._failing = True
            return
        except Exception:  # the thread must outlive any error, or nothing is recorded again
            log.exception("recording the scripts shown and the gaps failed")
            return
        if self._failing:
            log.info("recording the scripts shown and the gaps again")
            self._failing = False


def _with_vectors(kept: list[tuple[str, str, str]], encoder: QueryEncoder | None) -> list[Gap]:
    """The gaps with their embeddings, so that grouping them never waits for the model. The
    search has just embedded the same normalised text: unless a number was masked, the
    encoder's query cache answers."""
    if encoder is None or not kept:
        return [Gap(*gap) for gap in kept]
    vectors = encoder.encode_queries([text for _, text, _ in kept])
    return [Gap(*gap, encoder.model_id, vector) for gap, vector in zip(kept, vectors)]


def kept_query(query: str) -> str:
    """A query as the gaps log keeps it: normalised (app/text/normalize.py), numbers masked."""
    return mask_numbers(normalize(query))
