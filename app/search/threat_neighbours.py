"""Threats said in words no rule names, read by meaning.

The threat rules (app/call/escalation.py) read what they name, in context; on threats written blind they read
fewer than a quarter (docs/evaluation.md, "Threats written blind"). This reader compares the query embedding
of a customer's words with authored lines: they are a threat when their nearest authored threats
(corpus/threats.txt, corpus/self-harm.txt) are closer, by MARGIN or more, than their nearest lines authored
as none. Those are the look-alikes (corpus/threat-look-alikes.txt: anger, figures of speech, lawful steps,
denied threats, calm talk), the scenarios' sayings but those of the scenarios about threats
(THREAT_SCENARIOS), and the clauses of both, so that a short clause of an ordinary complaint ("那你们就抓紧吧")
has neighbours of its own. The NEIGHBOURS nearest of each side are averaged, so that no single line decides.
Nearest neighbours, not a linear probe: a probe fitted on such lines read fewer unseen threats and read short
clauses as threats (docs/evaluation.md).

Beside the nearest lines, the same lines' words (app/search/threat_words.py): a threat's wording tells it
from a complaint of the same topic, which the embedding does not.

A threat is one against the speaker's own life when its nearest threats of self-harm are nearer, on the same
mean, than its nearest threats of violence: the agent then handles a customer at risk, not only a threat.

Built with the index and kept in the version; the vectors are kept by the normalised text's hash, so the
next build encodes only new lines.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from app.search.threat_words import PROBABILITY, ThreatWords
from app.text.normalize import normalize, split_clauses

FILE_NAME = "threat-neighbours.npz"
NEIGHBOURS = 5
# How much nearer the threats than the non-threats must be: the lowest margin, in steps of 0.01, at which
# at most 2 % of the look-alikes of eval/threats.jsonl read as threats and no dev call without a threat
# is raised to `high` (docs/evaluation.md).
MARGIN = 0.02
# Where the words were measured: every threat of eval/threats.jsonl that its words alone read (none is longer
# than 60 characters) has a margin above -0.10. Beyond that, a long narration read whole or a short agent's note
# ("cx 称好的"), both far nearer the non-threats, could reach PROBABILITY when the scenarios' sayings changed.
WORDS_MIN_MARGIN = -0.15
WORDS_MAX_CHARS = 60
# Scenarios whose sayings include threats: they are neither threats nor counter-examples here.
THREAT_SCENARIOS = ("abnormal-complaint", "vulnerable-customer")
Threat = Literal["violence", "self-harm"]


@dataclass(frozen=True)
class ThreatNeighbours:
    hashes: tuple[str, ...]  # sha256 of each normalised line, for reuse by the next build
    vectors: np.ndarray  # (lines, dimension), query-side
    is_threat: np.ndarray  # (lines,) bool
    is_self_harm: np.ndarray  # (lines,) bool: the threats against the speaker's own life
    inputs: str  # sha256 of what it was built from: the same inputs give the same reader
    words: ThreatWords | None = None  # the same lines read by their words; None in an older version

    def margins(self, vectors: np.ndarray) -> np.ndarray:
        """For each row: the mean cosine with its NEIGHBOURS nearest threats less that with its nearest non-threats."""
        return self._margins(vectors @ self.vectors.T)

    def read(self, texts: list[str], vectors: np.ndarray) -> list[Threat | None]:
        """For each normalised text and its query vector: None when it is no threat, by its nearest lines
        or by its words where they were measured, else the kind of threat its nearest threats are."""
        similarity = vectors @ self.vectors.T
        violence = self.is_threat & ~self.is_self_harm
        own_life = np.zeros(len(vectors), dtype=bool)
        if self.is_self_harm.any() and violence.any():
            own_life = _nearest_mean(similarity[:, self.is_self_harm]) > _nearest_mean(similarity[:, violence])
        margins = self._margins(similarity)
        threat = margins >= MARGIN
        if self.words is not None:
            measured = (margins >= WORDS_MIN_MARGIN) & (np.array([len(t) for t in texts]) <= WORDS_MAX_CHARS)
            threat |= measured & (self.words.probabilities(texts) >= PROBABILITY)
        return [("self-harm" if own else "violence") if t else None for t, own in zip(threat, own_life)]

    def _margins(self, similarity: np.ndarray) -> np.ndarray:
        return _nearest_mean(similarity[:, self.is_threat]) - _nearest_mean(similarity[:, ~self.is_threat])

    def known(self) -> dict[str, np.ndarray]:
        return dict(zip(self.hashes, self.vectors))

    def save(self, directory: Path) -> None:
        np.savez(
            directory / FILE_NAME,
            hashes=np.array(self.hashes, dtype=str),
            vectors=self.vectors,
            is_threat=self.is_threat,
            is_self_harm=self.is_self_harm,
            inputs=np.array(self.inputs),
            **(_words_arrays(self.words) if self.words is not None else {}),
        )

    @classmethod
    def load(cls, directory: Path) -> "ThreatNeighbours | None":
        """None for a version built without one (a corpus without threat lines, or an older version)."""
        path = directory / FILE_NAME
        if not path.exists():
            return None
        with np.load(path) as data:
            # a version built before threats of self-harm were told apart has them among the others
            self_harm = data["is_self_harm"] if "is_self_harm" in data.files else np.zeros_like(data["is_threat"])
            words = None
            if "ngrams" in data.files:
                words = ThreatWords(
                    tuple(data["ngrams"].tolist()), data["idf"], data["coef"], float(data["intercept"])
                )
            return cls(
                tuple(data["hashes"].tolist()), data["vectors"], data["is_threat"], self_harm, str(data["inputs"]),
                words,
            )


def _words_arrays(words: ThreatWords) -> dict[str, np.ndarray]:
    return {
        "ngrams": np.array(words.ngrams, dtype=str), "idf": words.idf, "coef": words.coef,
        "intercept": np.array(words.intercept),
    }


def _nearest_mean(similarity: np.ndarray) -> np.ndarray:
    k = min(NEIGHBOURS, similarity.shape[1])
    return np.partition(similarity, -k, axis=1)[:, -k:].mean(axis=1)


def authored_lines(
    threats: list[str], self_harm: list[str], look_alikes: list[str], sayings: list[str]
) -> tuple[list[str], list[str], list[str]]:
    """The threats of violence, those of self-harm and the lines that are none, normalised as a query is,
    each once; the lines that are none include their clauses."""
    self_harm_lines = list(dict.fromkeys(normalize(t) for t in self_harm))
    threat_lines = [t for t in dict.fromkeys(normalize(t) for t in threats) if t not in set(self_harm_lines)]
    whole = [normalize(t) for t in look_alikes + sayings]
    clauses = [c for t in whole for c in split_clauses(t)]
    known = set(threat_lines + self_harm_lines)
    return threat_lines, self_harm_lines, [t for t in dict.fromkeys(whole + clauses) if t not in known]


def reader_inputs(model_id: str, code_sha256: str, threats: list[str], self_harm: list[str], others: list[str]) -> str:
    data = json.dumps([model_id, code_sha256, threats, self_harm, others], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
