"""Which scenario a query is about, from a linear model over its embedding.

Nearest neighbours ask which single saying or description a query is closest to, and an implied
demand ("上回隔壁老王你们给了一千五") is often closest to a saying of another scenario. A
multinomial logistic regression over every scenario's sayings (`says`) and its description
weighs every direction of the embedding that tells the scenarios apart. It is fitted at each
index build (in about a second) and kept in the version; search adds its probabilities to the
scenario scores (`Weights.scenario_probe`).

A saying is fitted twice: as the index stores it (the passage prompt) and as a customer's query
is encoded (the query prompt, normalised as search normalises), since the probe reads query
vectors; the descriptions once, as stored. The query-side vectors are kept with the probe by the
normalised text's hash, so the next fit encodes only new sayings (docs/evaluation.md).
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE_NAME = "scenario-probe.npz"
# Inverse regularisation: 10 separated the dev sets' scenarios better than 3 (docs/evaluation.md).
PROBE_C = 10.0


@dataclass(frozen=True)
class ScenarioProbe:
    scenarios: tuple[str, ...]
    coef: np.ndarray  # (scenarios, dimension)
    intercept: np.ndarray  # (scenarios,)
    inputs: str  # sha256 of what it was fitted on: the same inputs give the same probe
    said: dict[str, np.ndarray]  # the query-side vectors of the sayings, by the normalised text's sha256

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        logits = self.coef @ vector + self.intercept
        p = np.exp(logits - logits.max())
        return dict(zip(self.scenarios, (p / p.sum()).tolist()))

    @classmethod
    def fit(
        cls, vectors: np.ndarray, labels: list[str], inputs: str, said: dict[str, np.ndarray]
    ) -> "ScenarioProbe | None":
        """None when there are fewer than two scenarios to tell apart."""
        if len(set(labels)) < 2:
            return None
        # Imported here: only a build that fits a probe needs scikit-learn, never a search.
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=PROBE_C, max_iter=5000).fit(vectors, labels)
        return cls(*class_rows(model), inputs, said)

    def save(self, directory: Path) -> None:
        np.savez(
            directory / FILE_NAME,
            scenarios=np.array(self.scenarios),
            coef=self.coef,
            intercept=self.intercept,
            inputs=np.array(self.inputs),
            said_hashes=np.array(list(self.said), dtype=str),
            # (sayings, dimension) even with none: a corpus may give its scenarios descriptions only
            said_vectors=np.array(list(self.said.values()), dtype=np.float32).reshape(
                len(self.said), self.coef.shape[1]
            ),
        )

    @classmethod
    def load(cls, directory: Path) -> "ScenarioProbe | None":
        """None for a version built without one (before probes, or with a single scenario)."""
        path = directory / FILE_NAME
        if not path.exists():
            return None
        with np.load(path) as data:
            said = {}
            if "said_hashes" in data:  # a version built before the query-side vectors has none to reuse
                said = dict(zip(data["said_hashes"].tolist(), data["said_vectors"]))
            return cls(tuple(data["scenarios"].tolist()), data["coef"], data["intercept"], str(data["inputs"]), said)


def class_rows(model) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """A fitted multinomial logistic regression's classes, and a row of weights and an intercept per class."""
    coef = model.coef_.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if len(model.classes_) == 2:  # a binary fit has one row, the second class's log-odds
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.r_[np.float32(0), intercept]
    return tuple(str(c) for c in model.classes_), coef, intercept


def probe_inputs(model_id: str, code_sha256: str, labels: list[str], text_hashes: list[str]) -> str:
    """The digest of what a probe is fitted from: the model, the code that fits it and each labelled
    text."""
    data = json.dumps([model_id, code_sha256, list(zip(labels, text_hashes))], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
