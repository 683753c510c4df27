"""Fitting the match calibration (app/search/match.json) on labelled queries.

In-scope complaints (the dev sets' queries with `expect`) should get `strong`; queries labelled
`match: none` (not telecom) and `match: weak` (telecom, no scenario) should not. The holdout
files are left out: they check the calibration, never fit it.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

from app.measure.evaluation import load_queries
from app.search.engine import SearchEngine
from app.search.match import FEATURES, Calibration, LogisticModel

IN_SCOPE_FILES = ("eval/dev.jsonl", "eval/dev-agents.jsonl", "eval/dev-styles.jsonl")
OUT_OF_SCOPE_FILES = ("eval/out-of-scope.jsonl",)
NONE_IN_SCOPE = 0.015  # share of in-scope queries allowed to get `none` (the target is ≤ 2 %)
BELOW_STRONG_IN_SCOPE = 0.09  # share allowed below `strong` (the target is ≤ 10 % `weak`)


def calibrate(engine: SearchEngine, repo_root) -> tuple[Calibration, dict[str, int]]:
    queries = [(q["query"], "in") for f in IN_SCOPE_FILES for q in load_queries(repo_root / f) if q.get("expect")]
    queries += [(q["query"], q["match"]) for f in OUT_OF_SCOPE_FILES for q in load_queries(repo_root / f)]
    signals = np.array([[engine.match_signals(text)[name] for name in FEATURES] for text, _ in queries])
    labels = np.array([label for _, label in queries])
    mean, scale = signals.mean(axis=0), signals.std(axis=0)
    z = (signals - mean) / scale
    fits = LogisticRegression(max_iter=5000).fit(z, labels == "in")
    # Few queries are out of scope: weighted, they count as much as the many in scope.
    elsewhere = LogisticRegression(max_iter=5000, class_weight="balanced").fit(z, labels == "none")
    in_scope = z[labels == "in"]
    calibration = Calibration(
        model=engine.encoder.model_id,
        mean=tuple(mean.round(6).tolist()),
        scale=tuple(scale.round(6).tolist()),
        fits=_model(fits),
        elsewhere=_model(elsewhere),
        strong_at=round(float(np.quantile(fits.predict_proba(in_scope)[:, 1], BELOW_STRONG_IN_SCOPE)), 6),
        elsewhere_at=round(float(np.quantile(elsewhere.predict_proba(in_scope)[:, 1], 1 - NONE_IN_SCOPE)), 6),
    )
    return calibration, {label: int((labels == label).sum()) for label in ("in", "weak", "none")}


def _model(fitted: LogisticRegression) -> LogisticModel:
    return LogisticModel(tuple(fitted.coef_[0].round(6).tolist()), round(float(fitted.intercept_[0]), 6))
