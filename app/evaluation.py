"""Retrieval evaluation over a JSONL of {query, expect, cover?, statutes?}.

Scenario hit@k and MRR: rank of the first script among the top 10 whose scenarios include an
expected one. Coverage@5: every `cover` id among the scenarios of the top 5 scripts.
Statute hit@5: an expected statute among `statutes` or the citations of the top 3 scripts.
"""

import json
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

from app.search.engine import SearchEngine, Weights

RANK_DEPTH = 10
MODES = {"dense": 1.0, "bm25": 0.0, "hybrid": None}


@dataclass
class QueryOutcome:
    query: str
    expect: list[str]
    rank: int | None  # 1-based rank of the first fitting script, None if not in the top 10
    covered: bool | None  # None: the query has no `cover`
    statute_hit: bool | None  # None: the query has no `statutes`
    returned: list[list[str]]
    statutes_returned: list[str]
    ms: float


def load_queries(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def evaluate(engine: SearchEngine, queries: list[dict], weights: Weights) -> list[QueryOutcome]:
    outcomes = []
    for q in queries:
        result = engine.search(q["query"], top_k=RANK_DEPTH, weights=weights)
        returned = [s.record["scenarios"] for s in result.scripts]
        rank = next((i + 1 for i, ids in enumerate(returned) if set(ids) & set(q["expect"])), None)
        covered = None
        if q.get("cover"):
            top5 = {sid for ids in returned[:5] for sid in ids}
            covered = set(q["cover"]) <= top5
        found = {a.article.key for a in result.statutes}
        for script in result.scripts[:3]:
            found |= {a.key for a in engine.citations(script.record)}
        statute_hit = None
        if q.get("statutes"):
            expected = {_statute_key(engine, s) for s in q["statutes"]}
            statute_hit = bool(expected & found)
        outcomes.append(
            QueryOutcome(
                q["query"], q["expect"], rank, covered, statute_hit, returned,
                [f"{a.article.short}|{a.article.article_no}" for a in result.statutes], result.took_ms,
            )
        )
    return outcomes


def _statute_key(engine: SearchEngine, spec: str) -> tuple[str, int]:
    law, number = spec.split("|")
    return (engine.book.law_title(law), int(number))


def summarize(outcomes: list[QueryOutcome]) -> dict[str, float | int]:
    ranks = [o.rank for o in outcomes]
    covers = [o.covered for o in outcomes if o.covered is not None]
    statutes = [o.statute_hit for o in outcomes if o.statute_hit is not None]
    latencies = sorted(o.ms for o in outcomes)
    return {
        "queries": len(outcomes),
        "hit@1": _mean(r == 1 for r in ranks),
        "hit@3": _mean(r is not None and r <= 3 for r in ranks),
        "mrr": _mean(1 / r if r else 0.0 for r in ranks),
        "coverage@5": _mean(covers),
        "coverage_queries": len(covers),
        "statute_hit@5": _mean(statutes),
        "statute_queries": len(statutes),
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p95_ms": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0.0,
    }


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0


def run(engine: SearchEngine, path: Path, compare: bool) -> dict[str, dict]:
    """Summaries per mode, and the per-query outcomes of the last (hybrid) run."""
    queries = load_queries(path)
    modes = MODES if compare else {"hybrid": None}
    summaries, outcomes = {}, []
    for mode, dense_weight in modes.items():
        weights = engine.weights if dense_weight is None else replace(engine.weights, dense=dense_weight)
        outcomes = evaluate(engine, queries, weights)
        summaries[mode] = summarize(outcomes)
    return {"summary": summaries, "outcomes": outcomes}


def format_table(summaries: dict[str, dict]) -> str:
    metrics = ["hit@1", "hit@3", "mrr", "coverage@5", "statute_hit@5", "p50_ms", "p95_ms"]
    header = f"{'metric':<15}" + "".join(f"{mode:>10}" for mode in summaries)
    lines = [header, "-" * len(header)]
    for metric in metrics:
        lines.append(f"{metric:<15}" + "".join(f"{s[metric]:>10.3f}" for s in summaries.values()))
    first = next(iter(summaries.values()))
    lines.append(
        f"({first['queries']} queries; coverage over {first['coverage_queries']}, statutes over {first['statute_queries']})"
    )
    return "\n".join(lines)


def format_failures(outcomes: list[QueryOutcome]) -> str:
    lines = []
    for o in outcomes:
        problems = []
        if o.rank != 1:
            problems.append(f"rank {o.rank or '>10'}")
        if o.covered is False:
            problems.append("not covered")
        if o.statute_hit is False:
            problems.append("statute missed")
        if problems:
            got = " | ".join(",".join(ids) for ids in o.returned[:3])
            lines.append(f"- {o.query}\n    {', '.join(problems)}; expected {','.join(o.expect)}; got {got}; statutes {', '.join(o.statutes_returned)}")
    return "\n".join(lines)
