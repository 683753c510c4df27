"""The gaps log grouped by meaning: what agents keep asking that the scripts do not cover.

Each kept query carries its embedding by the service's encoder, made when it was written (a
query kept without one, or by another model, is embedded here once and cached by text), and the
queries are grouped by average-linkage clustering on cosine similarity (scipy): two groups merge
while the mean similarity between their members is at least GROUP_AT. Average linkage does not
depend on the order the queries came in, and one stray query cannot chain two topics together as
single linkage would. GROUP_AT was chosen on paraphrases of eight topics with this model: at
0.55 no group mixed two topics and one topic split in two; at 0.5 one group mixed two
(tests/feedback/test_gaps.py holds groups it must find).

A group's nearest scenario is the scenario whose description or customer sayings (the index's
`scenarios` and `exemplars` vectors, as the search matches them) are closest to the group's
centroid.
"""

import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.feedback.store import Gap
from app.search.engine import SearchEngine

GROUP_AT = 0.55
EXAMPLES = 5
ENCODE_BATCH = 64


@dataclass(frozen=True)
class NearestScenario:
    id: str
    name: str
    score: float


@dataclass(frozen=True)
class GapGroup:
    size: int  # queries in the group (a query asked twice counts twice)
    examples: list[str]  # distinct queries, the most asked first, at most EXAMPLES
    levels: dict[str, int]  # {"weak": n, "none": n}
    nearest_scenario: NearestScenario | None
    last_seen: str


class GapGrouper:
    """Keeps the embeddings of the kept queries between requests (the log changes little)."""

    def __init__(self):
        self._vectors: dict[str, np.ndarray] = {}
        self._model_id: str | None = None
        self._lock = threading.Lock()

    def group(self, engine: SearchEngine, gaps: list[Gap], min_size: int = 1) -> list[GapGroup]:
        """Groups of at least `min_size` queries, largest first (then the most recent)."""
        if not gaps:
            return []
        asked = Counter(gap.query for gap in reversed(gaps))  # the most recent first among equals
        texts = sorted(asked, key=lambda t: -asked[t])  # the most asked first: the examples' order
        model_id = engine.encoder.model_id
        stored = {gap.query: gap.vector for gap in gaps if gap.model == model_id and gap.vector is not None}
        vectors = self._embed(engine, texts, stored)
        labels = _clusters(vectors)
        distinct: dict[int, list[int]] = {}  # label -> positions in texts, the most asked first
        for i, label in enumerate(labels):
            distinct.setdefault(label, []).append(i)
        label_of = dict(zip(texts, labels))
        rows: dict[int, list[Gap]] = {}
        for gap in gaps:
            rows.setdefault(label_of[gap.query], []).append(gap)
        groups = []
        for label, positions in distinct.items():
            if len(rows[label]) < min_size:
                continue
            weights = np.array([asked[texts[i]] for i in positions], dtype=np.float32)
            centroid = weights @ vectors[positions]
            levels = Counter(gap.level for gap in rows[label])
            groups.append(
                GapGroup(
                    size=len(rows[label]),
                    examples=[texts[i] for i in positions[:EXAMPLES]],
                    levels={"weak": levels["weak"], "none": levels["none"]},
                    nearest_scenario=nearest_scenario(engine, centroid / np.linalg.norm(centroid)),
                    last_seen=max(gap.at for gap in rows[label]),
                )
            )
        groups.sort(key=lambda g: g.last_seen, reverse=True)
        groups.sort(key=lambda g: g.size, reverse=True)  # stable: the most recent first among equals
        return groups

    def _embed(self, engine: SearchEngine, texts: list[str], stored: dict[str, np.ndarray]) -> np.ndarray:
        """The texts' vectors: as stored with the log when the same model made them, otherwise
        embedded here once (a log kept from before, another model) and cached."""
        with self._lock:
            if self._model_id != engine.encoder.model_id:
                self._vectors, self._model_id = {}, engine.encoder.model_id
            # Only what the log still holds stays cached: the cache is as bounded as the log.
            self._vectors = {t: self._vectors[t] for t in texts if t in self._vectors and t not in stored}
            missing = [t for t in texts if t not in self._vectors and t not in stored]
        for start in range(0, len(missing), ENCODE_BATCH):
            batch = missing[start : start + ENCODE_BATCH]
            encoded = engine.encoder.encode_queries(batch)
            with self._lock:
                self._vectors.update(zip(batch, encoded))
        with self._lock:
            return np.stack([stored[t] if t in stored else self._vectors[t] for t in texts])


def _clusters(vectors: np.ndarray) -> list[int]:
    """A group label per vector (L2-normalised rows)."""
    if len(vectors) == 1:
        return [0]
    from scipy.cluster.hierarchy import fcluster, linkage  # only the admin's gaps view needs it

    tree = linkage(vectors.astype(np.float64), method="average", metric="cosine")
    return [int(label) for label in fcluster(tree, t=1 - GROUP_AT, criterion="distance")]


def nearest_scenario(engine: SearchEngine, vector: np.ndarray) -> NearestScenario | None:
    """The scenario whose description or a customer saying of it is closest to `vector`."""
    collections = engine.index.collections
    best: tuple[float, str] | None = None
    for name, scenario_of in (("scenarios", lambda r: r.id), ("exemplars", lambda r: r.scenario)):
        found = collections[name].dense.search(vector, 1)
        for position, score in found.items():
            if best is None or score > best[0]:
                best = (score, scenario_of(collections[name].records[position]))
    if best is None:
        return None
    score, scenario_id = best
    return NearestScenario(scenario_id, engine.scenario_names.get(scenario_id, scenario_id), round(score, 4))

