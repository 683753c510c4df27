"""Which scenario a query is about, from its characters.

The scenario probe (scenario_probe.py) reads the embedding, and a small encoder often misses what a
few characters say plainly: "按天算工钱…白丢了三天活…打车钱" is lost working time, "合同写的三百，我晚上测一次
二十八" a broadband speed below the contract. A multinomial logistic regression over the character
1- to 3-grams of every scenario's sayings (`says`) and its description, tf-idf weighted, reads them.
Characters rather than jieba's words: a misheard word, a Cantonese one or a typo still shares most of
its characters with the word meant, and the n-grams need no dictionary.

It is fitted at each index build (in seconds) and kept in the version; search adds its probabilities to
the scenario scores beside the probe's (`Weights.scenario_words`). A search computes the features
itself, without scikit-learn: (1 + log count) × idf per n-gram, scaled to length 1, as scikit-learn's
TfidfVectorizer(analyzer="char", sublinear_tf=True) does.
"""

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.search.scenario_probe import class_rows

FILE_NAME = "scenario-words.npz"
NGRAMS = (1, 2, 3)
# An n-gram of fewer texts is left out: it says which text, not which scenario.
MIN_TEXTS = 2
# Inverse regularisation: 100 read the dev sets' implied demands better than 30, and 300 no better (docs/evaluation.md).
WORDS_C = 100.0
_SPACES = re.compile(r"\s+")


def char_grams(text: str) -> list[str]:
    """The character n-grams of a normalised text, runs of white space read as one space."""
    text = _SPACES.sub(" ", text)
    return [text[i : i + n] for n in NGRAMS for i in range(len(text) - n + 1)]


@dataclass(frozen=True)
class ScenarioWords:
    scenarios: tuple[str, ...]
    grams: dict[str, int]  # n-gram -> column
    idf: np.ndarray  # (grams,)
    coef: np.ndarray  # (scenarios, grams)
    intercept: np.ndarray  # (scenarios,)
    inputs: str  # sha256 of what it was fitted on: the same inputs give the same model

    def probabilities(self, text: str) -> dict[str, float]:
        """For a normalised text, each scenario's probability; the prior alone for a text of no known n-gram."""
        counts = Counter(self.grams[g] for g in char_grams(text) if g in self.grams)
        logits = self.intercept.astype(np.float64)
        if counts:
            columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[columns]
            logits = logits + self.coef[:, columns] @ (weights / np.linalg.norm(weights))
        p = np.exp(logits - logits.max())
        return dict(zip(self.scenarios, (p / p.sum()).tolist()))

    @classmethod
    def fit(cls, texts: list[str], labels: list[str], inputs: str) -> "ScenarioWords | None":
        """On normalised texts; None when there are fewer than two scenarios to tell apart."""
        if len(set(labels)) < 2:
            return None
        # Imported here: only a build that fits the model needs scikit-learn, never a search.
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(analyzer=char_grams, sublinear_tf=True, min_df=MIN_TEXTS)
        features = vectorizer.fit_transform(texts)
        grams = {g: i for i, g in enumerate(vectorizer.get_feature_names_out().tolist())}
        scenarios, coef, intercept = class_rows(LogisticRegression(C=WORDS_C, max_iter=5000).fit(features, labels))
        return cls(scenarios, grams, vectorizer.idf_.astype(np.float32), coef, intercept, inputs)

    def save(self, directory: Path) -> None:
        np.savez(
            directory / FILE_NAME,
            scenarios=np.array(self.scenarios),
            grams=np.array(list(self.grams), dtype=str),
            idf=self.idf,
            coef=self.coef,
            intercept=self.intercept,
            inputs=np.array(self.inputs),
        )

    @classmethod
    def load(cls, directory: Path) -> "ScenarioWords | None":
        """None for a version built without one."""
        path = directory / FILE_NAME
        if not path.exists():
            return None
        with np.load(path) as data:
            grams = {g: i for i, g in enumerate(data["grams"].tolist())}
            return cls(
                tuple(data["scenarios"].tolist()), grams, data["idf"], data["coef"], data["intercept"],
                str(data["inputs"]),
            )
