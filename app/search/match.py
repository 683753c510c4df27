"""How well a search's answer fits the query: a calibrated confidence and a level.

A fused score is min-max normalised per query, so it says which script is best, never whether
the best is any good: a gas bill gets scripts ranked as confidently as a real complaint. The
match is decided from signals that keep their scale across queries: the query's cosine with the
nearest script and scenario, the same set against `corpus/elsewhere.txt` (matters that are not
telecom complaints), each for the whole query and for its best clause (a complaint padded with
small talk is judged by its complaint), the raw BM25 score of the best script, two linear
probes on the query's embedding, one on its words and how sure the scenarios' character model
is. Nearest-neighbour cosines say how close the query is to one text; a probe weighs every
direction of the embedding that tells the library's complaints from authored queries it does
not cover: `telecom` from matters of other trades, `covered` from those and telecom enquiries
no scenario covers (the latter also for the best clause). `telecom_words` tells complaints from
other trades by the words alone: a gym's contract penalty reads like a complaint to the
embedding, but says nothing of 宽带, 流量 or 套餐. `scenario_words` is how sure the scenarios'
character model (scenario_words.py) is of one scenario: a complaint names its matter in a few
characters, another trade's matter spreads its probability thin.

Two logistic models over those signals are fitted on labelled queries by `python -m app
calibrate` and stored in match.json beside this file: how likely the first script fits, and how
likely the query is not a telecom matter at all. Their thresholds are set on the in-scope
queries (at most 2 % of them `none`, at most 10 % below `strong`).
"""

import json
import logging
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger("huashu")

CALIBRATION_FILE = Path(__file__).with_name("match.json")
FEATURES = (
    "script_cosine", "scenario_cosine", "margin", "clause_margin", "clause_scenario_margin", "bm25", "telecom",
    "covered", "clause_covered", "telecom_words", "scenario_words",
)
# What a `none` answer offers instead of look-alikes: listening, clarifying, committing to a reply.
GENERAL_SCENARIOS = ("intake-listening", "clarification", "resolution-commitment")
REASONS = {
    "strong": "话术库中有与这个诉求相符的话术。",
    "weak": "只找到部分相符的话术，请核对后再用。",
    "none": "这看起来不是话术库覆盖的电信投诉；下面是通用的受理话术。",
}


@dataclass(frozen=True)
class Match:
    level: str  # strong, weak or none
    confidence: float
    reason: str


@dataclass(frozen=True)
class LogisticModel:
    coef: tuple[float, ...]
    intercept: float

    def probability(self, z: list[float]) -> float:
        return 1.0 / (1.0 + math.exp(-(sum(c * x for c, x in zip(self.coef, z)) + self.intercept)))


@dataclass(frozen=True)
class Probe:
    """Log-odds that a query embedding is on one side of a line, from a logistic regression over
    the embedding's dimensions."""

    coef: tuple[float, ...]
    intercept: float

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        return vectors @ np.asarray(self.coef, dtype=np.float32) + self.intercept


@dataclass(frozen=True)
class WordProbe:
    """Log-odds that a query is on one side of a line, from a logistic regression over its words'
    tf-idf as scikit-learn's TfidfVectorizer weighs them (1 + log of the count, times the idf,
    the vector scaled to length 1). Words it was not fitted on count for nothing."""

    words: dict[str, tuple[float, float]]  # word -> (idf, coefficient)
    intercept: float

    def logit(self, tokens: list[str]) -> float:
        counts = Counter(t for t in tokens if t in self.words)
        weights = {t: (1.0 + math.log(n)) * self.words[t][0] for t, n in counts.items()}
        length = math.sqrt(sum(w * w for w in weights.values()))
        if not length:
            return self.intercept
        return self.intercept + sum(w * self.words[t][1] for t, w in weights.items()) / length


@dataclass(frozen=True)
class Calibration:
    model: str  # the embedding model the signals were measured with
    telecom: Probe  # a telecom matter, not another trade's
    covered: Probe  # a complaint the scenarios cover
    telecom_words: WordProbe  # a telecom matter, by its words
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    fits: LogisticModel  # P(the first script fits the query)
    elsewhere: LogisticModel  # P(the query is not a telecom matter)
    strong_at: float
    elsewhere_at: float

    def assess(self, signals: dict[str, float]) -> Match:
        z = [(signals[name] - m) / s for name, m, s in zip(FEATURES, self.mean, self.scale)]
        fits, elsewhere = self.fits.probability(z), self.elsewhere.probability(z)
        if elsewhere >= self.elsewhere_at:
            level, confidence = "none", min(fits, 1.0 - elsewhere)
        else:
            level, confidence = ("strong" if fits >= self.strong_at else "weak"), fits
        return Match(level, round(confidence, 4), REASONS[level])

    def probes(self) -> dict[str, Probe]:
        return {"telecom": self.telecom, "covered": self.covered}

    def to_json(self) -> dict:
        return {
            "model": self.model,
            **{name: {"coef": list(p.coef), "intercept": p.intercept} for name, p in self.probes().items()},
            "telecom_words": {
                "intercept": self.telecom_words.intercept,
                "words": {word: list(pair) for word, pair in self.telecom_words.words.items()},
            },
            "features": list(FEATURES),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "fits": {"coef": list(self.fits.coef), "intercept": self.fits.intercept},
            "elsewhere": {"coef": list(self.elsewhere.coef), "intercept": self.elsewhere.intercept},
            "strong_at": self.strong_at,
            "elsewhere_at": self.elsewhere_at,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Calibration":
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"calibrated for the signals {data['features']}, not {list(FEATURES)}: recalibrate")
        models = {k: LogisticModel(tuple(data[k]["coef"]), data[k]["intercept"]) for k in ("fits", "elsewhere")}
        probes = {k: Probe(tuple(data[k]["coef"]), data[k]["intercept"]) for k in ("telecom", "covered")}
        words = data["telecom_words"]
        telecom_words = WordProbe({w: tuple(pair) for w, pair in words["words"].items()}, words["intercept"])
        return cls(
            data["model"], probes["telecom"], probes["covered"], telecom_words,
            tuple(data["mean"]), tuple(data["scale"]),
            models["fits"], models["elsewhere"], data["strong_at"], data["elsewhere_at"],
        )


def load_calibration(model_id: str, path: Path = CALIBRATION_FILE) -> Calibration:
    calibration = Calibration.from_json(json.loads(path.read_text(encoding="utf-8")))
    if calibration.model != model_id:
        log.warning(
            "the match calibration was measured with %s, the service uses %s: run `python -m app calibrate`",
            calibration.model, model_id,
        )
    return calibration
