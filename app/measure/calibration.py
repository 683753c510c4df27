"""Fitting the match calibration (app/search/match.json) on labelled queries.

First the probes, on the corpus alone: what customers say when a scenario applies (`says`), the
scenarios' descriptions and the scripts' situations against authored queries the library does
not cover — other trades' matters (corpus/elsewhere.txt, corpus/elsewhere-queries.txt) for the
`telecom` probe, those and telecom enquiries (corpus/uncovered-telecom-queries.txt) for the
`covered` one; the `telecom_words` probe on the same sides as `telecom`, by their words. Then the
two models over the signals, on the dev sets: in-scope complaints (the queries with `expect`)
should get `strong`; queries labelled `match: none` (not telecom) and `match: weak` (telecom, no
scenario) should not. The holdout files are left out: they check the
calibration, never fit it.
"""

import dataclasses
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from app.corpus.loader import NOT_TELECOM_FILES, UNCOVERED_TELECOM_FILE, read_lines
from app.embedding.encoder import QueryEncoder
from app.index.store import IndexVersion
from app.measure.evaluation import load_queries
from app.search.engine import SearchEngine
from app.search.match import FEATURES, Calibration, LogisticModel, Probe, WordProbe
from app.text.normalize import normalize
from app.text.tokenize import tokenize

IN_SCOPE_FILES = ("eval/dev.jsonl", "eval/dev-agents.jsonl", "eval/dev-styles.jsonl")
OUT_OF_SCOPE_FILES = ("eval/out-of-scope.jsonl",)
NONE_IN_SCOPE = 0.015  # share of in-scope queries allowed to get `none` (the target is ≤ 2 %)
BELOW_STRONG_IN_SCOPE = 0.09  # share allowed below `strong` (the target is ≤ 10 % `weak`)
# Regularisation of the probes: C from 1 to 10 separates the holdout alike (docs/evaluation.md).
PROBE_C = 3.0
# Words seen in fewer texts are left out of the word probe: a typo in one saying says nothing.
WORD_MIN_TEXTS = 2


def fit_probes(engine: SearchEngine, corpus_dir: Path) -> dict[str, Probe | WordProbe]:
    """The probes on the corpus's texts, embedded as queries are."""
    collections = engine.index.collections
    covered = [e.text for e in collections["exemplars"].records]
    covered += [s.situation for s in collections["scripts"].records]
    covered += [s.looks_like for s in engine.index.taxonomy.scenarios]
    not_telecom = [text for name in NOT_TELECOM_FILES for text in read_lines(corpus_dir / name)]
    uncovered = read_lines(corpus_dir / UNCOVERED_TELECOM_FILE)
    encode = engine.encoder.encode_queries
    covered_vectors, not_telecom_vectors, uncovered_vectors = encode(covered), encode(not_telecom), encode(uncovered)
    return {
        "telecom": _probe(covered_vectors, not_telecom_vectors),
        "covered": _probe(covered_vectors, np.vstack([not_telecom_vectors, uncovered_vectors])),
        "telecom_words": word_probe(covered, not_telecom),
    }


def word_probe(inside: list[str], outside: list[str]) -> WordProbe:
    """A logistic regression over the texts' words (as search tokenizes a query), tf-idf weighted."""
    vectorizer = TfidfVectorizer(
        analyzer=lambda text: tokenize(normalize(text)), sublinear_tf=True, min_df=WORD_MIN_TEXTS
    )
    features = vectorizer.fit_transform(inside + outside)
    labels = np.r_[np.ones(len(inside), dtype=bool), np.zeros(len(outside), dtype=bool)]
    fitted = LogisticRegression(C=PROBE_C, max_iter=5000, class_weight="balanced").fit(features, labels)
    words = {
        word: (round(float(vectorizer.idf_[i]), 6), round(float(fitted.coef_[0][i]), 6))
        for word, i in sorted(vectorizer.vocabulary_.items())
    }
    return WordProbe(words, round(float(fitted.intercept_[0]), 6))


def _probe(inside: np.ndarray, outside: np.ndarray) -> Probe:
    labels = np.r_[np.ones(len(inside), dtype=bool), np.zeros(len(outside), dtype=bool)]
    model = LogisticRegression(C=PROBE_C, max_iter=5000, class_weight="balanced")
    fitted = model.fit(np.vstack([inside, outside]), labels)
    # float64 before rounding: the embeddings are float32, and so are the fitted weights.
    return Probe(tuple(fitted.coef_[0].astype(float).round(6).tolist()), round(float(fitted.intercept_[0]), 6))


def calibrate(
    index: IndexVersion, encoder: QueryEncoder, repo_root: Path, corpus_dir: Path
) -> tuple[Calibration, dict[str, int]]:
    # The calibration in the repository is not used: it may be of other signals or another model.
    engine = SearchEngine(index, encoder, calibration=_unfitted(encoder.model_id))
    probes = fit_probes(engine, corpus_dir)
    # The signals below include the probes' outputs.
    engine.calibration = dataclasses.replace(engine.calibration, **probes)
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
        **probes,
        mean=tuple(mean.round(6).tolist()),
        scale=tuple(scale.round(6).tolist()),
        fits=_model(fits),
        elsewhere=_model(elsewhere),
        strong_at=round(float(np.quantile(fits.predict_proba(in_scope)[:, 1], BELOW_STRONG_IN_SCOPE)), 6),
        elsewhere_at=round(float(np.quantile(elsewhere.predict_proba(in_scope)[:, 1], 1 - NONE_IN_SCOPE)), 6),
    )
    return calibration, {label: int((labels == label).sum()) for label in ("in", "weak", "none")}


def _unfitted(model_id: str) -> Calibration:
    """A calibration to search with while a new one is fitted: its probes are replaced before any
    signal is measured, and its models judge every query alike."""
    no_signals = (0.0,) * len(FEATURES)
    no_probe = Probe((), 0.0)
    return Calibration(
        model_id, no_probe, no_probe, WordProbe({}, 0.0), no_signals, (1.0,) * len(FEATURES),
        LogisticModel(no_signals, 0.0), LogisticModel(no_signals, 0.0), strong_at=0.5, elsewhere_at=1.0,
    )


def _model(fitted: LogisticRegression) -> LogisticModel:
    return LogisticModel(tuple(fitted.coef_[0].round(6).tolist()), round(float(fitted.intercept_[0]), 6))
