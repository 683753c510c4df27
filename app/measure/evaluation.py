"""Retrieval evaluation over a JSONL of {query, expect?, cover?, statutes?}.

Complaint queries (with `expect`):
- scenario hit@k and MRR: rank of the first script among the top 10 whose scenarios include
  an expected one;
- coverage@5: every `cover` id among the scenarios of the top 5 scripts;
- statute hit@5: an expected statute among `statutes` or the citations of the top 3 scripts.

Legal questions (only `statutes`, "law|article_no", any of them counts): recall@5, recall@10
and MRR@10 of the ranked `statutes`, beside a plain baseline: BM25 (rank_bm25) over jieba's
default segmentation of the statute texts, as most tutorials build it.

Match (`match` of a search): every complaint query should get `strong`; a query labelled
`match: none` or `match: weak` (nothing in the library fits it) should get that level or
`none`. The report has the confusion table of the levels.

A query may say how it is written (`style`: asr, terse, chat, long, short, yue, implied,
padded); the hybrid metrics are then also given per style. `check` is the regression check:
each dev set's hybrid metrics against the expected ones in eval/expected.json.
"""

import json
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

import jieba
from rank_bm25 import BM25Okapi

from app.corpus.statutes import StatuteBook
from app.search.engine import SearchEngine, Weights

RANK_DEPTH = 10
LEVELS = ("strong", "weak", "none")
MODES = {"dense": 1.0, "bm25": 0.0, "hybrid": None}
BASELINE = "baseline"
EXPECTED_FILE = Path("eval") / "expected.json"
# A drop beyond this fails the regression check; the dev sets' metrics move by a query or two
# when a script is reworded, and a real regression costs more than that.
TOLERANCE = 0.02
CHECKED_METRICS = {
    "complaints": ["hit@1", "hit@3", "coverage@5", "statute_hit@5"],
    "questions": ["recall@5", "recall@10", "mrr@10"],
}


@dataclass
class QueryOutcome:
    query: str
    style: str | None  # how the query is written (asr, terse, chat, long, short, yue, implied, padded)
    expect: list[str]
    rank: int | None  # 1-based rank of the first fitting script, None if not in the top 10
    covered: bool | None  # None: the query has no `cover`
    statute_hit: bool | None  # None: the query has no `statutes`
    returned: list[list[str]]
    statutes_returned: list[str]
    ms: float
    level: str  # the search's match level


@dataclass
class MatchOutcome:
    query: str
    style: str | None
    expected: str  # the level the query should get: none or weak
    level: str
    confidence: float


@dataclass
class QuestionOutcome:
    query: str
    expected: list[str]
    rank: int | None  # 1-based rank of the first expected article, None if not in the top 10
    returned: list[str]
    ms: float


def load_queries(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def statute_key(book: StatuteBook, spec: str) -> tuple[str, int]:
    law, number = spec.split("|")
    return (book.law_title(law), int(number))


def _label(book: StatuteBook, key: tuple[str, int]) -> str:
    return f"{book.articles[key].short}|{key[1]}"


def evaluate_complaints(engine: SearchEngine, queries: list[dict], weights: Weights) -> list[QueryOutcome]:
    outcomes = []
    for q in queries:
        result = engine.search(q["query"], top_k=RANK_DEPTH, weights=weights)
        returned = [s.record.scenarios for s in result.scripts]
        rank = next((i + 1 for i, ids in enumerate(returned) if set(ids) & set(q["expect"])), None)
        covered = None
        if q.get("cover"):
            covered = set(q["cover"]) <= {sid for ids in returned[:5] for sid in ids}
        found = {a.article.key for a in result.statutes}
        for script in result.scripts[:3]:
            found |= {a.key for a in engine.citations(script.record)}
        statute_hit = None
        if q.get("statutes"):
            statute_hit = bool({statute_key(engine.book, s) for s in q["statutes"]} & found)
        statutes = [_label(engine.book, a.article.key) for a in result.statutes]
        outcomes.append(
            QueryOutcome(
                q["query"],
                q.get("style"),
                q["expect"],
                rank,
                covered,
                statute_hit,
                returned,
                statutes,
                result.took_ms,
                result.match.level,
            )
        )
    return outcomes


def evaluate_matches(engine: SearchEngine, queries: list[dict], weights: Weights) -> list[MatchOutcome]:
    outcomes = []
    for q in queries:
        match = engine.search(q["query"], weights=weights).match
        outcomes.append(MatchOutcome(q["query"], q.get("style"), q["match"], match.level, match.confidence))
    return outcomes


def match_confusion(outcomes: list) -> dict[str, dict[str, float | int]]:
    """For each expected level (complaints: strong), the share of each level returned."""
    pairs = [("strong", o.level) for o in outcomes if isinstance(o, QueryOutcome)]
    pairs += [(o.expected, o.level) for o in outcomes if isinstance(o, MatchOutcome)]
    table = {}
    for expected in LEVELS:
        returned = [level for want, level in pairs if want == expected]
        if returned:
            shares = {level: returned.count(level) / len(returned) for level in LEVELS}
            table[expected] = shares | {"queries": len(returned)}
    return table


def evaluate_questions(engine: SearchEngine, queries: list[dict], weights: Weights) -> list[QuestionOutcome]:
    weights = replace(weights, statutes=RANK_DEPTH)
    outcomes = []
    for q in queries:
        result = engine.search(q["query"], weights=weights)
        ranked = [a.article.key for a in result.statutes]
        outcomes.append(_question_outcome(engine.book, q, ranked, result.took_ms))
    return outcomes


class PlainBM25:
    """The usual tutorial stack for Chinese statute search: jieba.lcut, BM25Okapi, top-k."""

    def __init__(self, book: StatuteBook):
        articles = book.current_articles()
        self.keys = [a.key for a in articles]
        self.bm25 = BM25Okapi([jieba.lcut(f"{a.short}{a.text}") for a in articles])

    def search(self, query: str, k: int) -> list[tuple[str, int]]:
        scores = self.bm25.get_scores(jieba.lcut(query))
        return [self.keys[i] for i in sorted(range(len(scores)), key=lambda i: -scores[i])[:k]]


def evaluate_baseline(book: StatuteBook, queries: list[dict]) -> list[QuestionOutcome]:
    baseline = PlainBM25(book)
    outcomes = []
    for q in queries:
        started = time.perf_counter()
        ranked = baseline.search(q["query"], RANK_DEPTH)
        outcomes.append(_question_outcome(book, q, ranked, (time.perf_counter() - started) * 1000))
    return outcomes


def _question_outcome(book: StatuteBook, q: dict, ranked: list[tuple[str, int]], ms: float) -> QuestionOutcome:
    expected = {statute_key(book, s) for s in q["statutes"]}
    rank = next((i + 1 for i, key in enumerate(ranked[:RANK_DEPTH]) if key in expected), None)
    return QuestionOutcome(q["query"], q["statutes"], rank, [_label(book, k) for k in ranked], ms)


def summarize_complaints(outcomes: list[QueryOutcome]) -> dict[str, float | int]:
    ranks = [o.rank for o in outcomes]
    covers = [o.covered for o in outcomes if o.covered is not None]
    statutes = [o.statute_hit for o in outcomes if o.statute_hit is not None]
    return {
        "queries": len(outcomes),
        "hit@1": _mean(r == 1 for r in ranks),
        "hit@3": _mean(r is not None and r <= 3 for r in ranks),
        "mrr": _mean(1 / r if r else 0.0 for r in ranks),
        "coverage@5": _mean(covers) if covers else None,
        "coverage_queries": len(covers),
        "statute_hit@5": _mean(statutes) if statutes else None,
        "statute_queries": len(statutes),
        **_latency(o.ms for o in outcomes),
    }


def summarize_questions(outcomes: list[QuestionOutcome]) -> dict[str, float | int]:
    ranks = [o.rank for o in outcomes]
    return {
        "questions": len(outcomes),
        "recall@5": _mean(r is not None and r <= 5 for r in ranks),
        "recall@10": _mean(r is not None for r in ranks),
        "mrr@10": _mean(1 / r if r else 0.0 for r in ranks),
        **_latency(o.ms for o in outcomes),
    }


def _latency(values) -> dict[str, float]:
    ms = sorted(values)
    if not ms:
        return {"p50_ms": 0.0, "p95_ms": 0.0}
    return {"p50_ms": statistics.median(ms), "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))]}


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0


def run(engine: SearchEngine, path: Path, compare: bool) -> dict:
    """Summaries per mode for the file's complaint queries and legal questions, and the
    per-query outcomes of the hybrid run."""
    queries = load_queries(path)
    complaints = [q for q in queries if q.get("expect")]
    questions = [q for q in queries if not q.get("expect") and q.get("statutes")]
    out_of_scope = [q for q in queries if q.get("match")]
    modes = MODES if compare else {"hybrid": None}
    report: dict = {"complaints": {}, "questions": {}, "styles": {}, "match": {}, "outcomes": []}
    for mode, dense_weight in modes.items():
        engine.encoder.clear_query_cache()  # each mode pays for its own encoding, as a new query would
        weights = engine.weights
        if dense_weight is not None:
            weights = replace(weights, dense=dense_weight, statute_dense=dense_weight)
        if complaints:
            outcomes = evaluate_complaints(engine, complaints, weights)
            report["complaints"][mode] = summarize_complaints(outcomes)
            if mode == "hybrid":
                report["outcomes"] += outcomes
                styles = sorted({o.style for o in outcomes if o.style})
                report["styles"] = {s: summarize_complaints([o for o in outcomes if o.style == s]) for s in styles}
        if out_of_scope and mode == "hybrid":
            report["outcomes"] += evaluate_matches(engine, out_of_scope, weights)
        if questions:
            outcomes = evaluate_questions(engine, questions, weights)
            report["questions"][mode] = summarize_questions(outcomes)
            if mode == "hybrid":
                report["outcomes"] += outcomes
    if questions:
        report["questions"][BASELINE] = summarize_questions(evaluate_baseline(engine.book, questions))
    report["match"] = match_confusion(report["outcomes"])
    return report


def measured(report: dict) -> dict[str, float]:
    """The hybrid metrics the regression check compares, as "kind/metric" -> value; a metric no
    query of the file is labelled for is left out."""
    values = {}
    for kind, metrics in CHECKED_METRICS.items():
        summary = report[kind].get("hybrid")
        for metric in metrics if summary else []:
            if summary[metric] is not None:
                values[f"{kind}/{metric}"] = round(summary[metric], 4)
    return values


def check(engine: SearchEngine, eval_dir: Path, expected: dict[str, dict[str, float]]) -> list[str]:
    """Each dev set's hybrid metrics against the expected ones written in the repository; the
    regressions beyond TOLERANCE, one line each (empty: no regression)."""
    regressions = []
    for name, expected_values in expected.items():
        values = measured(run(engine, eval_dir / name, compare=False))
        for key, want in expected_values.items():
            got = values.get(key)
            if got is None or got < want - TOLERANCE:
                regressions.append(f"{name} {key}: {got} < expected {want} - {TOLERANCE}")
    return regressions


def format_report(report: dict) -> str:
    parts = []
    if report["complaints"]:
        first = next(iter(report["complaints"].values()))
        parts.append(
            _table(report["complaints"], ["hit@1", "hit@3", "mrr", "coverage@5", "statute_hit@5", "p50_ms", "p95_ms"])
            + f"\n({first['queries']} complaint queries; coverage over {first['coverage_queries']},"
            f" statutes over {first['statute_queries']})"
        )
    if report["styles"]:
        parts.append(
            _table(report["styles"], ["hit@1", "hit@3", "coverage@5", "statute_hit@5"])
            + "\n(hybrid, by the style the queries are written in)"
        )
    if report["match"]:
        header = f"{'match: expected':<17}" + "".join(f"{level:>9}" for level in LEVELS) + f"{'queries':>9}"
        lines = [header, "-" * len(header)]
        for expected, shares in report["match"].items():
            cells = "".join(f"{shares[level]:>9.3f}" for level in LEVELS)
            lines.append(f"{expected:<17}" + cells + f"{shares['queries']:>9}")
        parts.append("\n".join(lines) + "\n(share of each level returned, hybrid)")
    if report["questions"]:
        questions = report["questions"]
        text = _table(questions, ["recall@5", "recall@10", "mrr@10", "p50_ms", "p95_ms"])
        text += f"\n({next(iter(questions.values()))['questions']} legal questions"
        if questions.get(BASELINE, {}).get("recall@10"):
            text += f"; hybrid recall@10 = {questions['hybrid']['recall@10'] / questions[BASELINE]['recall@10']:.2f} x baseline"
        parts.append(text + ")")
    return "\n\n".join(parts)


def _table(summaries: dict[str, dict], metrics: list[str]) -> str:
    header = f"{'metric':<15}" + "".join(f"{mode:>10}" for mode in summaries)
    lines = [header, "-" * len(header)]
    for metric in metrics:
        cells = (f"{'-':>10}" if s[metric] is None else f"{s[metric]:>10.3f}" for s in summaries.values())
        lines.append(f"{metric:<15}" + "".join(cells))
    return "\n".join(lines)


def format_failures(outcomes: list) -> str:
    lines = []
    for o in outcomes:
        if isinstance(o, QuestionOutcome):
            if o.rank is None or o.rank > 5:
                lines.append(f"- {o.query}\n    rank {o.rank or '>10'}; expected {', '.join(o.expected)}; got {', '.join(o.returned[:5])}")
            continue
        problems = []
        if o.rank != 1:
            problems.append(f"rank {o.rank or '>10'}")
        if o.covered is False:
            problems.append("not covered")
        if o.statute_hit is False:
            problems.append("statute missed")
        if problems:
            got = " | ".join(",".join(ids) for ids in o.returned[:3])
            lines.append(
                f"- {o.query}\n    {', '.join(problems)}; expected {','.join(o.expect)}; got {got};"
                f" statutes {', '.join(o.statutes_returned)}"
            )
    return "\n".join(lines)
