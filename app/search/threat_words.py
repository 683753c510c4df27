"""Threats read by their words: the character n-grams of the threat reader's authored lines, weighed by a
logistic regression.

The embedding ranks by topic: "明天让你们店里所有人都躺着出来" is as near to "OK 那我明天去门店" as to any threat,
for both speak of a shop and tomorrow. Character n-grams weigh the wording itself (躺着出来, 要人命, 有他好看),
which the authored threats share with threats no cue names. On eval/threats.jsonl, beside the nearest
neighbours, they read more blind threats for as few look-alikes (docs/evaluation.md, "Threats read by their
words"); a text is a threat by its words only at a probability of PROBABILITY or more, so that the words of an
ordinary complaint never are.

Fitted at build with scikit-learn (TF-IDF of 1- to 3-grams, as NGRAMS; a balanced logistic regression) and
read here with numpy alone, so the service does not import scikit-learn.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

import numpy as np

NGRAMS = (1, 3)
MIN_LINES = 2  # an n-gram of a single line is that line's, not a threat's
REGULARISATION = 4.0  # the logistic regression's C
# Of 0.90, 0.95 and 0.97, the lowest probability at which at most 2 % of the look-alikes of
# eval/threats.jsonl read as threats and no dev call without a threat is raised to `high`.
PROBABILITY = 0.97
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's char analyzer folds them


@dataclass(frozen=True)
class ThreatWords:
    ngrams: tuple[str, ...]
    idf: np.ndarray  # (ngrams,)
    coef: np.ndarray  # (ngrams,)
    intercept: float

    @cached_property
    def _columns(self) -> dict[str, int]:
        return {gram: i for i, gram in enumerate(self.ngrams)}

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """The probability that each normalised text is a threat, by its words."""
        index = self._columns
        scores = []
        for text in texts:
            counts = Counter(g for g in _char_ngrams(text) if g in index)
            columns = np.array([index[g] for g in counts], dtype=np.int64)
            weights = np.array([1 + math.log(n) for n in counts.values()]) * self.idf[columns]
            norm = np.linalg.norm(weights)
            scores.append(float(weights @ self.coef[columns]) / norm if norm else 0.0)
        return 1 / (1 + np.exp(-(np.array(scores) + self.intercept)))

    @classmethod
    def fit(cls, threats: list[str], others: list[str]) -> "ThreatWords":
        from sklearn.feature_extraction.text import TfidfVectorizer  # at build only
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=MIN_LINES)
        features = vectorizer.fit_transform(threats + others)
        labels = np.array([1] * len(threats) + [0] * len(others))
        model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000).fit(features, labels)
        return cls(
            tuple(vectorizer.get_feature_names_out().tolist()),
            vectorizer.idf_.astype(np.float64),
            model.coef_[0].astype(np.float64),
            float(model.intercept_[0]),
        )


def _char_ngrams(text: str) -> list[str]:
    text = _WHITE_SPACES.sub(" ", text.lower())
    low, high = NGRAMS
    return [text[i : i + n] for n in range(low, high + 1) for i in range(len(text) - n + 1)]
