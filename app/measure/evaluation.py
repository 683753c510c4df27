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

Calls (with `turns`, as POST /v1/assist takes them): hit@1 and hit@3 of the scripts for the
latest turn against `latest_scenarios`; recall and precision of the demands raised against
`demands`, and the share of them among the top 5 scripts' scenarios; the escalation level's
accuracy, the recall of `high` and the share of `none` calls raised to `high`; the recall of the
facts said (the same kind and words in the same turn). The calls were written as if on
CALLS_WRITTEN_ON, which their relative dates ("五个月前") count from.

Signs of escalation (with `kind` and `escalates`, one customer utterance each): the share of signs
read as their kind, said after a grievance turn (GRIEVANCE_TURN), and the share of look-alikes
(`escalates: false`) read as that kind, said alone. A threat says whether it is against the speaker's own life
(`self_harm`): the share of those read as such, and of the other threats read as such.

A query may say how it is written (`style`: asr, terse, chat, long, short, yue, implied,
padded); the hybrid metrics are then also given per style. `check` is the regression check:
each dev set's hybrid metrics against the expected ones in eval/expected.json.
"""

import datetime
import json
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

import jieba
from rank_bm25 import BM25Okapi

from app.call.assist import Turn, assist, threat_reader
from app.call.escalation import ThreatReader, assess_escalation
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
    "calls": ["latest_hit@3", "demand_recall", "demands_covered@5", "level_accuracy", "high_recall", "fact_recall"],
    "signs": ["sign_recall", "self_harm_recall"],
}
# What a sign is said after: a complaint, as in a call (a pregnancy counts in every call, an old
# person only where there is a grievance).
GRIEVANCE_TURN = "我的宽带一直有问题，你们扣了我的钱不退"
CALLS_WRITTEN_ON = datetime.date(2026, 12, 4)


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


@dataclass
class CallOutcome:
    id: str
    style: str | None
    latest: list[str]  # the scenarios of the latest turn
    rank: int | None  # of the first script for one of them
    demands_expected: list[str]
    demands_found: list[str]
    demands_covered: int  # expected demands among the top 5 scripts' scenarios
    level_expected: str
    level: str
    facts_expected: int
    facts_found: int  # of the expected ones
    ms: float


def load_queries(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def record_texts(record: dict) -> list[str]:
    """What one evaluation record says: a query, a sign's words, or every turn of a call."""
    if "turns" in record:
        return [turn["text"] for turn in record["turns"]]
    return [record["query"] if "query" in record else record["text"]]


def statute_key(book: StatuteBook, spec: str) -> tuple[str, int]:
    law, number = spec.split("|")
    return (book.law_title(law), int(number))


def _label(book: StatuteBook, key: tuple[str, int]) -> str:
    return f"{book.articles[key].short}|{key[1]}"


def fitting_rank(returned: list[list[str]], expect: list[str]) -> int | None:
    """1-based rank of the first returned script (given by its scenarios) with an expected scenario;
    None if there is none. Hit@1 is a rank of 1."""
    return next((i + 1 for i, ids in enumerate(returned) if set(ids) & set(expect)), None)


def evaluate_complaints(engine: SearchEngine, queries: list[dict], weights: Weights) -> list[QueryOutcome]:
    outcomes = []
    for q in queries:
        result = engine.search(q["query"], top_k=RANK_DEPTH, weights=weights)
        returned = [s.record.scenarios for s in result.scripts]
        rank = fitting_rank(returned, q["expect"])
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


def evaluate_calls(engine: SearchEngine, calls: list[dict], weights: Weights) -> list[CallOutcome]:
    outcomes = []
    for call in calls:
        turns = [Turn(t["role"], t["text"]) for t in call["turns"]]
        started = time.perf_counter()
        assisted = assist(engine, turns, top_k=RANK_DEPTH, today=CALLS_WRITTEN_ON, weights=weights)
        ms = (time.perf_counter() - started) * 1000
        returned = [set(s.record.scenarios) for s in assisted.result.scripts]
        latest = set(call["latest_scenarios"])
        expected = list(dict.fromkeys(d["scenario"] for d in call["demands"]))
        top5 = {sid for ids in returned[:5] for sid in ids}
        said = {(f.turn, f.kind, f.words) for f in assisted.facts}
        outcomes.append(
            CallOutcome(
                id=call.get("id", ""),
                style=call.get("style"),
                latest=sorted(latest),
                rank=next((i + 1 for i, ids in enumerate(returned) if ids & latest), None),
                demands_expected=expected,
                demands_found=[d.scenario for d in assisted.demands],
                demands_covered=sum(d in top5 for d in expected),
                level_expected=call["escalation"]["level"],
                level=assisted.escalation.level,
                facts_expected=len(call.get("facts", [])),
                facts_found=sum(_fact_found(f, said) for f in call.get("facts", [])),
                ms=ms,
            )
        )
    return outcomes


@dataclass
class SignOutcome:
    text: str
    kind: str
    escalates: bool  # a sign of `kind`, or a look-alike of one
    read: bool  # read as a sign of `kind`
    self_harm: bool = False  # a threat against the speaker's own life
    read_as_self_harm: bool = False


def evaluate_signs(lines: list[dict], read_threats: ThreatReader | None = None) -> list[SignOutcome]:
    outcomes = []
    for line in lines:
        turns = [("customer", GRIEVANCE_TURN)] if line["escalates"] else []
        reasons = assess_escalation(turns + [("customer", line["text"])], read_threats=read_threats).reasons
        read = any(r.kind == line["kind"] for r in reasons)
        own_life = any(r.self_harm for r in reasons)
        outcomes.append(
            SignOutcome(line["text"], line["kind"], line["escalates"], read, line.get("self_harm", False), own_life)
        )
    return outcomes


def summarize_signs(outcomes: list[SignOutcome]) -> dict[str, float | int | None]:
    signs = [o for o in outcomes if o.escalates]
    look_alikes = [o for o in outcomes if not o.escalates]
    own_life = [o for o in signs if o.self_harm]
    others = [o for o in signs if o.kind == "threat" and not o.self_harm]
    return {
        "signs": len(signs),
        "look_alikes": len(look_alikes),
        "self_harm": len(own_life),
        "sign_recall": _mean(o.read for o in signs) if signs else None,
        "look_alikes_read": _mean(o.read for o in look_alikes) if look_alikes else None,
        # threats against the speaker's own life read as such, and other threats read as such
        "self_harm_recall": _mean(o.read_as_self_harm for o in own_life) if own_life else None,
        "violence_as_self_harm": _mean(o.read_as_self_harm for o in others) if own_life and others else None,
    }


def _fact_found(fact: dict, said: set[tuple[int, str, str]]) -> bool:
    """The same kind in the same turn, the words of one within the other's (两千多块 for 两千多)."""
    return any(
        turn == fact["turn"] and kind == fact["kind"] and (words in fact["words"] or fact["words"] in words)
        for turn, kind, words in said
    )


def summarize_calls(outcomes: list[CallOutcome]) -> dict[str, float | int]:
    ranks = [o.rank for o in outcomes]
    expected = sum(len(o.demands_expected) for o in outcomes)
    found = sum(len(set(o.demands_found)) for o in outcomes)
    right = sum(len(set(o.demands_found) & set(o.demands_expected)) for o in outcomes)
    high = [o for o in outcomes if o.level_expected == "high"]
    quiet = [o for o in outcomes if o.level_expected == "none"]
    facts = sum(o.facts_expected for o in outcomes)
    return {
        "calls": len(outcomes),
        "latest_hit@1": _mean(r == 1 for r in ranks),
        "latest_hit@3": _mean(r is not None and r <= 3 for r in ranks),
        "demand_recall": right / expected if expected else None,
        "demand_precision": right / found if found else None,
        "demands_covered@5": sum(o.demands_covered for o in outcomes) / expected if expected else None,
        "level_accuracy": _mean(o.level == o.level_expected for o in outcomes),
        "high_recall": _mean(o.level == "high" for o in high) if high else None,
        "none_raised_to_high": _mean(o.level == "high" for o in quiet) if quiet else None,
        "fact_recall": sum(o.facts_found for o in outcomes) / facts if facts else None,
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
    calls = [q for q in queries if q.get("turns")]
    signs = [q for q in queries if "escalates" in q]
    modes = MODES if compare else {"hybrid": None}
    report: dict = {
        "complaints": {}, "questions": {}, "calls": {}, "signs": {}, "styles": {}, "match": {}, "outcomes": []
    }
    if signs:  # read by the rules and the index's threat reader, the same in every mode
        outcomes = evaluate_signs(signs, threat_reader(engine))
        report["signs"]["hybrid"] = summarize_signs(outcomes)
        report["outcomes"] += outcomes
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
        if calls:
            outcomes = evaluate_calls(engine, calls, weights)
            report["calls"][mode] = summarize_calls(outcomes)
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
    if report["calls"]:
        metrics = ["latest_hit@1", "latest_hit@3", "demand_recall", "demand_precision", "demands_covered@5"]
        metrics += ["level_accuracy", "high_recall", "none_raised_to_high", "fact_recall", "p50_ms", "p95_ms"]
        calls = report["calls"]
        parts.append(_table(calls, metrics) + f"\n({next(iter(calls.values()))['calls']} calls)")
    if report["signs"]:
        signs = report["signs"]
        counts = next(iter(signs.values()))
        metrics = ["sign_recall", "look_alikes_read"]
        metrics += ["self_harm_recall", "violence_as_self_harm"] if counts["self_harm"] else []
        parts.append(
            _table(signs, metrics)
            + f"\n({counts['signs']} signs of escalation, each after a grievance, {counts['self_harm']} of them of"
            f" self-harm; {counts['look_alikes']} look-alikes)"
        )
    if report["questions"]:
        questions = report["questions"]
        text = _table(questions, ["recall@5", "recall@10", "mrr@10", "p50_ms", "p95_ms"])
        text += f"\n({next(iter(questions.values()))['questions']} legal questions"
        if questions.get(BASELINE, {}).get("recall@10"):
            text += f"; hybrid recall@10 = {questions['hybrid']['recall@10'] / questions[BASELINE]['recall@10']:.2f} x baseline"
        parts.append(text + ")")
    return "\n\n".join(parts)


def _table(summaries: dict[str, dict], metrics: list[str]) -> str:
    width = max(15, *(len(m) + 1 for m in metrics))
    header = f"{'metric':<{width}}" + "".join(f"{mode:>10}" for mode in summaries)
    lines = [header, "-" * len(header)]
    for metric in metrics:
        cells = (f"{'-':>10}" if s[metric] is None else f"{s[metric]:>10.3f}" for s in summaries.values())
        lines.append(f"{metric:<{width}}" + "".join(cells))
    return "\n".join(lines)


def format_failures(outcomes: list) -> str:
    lines = []
    for o in outcomes:
        if isinstance(o, CallOutcome):
            missed = [d for d in o.demands_expected if d not in o.demands_found]
            if o.rank != 1 or missed or o.level != o.level_expected:
                lines.append(
                    f"- call {o.id}: latest {','.join(o.latest)} at rank {o.rank or '>10'}; demands missed "
                    f"{','.join(missed) or '-'}, found {','.join(o.demands_found) or '-'}; "
                    f"escalation {o.level} (expected {o.level_expected})"
                )
            continue
        if isinstance(o, SignOutcome):
            if o.read != o.escalates:
                lines.append(f"- {o.kind} {'missed' if o.escalates else 'read in a look-alike'}: {o.text}")
            elif o.read and o.self_harm != o.read_as_self_harm:
                lines.append(f"- {'self-harm read as violence' if o.self_harm else 'read as self-harm'}: {o.text}")
            continue
        if isinstance(o, QuestionOutcome):
            if o.rank is None or o.rank > 5:
                lines.append(f"- {o.query}\n    rank {o.rank or '>10'}; expected {', '.join(o.expected)}; got {', '.join(o.returned[:5])}")
            continue
        if isinstance(o, MatchOutcome):
            # A telecom matter no scenario covers may get `none` too; only `strong` misses it.
            if o.level != o.expected and not (o.expected == "weak" and o.level == "none"):
                lines.append(f"- {o.query}\n    match {o.level} ({o.confidence:.2f}); expected {o.expected}")
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
