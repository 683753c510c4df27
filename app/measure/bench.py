"""Performance benchmark: `python -m app bench [--quick] [--json]` prints one table.

- in-process, over every dev query (short and long): `SearchEngine.search` beside the bare encoder
  pass over the same query and its clauses (the query cache cleared before each search, so every
  search pays the model), beside the peer, txtai's hybrid search over the same script and statute
  texts with the same model (with its default tokenizer and with jieba), and beside the usual
  tutorial stack (sentence-transformers, BM25Okapi rebuilt per query, flat FAISS, raw scores
  summed); hit@1 of Huashu and of the peer;
- HTTP: a real server (`python -m app serve`, query cache off) under 1, 8 and 32 concurrent
  clients from a separate load process (`python -m app.measure.bench load ...`, the load generator of
  `app/measure/load.py`), 127.0.0.1 only;
- cold start to /readyz, index build time, peak RSS of the serving process.

Heavy imports live inside the functions: the load process needs only httpx.
"""

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.core.config import REPO_ROOT, Settings
from app.core.errors import Unavailable
from app.measure.load import (
    TOP_K,
    drive,
    elapsed_ms,
    load_queries,
    peak_rss_mb,
    percentiles,
    require_loopback,
    search,
    serve,
    summarise,
)


CALLS_FILE = REPO_ROOT / "eval" / "conversations-dev.jsonl"
CALL_TURNS = 6  # calls of at least this many turns: the cost of what a call has already said
# Every dev query: 3 to 277 characters, the long narrations of dev-styles included. The holdout
# sets stay unseen.
DEV_FILES = ("eval/dev.jsonl", "eval/dev-agents.jsonl", "eval/dev-styles.jsonl")
WARM_UP = 40  # queries of every length before the timed pass
PEER_LIMIT = 50  # results asked of txtai: its best script is the first script among them


@dataclass(frozen=True)
class Plan:
    queries: int | None  # None: every query of QUERY_FILES
    rounds: int  # measured passes over the queries in process
    load: tuple[tuple[int, int], ...]  # (concurrent clients, requests per client)
    cold_starts: int
    build_sample: int | None  # None: a real full build; else estimated from this many documents
    peer_statutes: int | None  # statute texts txtai indexes beside the scripts (None: all; embedding them takes minutes)


FULL = Plan(
    queries=None, rounds=1, load=((1, 100), (8, 25), (32, 10)), cold_starts=3, build_sample=None, peer_statutes=None
)
QUICK = Plan(queries=30, rounds=1, load=((1, 8), (8, 4), (32, 2)), cold_starts=1, build_sample=64, peer_statutes=100)


# --- in process ---------------------------------------------------------------------------


class TutorialStack:
    """The usual stack: SentenceTransformer.encode with the "query: " prompt, BM25Okapi over
    jieba.lcut built inside each query call, a flat FAISS inner-product search, raw scores summed."""

    def __init__(self, settings: Settings, script_texts: list[str], script_vectors):
        import faiss
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(settings.model_path()), device="cpu", local_files_only=True)
        self.texts = script_texts
        self.flat = faiss.IndexFlatIP(script_vectors.shape[1])
        self.flat.add(script_vectors)

    def search(self, query: str, k: int = TOP_K) -> list[int]:
        import jieba
        from rank_bm25 import BM25Okapi

        vector = self.model.encode([query], prompt="query: ", normalize_embeddings=True)
        cosines, ids = self.flat.search(vector, self.flat.ntotal)
        bm25 = BM25Okapi([jieba.lcut(t) for t in self.texts])
        score = dict(enumerate(bm25.get_scores(jieba.lcut(query))))
        for i, cosine in zip(ids[0], cosines[0]):
            score[int(i)] += float(cosine)
        return sorted(score, key=lambda i: -score[i])[:k]


class TxtaiHybrid:
    """The peer: txtai's hybrid search as its documentation sets it up (`hybrid: True`: a FAISS
    dense index and BM25, scores normalised and fused by txtai), over the script and statute texts
    the Huashu index holds, one index, the same model directory through sentence-transformers
    (its query and passage prompts, so the same vectors). `tokenize`: None for txtai's default
    tokenizer (Unicode word segmentation, which cuts Chinese into single characters), or a
    function for its BM25 (the project's jieba tokenizer). Indexes sharing `checkpoint` embed the
    texts once: txtai's restart checkpoint hands the second one the first one's vectors."""

    def __init__(self, model_path: Path, texts: list[str], checkpoint: Path, tokenize=None):
        from txtai import Embeddings

        class WithTokenizer(Embeddings):
            def createscoring(self):
                scoring = super().createscoring()
                if scoring is not None and tokenize is not None:
                    scoring.tokenizer = tokenize  # txtai's BM25 calls it for documents and queries
                return scoring

        self.embeddings = WithTokenizer({"path": str(model_path), "method": "sentence-transformers", "hybrid": True})
        self.embeddings.index(texts, checkpoint=str(checkpoint))

    def search(self, query: str) -> list[int]:
        """Positions of the texts, best first."""
        return [int(uid) for uid, _ in self.embeddings.search(query, PEER_LIMIT)]


def load_peers(settings: Settings, script_texts: list[str], statute_texts: list[str]) -> dict[str, TxtaiHybrid]:
    try:
        import txtai  # noqa: F401
    except ImportError:
        raise Unavailable(
            "the bench runs txtai beside Huashu: pip install -c requirements.lock -e '.[bench]'"
        ) from None
    from app.text.tokenize import tokenize

    texts = script_texts + statute_texts
    with tempfile.TemporaryDirectory(prefix="huashu-bench-txtai-") as checkpoint:
        return {
            name: TxtaiHybrid(settings.model_path(), texts, Path(checkpoint), tokenizer)
            for name, tokenizer in (("txtai_default", None), ("txtai_jieba", tokenize))
        }


def dev_queries(limit: int | None) -> list[dict]:
    """Every dev query, or `limit` of them spread evenly over the lengths, the longest included."""
    from app.measure.evaluation import load_queries as load_records

    records = [r for name in DEV_FILES for r in load_records(REPO_ROOT / name)]
    if limit is None or limit >= len(records):
        return records
    by_length = sorted(records, key=lambda r: len(r["query"]))
    return [by_length[round(i * (len(records) - 1) / (limit - 1))] for i in range(limit)]


def measure_in_process(settings: Settings, plan: Plan) -> dict:
    from app.api.live import load_engine
    from app.corpus.loader import load_corpus
    from app.index.build import collection_documents
    from app.measure.evaluation import fitting_rank
    from app.search.engine import encode_query_and_clauses, query_clauses
    from app.text.normalize import normalize

    engine = load_engine(settings)
    encoder = engine.encoder
    scripts = engine.index.collections["scripts"]
    documents = collection_documents(load_corpus(settings.corpus_dir))
    script_texts, statute_texts = documents["scripts"][1], documents["statutes"][1]
    if plan.peer_statutes is not None:
        statute_texts = statute_texts[:: max(1, len(statute_texts) // plan.peer_statutes)][: plan.peer_statutes]
    baseline = TutorialStack(settings, script_texts, scripts.dense.index.reconstruct_n(0, len(scripts)))
    say(f"bench: txtai over {len(script_texts)} script and {len(statute_texts)} statute texts ...")
    peers = load_peers(settings, script_texts, statute_texts)
    records = dev_queries(plan.queries)
    queries = [r["query"] for r in records]

    def encode(text: str) -> None:
        """The bare encoder passes a search makes for one normalised query (the query, then its
        clauses), nothing else."""
        encode_query_and_clauses(encoder.model.encode_query, text, query_clauses(text))

    def timed(run, *args) -> float:
        started = time.perf_counter()
        run(*args)
        return elapsed_ms(started)

    script_records = scripts.records

    def huashu_first(query: str) -> list[list[str]]:
        return [s.record.scenarios for s in engine.search(query, top_k=TOP_K).scripts]

    def peer_first(peer: TxtaiHybrid, query: str) -> list[list[str]]:
        return [script_records[i].scenarios for i in peer.search(query) if i < len(script_records)]

    for query in dev_queries(min(WARM_UP, plan.queries or WARM_UP)):
        encode(normalize(query["query"]))
        engine.search(query["query"], top_k=TOP_K)
        baseline.search(query["query"])
        for peer in peers.values():
            peer.search(query["query"])
    names = ["search", "search_cached", "encoder", "baseline", *peers]
    samples: dict[str, list[float]] = {name: [] for name in names}
    hits: dict[str, list[bool]] = {name: [] for name in ["huashu", *peers]}
    # Interleaved per query, so that load from other processes hits all of them alike.
    for _ in range(plan.rounds):
        for record in records:
            query = record["query"]
            samples["encoder"].append(timed(encode, normalize(query)))
            encoder.clear_query_cache()
            started = time.perf_counter()
            returned = huashu_first(query)
            samples["search"].append(elapsed_ms(started))
            hits["huashu"].append(fitting_rank(returned, record["expect"]) == 1)
            samples["search_cached"].append(timed(engine.search, query, TOP_K))
            for name, peer in peers.items():
                started = time.perf_counter()
                returned = peer_first(peer, query)
                samples[name].append(elapsed_ms(started))
                hits[name].append(fitting_rank(returned, record["expect"]) == 1)
            samples["baseline"].append(timed(baseline.search, query))
    result = {name: percentiles(ms) for name, ms in samples.items()}
    hit_at_1 = {name: sum(h) / len(h) for name, h in hits.items()}
    assist_ms, latest_ms = measure_live_call(engine, plan)
    result["assist"], result["latest_turn_search"] = percentiles(assist_ms), percentiles(latest_ms)
    # The peer at its best on each measure: the faster of its two tokenizers, the better hit@1.
    peer_p50 = min(result[name]["p50"] for name in peers)
    peer_p99 = min(result[name]["p99"] for name in peers)
    return {
        "queries": len(queries),
        "rounds": plan.rounds,
        "query_chars": {"min": min(map(len, queries)), "p50": statistics.median(map(len, queries)),
                        "max": max(map(len, queries))},
        **{f"{name}_ms": p for name, p in result.items()},
        "search_over_encoder_p50": result["search"]["p50"] / result["encoder"]["p50"],
        "search_p99_over_p50": result["search"]["p99"] / result["search"]["p50"],
        "huashu_over_baseline_p50": result["search"]["p50"] / result["baseline"]["p50"],
        "huashu_over_txtai_p50": result["search"]["p50"] / peer_p50,
        "huashu_over_txtai_p99": result["search"]["p99"] / peer_p99,
        "huashu_hit_at_1": hit_at_1["huashu"],
        "txtai_hit_at_1": max(hit_at_1[name] for name in peers),
        **{f"{name}_hit_at_1": hit_at_1[name] for name in peers},
        "txtai_texts": len(script_texts) + len(statute_texts),
        "assist_over_latest_search_p50": result["assist"]["p50"] / result["latest_turn_search"]["p50"],
    }


def measure_live_call(engine, plan: Plan) -> tuple[list[float], list[float]]:
    """POST /v1/assist's work for calls of at least CALL_TURNS turns, as in a call: every earlier
    request of the call was answered, so only the latest turn is new (its reading is dropped, and
    the query embeddings kept are this call's earlier requests' alone); beside a search of the
    latest turn alone, from cold. Interleaved per call."""
    from app.call.assist import Turn, assist
    from app.measure.evaluation import load_queries as load_calls
    from app.text.normalize import normalize

    calls = [c for c in load_calls(CALLS_FILE) if len(c["turns"]) >= CALL_TURNS][: plan.queries]
    assist_ms, search_ms = [], []
    for call in calls:
        turns = [Turn(t["role"], t["text"]) for t in call["turns"]]
        engine.encoder.clear_query_cache()
        for n in range(1, len(turns)):  # the call so far, request by request
            if turns[n - 1].role == "customer":
                assist(engine, turns[:n])
        latest = turns[-1].text
        engine.forget(normalize(latest))
        started = time.perf_counter()
        assist(engine, turns)
        assist_ms.append(elapsed_ms(started))
        engine.forget(normalize(latest))
        engine.encoder.clear_query_cache()
        started = time.perf_counter()
        engine.search(latest, top_k=TOP_K)
        search_ms.append(elapsed_ms(started))
    return assist_ms, search_ms


def measure_index_build(settings: Settings, plan: Plan) -> dict:
    from app.corpus.loader import load_corpus
    from app.index.build import collection_documents, standalone_encoder
    from app.text.tokenize import tokenize

    # A full build: `python -m app index build` itself; one added document as the server's
    # re-index job builds it.
    if plan.build_sample is None:
        full_s, peak_mb = measure_build_command()
        return {
            "full_s": full_s, "how": "full build", "peak_rss_mb": peak_mb,
            "add_one_document_s": measure_add_one_document(settings),
        }
    # Quick: embedding and tokenising dominate a build; time an evenly spread sample of them.
    encoder = standalone_encoder(settings)
    started = time.perf_counter()
    texts = [t for _, ts in collection_documents(load_corpus(settings.corpus_dir)).values() for t in ts]
    sample = texts[:: max(1, len(texts) // plan.build_sample)][: plan.build_sample]
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    encoder.encode_documents(sample)
    for text in sample:
        tokenize(text)
    per_document = (time.perf_counter() - started) / len(sample)
    return {
        "full_s": loaded + per_document * len(texts),
        "how": f"estimated from {len(sample)} of {len(texts)} documents",
        "peak_rss_mb": None,  # only a full build shows it
        "add_one_document_s": measure_add_one_document(settings),
    }


def measure_build_command() -> tuple[float, float]:
    """Seconds and peak RSS (MB) of `python -m app index build` building the corpus from nothing
    into a temporary index directory (no uploaded documents), with the bench's environment."""
    with tempfile.TemporaryDirectory(prefix="huashu-bench-index-") as directory:
        env = {**os.environ, "HUASHU_INDEX_DIR": f"{directory}/index", "HUASHU_DATA_DIR": f"{directory}/data"}
        errors = Path(directory) / "stderr"
        with errors.open("wb") as stderr:
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", "app", "index", "build", "--quiet"], cwd=REPO_ROOT, env=env,
                stdout=subprocess.DEVNULL, stderr=stderr,
            )
            # The peak as the build's own address space saw it (VmHWM, kept from the last look
            # before it ended). Not the child's ru_maxrss: a forked child takes over the parent's
            # high-water mark (the bench's, with txtai loaded) when it executes the build.
            peak_mb = 0.0
            while process.poll() is None:
                try:
                    peak_mb = max(peak_mb, peak_rss_mb(process.pid))
                except (OSError, RuntimeError):  # it ended between the two lines
                    break
                time.sleep(0.2)
            process.wait()
            seconds = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"python -m app index build failed: {errors.read_text()[-2000:]}")
        return seconds, peak_mb


def measure_add_one_document(settings: Settings) -> float:
    """Seconds to build the next version after one course document is added to the current one
    (a copy of it): the incremental path an admin's upload takes, in a process of its own with
    the service's encoder settings, as the server's re-index job runs it."""
    from app.corpus.documents import DocumentStore
    from app.index.build import build_in_child
    from app.index.store import CURRENT_FILE, current_version, versions_dir

    version = current_version(settings.index_dir)
    with tempfile.TemporaryDirectory(prefix="huashu-bench-add-") as directory:
        index_dir = Path(directory) / "index"
        shutil.copytree(versions_dir(settings.index_dir) / version, versions_dir(index_dir) / version)
        (index_dir / CURRENT_FILE).write_text(version + "\n")
        store = DocumentStore(Path(directory) / "documents")
        text = "新增课程：客户要求赔偿时，先倾听、安抚，再说明我们能做的补救措施，并承诺回复时间。"
        store.add("new-course.txt", "course", text.encode(), text)
        started = time.perf_counter()
        build_in_child(settings.model_copy(update={"index_dir": index_dir}), store, lambda done, total: None)
        return time.perf_counter() - started


# --- HTTP -----------------------------------------------------------------------------------


def run_load(base: str, clients: int, requests: int) -> dict:
    """The load generator in its own process, so that it does not share the GIL with the bench."""
    command = [sys.executable, "-m", "app.measure.bench", "load", base]
    command += ["--clients", str(clients), "--requests", str(requests)]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


async def load(base: str, clients: int, requests: int) -> dict:
    """`clients` concurrent clients sending `clients × requests` searches of the dev queries."""
    queries = load_queries()
    schedule = [search("search", queries[i % len(queries)]) for i in range(clients * requests)]
    results, elapsed = await drive(base, schedule, clients)
    summary = summarise(results)
    return {
        "clients": clients,
        "requests": summary["requests"],
        "errors": summary["errors"],
        "req_per_s": (summary["requests"] - summary["errors"]) / elapsed,
        **{f"{p}_ms": summary[f"{p}_ms"] for p in ("p50", "p95", "p99")},
    }


def measure_http(settings: Settings, plan: Plan) -> dict:
    no_cache = {"HUASHU_QUERY_CACHE_SIZE": "0"}  # every request pays the encoder, as a new complaint does
    starts = []
    for _ in range(plan.cold_starts - 1):
        with serve(settings, **no_cache) as (_, _, ready_s):
            starts.append(ready_s)
    with serve(settings, **no_cache) as (process, base, ready_s):
        starts.append(ready_s)
        levels = {str(clients): run_load(base, clients, requests) for clients, requests in plan.load}
        rss = peak_rss_mb(process.pid)
    cold_start = statistics.median(starts)
    return {"cold_start_s": cold_start, "cold_starts": starts, "http": levels, "serving_peak_rss_mb": rss}


# --- report ---------------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # stdout stays JSON


def run(settings: Settings, quick: bool = False) -> dict:
    plan = QUICK if quick else FULL
    say("bench: in-process search, encoder and baseline ...")
    in_process = measure_in_process(settings, plan)
    say("bench: index build ...")
    build = measure_index_build(settings, plan)
    say("bench: server cold start and HTTP load ...")
    http = measure_http(settings, plan)
    from importlib.metadata import version

    import torch

    return {
        "quick": quick,
        "cpus": os.cpu_count(),
        "txtai_version": version("txtai"),
        "torch_threads": torch.get_num_threads(),  # the peer's and the tutorial stack's
        "encoder_backend": settings.encoder_backend,
        "encoder_threads_setting": settings.encoder_threads,
        "in_process": in_process,
        "index_build": build,
        **http,
    }


def format_table(report: dict) -> str:
    p = report["in_process"]

    def three(d: dict, suffix: str = "") -> str:
        return " / ".join(f"{d[k + suffix]:.1f}" for k in ("p50", "p95", "p99"))

    rows = [
        ("search, in process, p50 / p95 / p99 ms", three(p["search_ms"]), ""),
        ("txtai hybrid, its default tokenizer, p50 / p95 / p99 ms", three(p["txtai_default_ms"]), ""),
        ("txtai hybrid, jieba BM25, p50 / p95 / p99 ms", three(p["txtai_jieba_ms"]), ""),
        ("Huashu ÷ txtai (the faster of the two), p50", f"{p['huashu_over_txtai_p50']:.2f}", "≤ 0.33"),
        ("Huashu ÷ txtai (the faster of the two), p99", f"{p['huashu_over_txtai_p99']:.2f}", "≤ 0.5"),
        (
            "hit@1: Huashu / txtai default / txtai jieba",
            f"{p['huashu_hit_at_1']:.3f} / {p['txtai_default_hit_at_1']:.3f} / {p['txtai_jieba_hit_at_1']:.3f}",
            "Huashu ≥ both",
        ),
        ("encoder pass over the query and its clauses, p50 / p95 / p99 ms", three(p["encoder_ms"]), ""),
        ("search ÷ encoder (p50)", f"{p['search_over_encoder_p50']:.2f}", "≤ 1.3"),
        ("search p99 ÷ p50", f"{p['search_p99_over_p50']:.2f}", "≤ 2.5"),
        ("search, cached query embedding, p50 / p95 / p99 ms", three(p["search_cached_ms"]), ""),
        ("baseline stack, p50 / p95 / p99 ms", three(p["baseline_ms"]), ""),
        ("Huashu ÷ baseline (p50)", f"{p['huashu_over_baseline_p50']:.2f}", ""),
        ("live call (/v1/assist's work, ≥ 6 turns), p50 / p95 / p99 ms", three(p["assist_ms"]), ""),
        ("live call ÷ a search of its latest turn (p50)", f"{p['assist_over_latest_search_p50']:.2f}", "≤ 1.5"),
    ]
    for clients, h in report["http"].items():
        rows.append(
            (
                f"HTTP {clients} client(s), {h['requests']} requests: req/s; p50 / p95 / p99 ms; errors",
                f"{h['req_per_s']:.1f}; {three(h, '_ms')}; {h['errors']}",
                "0 errors" if clients == "32" else "",
            )
        )
    build = report["index_build"]
    rows += [
        ("cold start to /readyz 200, s (median)", f"{report['cold_start_s']:.1f}", "≤ 10"),
        (f"index build, full corpus, s ({build['how']})", f"{build['full_s']:.1f}", ""),
        (
            "`python -m app index build` peak RSS (full build), MB",
            "full run only" if build["peak_rss_mb"] is None else f"{build['peak_rss_mb']:.0f}",
            "≤ 1228 (1.2 GB)",
        ),
        ("add one document and rebuild (incremental), s", f"{build['add_one_document_s']:.1f}", "≤ 10"),
        ("serving process peak RSS (VmHWM), MB", f"{report['serving_peak_rss_mb']:.0f}", "≤ 1536"),
    ]
    chars = p["query_chars"]
    header = (
        f"{p['queries']} dev queries ({chars['min']}–{chars['max']} characters, median {chars['p50']:.0f}) ×"
        f" {p['rounds']} round(s), {report['cpus']} CPUs, encoder backend {report['encoder_backend']},"
        f" HUASHU_ENCODER_THREADS={report['encoder_threads_setting']}; txtai {report['txtai_version']} over"
        f" {p['txtai_texts']} script and statute texts, torch threads {report['torch_threads']}\n\n"
    )
    lines = ["| measure | value | target |", "| --- | --- | --- |"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return header + "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """`python -m app.measure.bench load URL --clients N --requests M`: the load generator, JSON out."""
    parser = argparse.ArgumentParser(prog="python -m app.measure.bench")
    sub = parser.add_subparsers(dest="command", required=True)
    generator = sub.add_parser("load", help="concurrent /v1/search load against a local server")
    generator.add_argument("url")
    generator.add_argument("--clients", type=int, required=True)
    generator.add_argument("--requests", type=int, required=True, help="per client")
    args = parser.parse_args(argv)
    try:
        base = require_loopback(args.url)
    except ValueError as e:
        parser.error(str(e))
    print(json.dumps(asyncio.run(load(base, args.clients, args.requests))))


if __name__ == "__main__":
    main()
