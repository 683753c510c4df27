"""Load test: `python -m app load [--requests N] [--clients C] [--url URL] [--json]`.

A fixed number of requests, a mix of what agents and chatbots send (searches: the dev queries,
a few hot ones repeated so the query cache answers them, and unique ones that miss it; statute
look-ups by full title, short name and alias, repealed laws, unknown articles that must be a
404; the scenario list; health), from concurrent clients as fast as the server answers. It stops
by itself and says whether the server answered every request as it should and whether its
memory stayed flat: RSS of the serving process after a warm-up against RSS after the run. The
warm-up ends at the peak (every client in the encoder at once with the longest new queries), so
that RSS has reached what this concurrency needs before it is first read. 127.0.0.1 only.

The HTTP load generator (`drive`) and the server starter (`serve`) live here; `app/measure/bench.py`
uses them too. Only httpx is imported at module level: the load process stays light.
"""

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from app.core.config import REPO_ROOT, Settings

QUERY_FILES = ("eval/dev.jsonl", "eval/dev-agents.jsonl")
READY_TIMEOUT_S = 180
REQUEST_TIMEOUT_S = 120
TOP_K = 5

DEFAULT_REQUESTS = 5000
DEFAULT_CLIENTS = 32
# How much the serving process's RSS may grow from the end of the warm-up to the end of the run.
# RSS follows the most memory the process has needed at once, not what it holds now: glibc keeps
# freed memory of the request threads' arenas. With 32 clients that is 32 forward passes at once
# (~0.4 GB above the single-request state), which is why the warm-up ends at that peak. After
# it, measured on 2 cores: 19 to 36 MB over 1 200 to 5 000 mixed requests, 87 MB over 20 000,
# 118 MB over 5 000 while other work oversubscribed the cores 7-fold (longer overlaps, more
# fragmentation). It comes in steps with latency spikes and stays flat between them, where a
# leak would climb with every request. The query cache adds at most HUASHU_QUERY_CACHE_SIZE × ~2 KB (2 MB at 1024;
# raise the limit with a much larger cache). 128 MB is above that noise and is what a leak of
# 26 KB per request would reach in 5 000 requests.
DEFAULT_MAX_RSS_GROWTH_MB = 128.0


# --- the load generator ---------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    kind: str
    method: str
    path: str
    body: dict | None = None
    expect: int = 200  # the status a correct server answers
    expect_key: str | None = None  # a key the JSON body of a 200 must have


@dataclass(frozen=True)
class Result:
    request: Request
    outcome: str  # "ok", "expected 4xx", or one of ERRORS
    status: int | None
    ms: float
    error: str | None = None  # what went wrong, for errors

    @property
    def kind(self) -> str:
        return self.request.kind


ERRORS = ("5xx", "transport error", "unexpected status", "bad body")


def require_loopback(url: str) -> str:
    """The base URL without a trailing slash; anything but http://127.0.0.1:<port> is refused."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
        raise ValueError(f"load is only sent to http://127.0.0.1:<port>, not {url!r}")
    return f"http://127.0.0.1:{parts.port}"


def classify(request: Request, response: httpx.Response | None) -> str:
    if response is None:
        return "transport error"
    if response.status_code >= 500:
        return "5xx"
    if response.status_code != request.expect:
        return "unexpected status"
    if request.expect_key is not None:
        try:
            if request.expect_key not in response.json():
                return "bad body"
        except ValueError:
            return "bad body"
    return "expected 4xx" if request.expect >= 400 else "ok"


async def drive(base: str, requests: list[Request], clients: int) -> tuple[list[Result], float]:
    """Send every request once from `clients` concurrent clients, each taking the next request
    as soon as its previous one is answered. Returns the results and the wall time in seconds."""
    pending = iter(requests)
    results: list[Result] = []

    async def client_loop(client: httpx.AsyncClient) -> None:
        for request in pending:  # shared: each request goes to exactly one client
            started = time.perf_counter()
            response, failure = None, None
            try:
                response = await client.request(request.method, request.path, json=request.body)
            except httpx.HTTPError as e:
                failure = f"{type(e).__name__}: {e}"
            outcome = classify(request, response)
            ms = elapsed_ms(started)
            if response is None:
                results.append(Result(request, outcome, None, ms, failure))
            else:
                error = response.text[:200] if outcome in ERRORS else None
                results.append(Result(request, outcome, response.status_code, ms, error))

    # The server closes a connection after 5 s without a request (uvicorn's keep-alive); a
    # request sent on it at that moment gets a reset, not a response. Under full load this
    # process reads responses late, so a connection it thinks idle for 4 s may already be idle
    # for 5 s on the server: it happened about once in 3 000 requests. Dropping connections
    # idle for 1 s here keeps out of that race (it would take a 4 s stall of this process).
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S, limits=limits, trust_env=False) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        return results, time.perf_counter() - started


def percentiles(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    if not ordered:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0}

    def at(q: float) -> float:  # nearest rank
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {"p50": statistics.median(ordered), "p95": at(0.95), "p99": at(0.99)}


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def error_samples(results: list[Result], limit: int = 10) -> list[dict]:
    return [
        {"kind": r.kind, "request": f"{r.request.method} {r.request.path}", "outcome": r.outcome, "status": r.status,
         "error": r.error}
        for r in results if r.outcome in ERRORS
    ][:limit]


def summarise(results: list[Result]) -> dict:
    """Counts by outcome and latency of the correct answers (errors have no meaningful latency)."""
    outcomes = Counter(r.outcome for r in results)
    return {
        "requests": len(results),
        "answered": sum(r.status is not None for r in results),
        "ok": outcomes["ok"],
        "expected_4xx": outcomes["expected 4xx"],
        "errors": sum(outcomes[e] for e in ERRORS),
        **{e.replace(" ", "_"): outcomes[e] for e in ERRORS},
        **{f"{k}_ms": v for k, v in percentiles([r.ms for r in results if r.outcome not in ERRORS]).items()},
    }


# --- the request mix ------------------------------------------------------------------------


def load_queries(limit: int | None = None) -> list[str]:
    queries = []
    for name in QUERY_FILES:
        with (REPO_ROOT / name).open(encoding="utf-8") as f:
            queries += [json.loads(line)["query"] for line in f if line.strip()]
    return queries[:limit]


def search(kind: str, query: str) -> Request:
    return Request(kind, "POST", "/v1/search", {"query": query, "top_k": TOP_K}, expect_key="scripts")


def statute(kind: str, law: str, article_no: int, expect: int = 200) -> Request:
    key = "law" if expect == 200 else "detail"
    return Request(kind, "GET", f"/v1/statutes/{law}/{article_no}", expect=expect, expect_key=key)


def cited_statutes() -> list[tuple[str, int]]:
    """The statutes the dev queries expect, as `law|article_no`, in first-seen order."""
    seen: dict[tuple[str, int], None] = {}
    for name in QUERY_FILES:
        with (REPO_ROOT / name).open(encoding="utf-8") as f:
            for line in filter(str.strip, f):
                for ref in json.loads(line).get("statutes", []):
                    law, number = ref.split("|")
                    seen[(law, int(number))] = None
    return list(seen)


# Names agents type: full titles, aliases, and repealed laws that answer with superseded_by.
ALIASED_STATUTES = [
    ("中华人民共和国消费者权益保护法", 55), ("消法", 55), ("消保法", 24), ("电信条例", 32),
    ("合同法", 113), ("侵权法", 22), ("民法通则", 63), ("个保法", 10), ("反诈法", 11), ("35号令", 10),
]
# Articles that do not exist (the civil code ends at 1260) and a law that does not: 404 by design.
UNKNOWN_STATUTES = [("民法典", 2000), ("电信条例", 999), ("消费者权益保护法", 120), ("不存在的法", 1)]
HOT_QUERIES = 16  # the first dev queries, asked again and again: the query cache answers them

# One block of the mix; the schedule repeats it and shuffles the order with a fixed seed.
MIX = (
    ["search_dev"] * 6 + ["search_repeated"] * 3 + ["search_unique"] * 3
    + ["statute"] * 4 + ["statute_404"] + ["scenarios"] * 2 + ["health"]
)


PEAK_ROUNDS = 3  # rounds of `clients` heaviest requests at once, at the end of the warm-up


def unique_query(query: str, number: int) -> str:
    """A dev query with a ticket number: a text the query cache has never seen."""
    return f"{query} 工单{number:06d}"


def peak_requests(clients: int, rounds: int, unique_from: int) -> list[Request]:
    """The heaviest requests the mix holds, `clients` at a time: the longest dev queries, never
    seen before. Every client is then inside the encoder at once with the largest inputs, which
    is the most memory the serving process needs at this concurrency."""
    longest = sorted(load_queries(), key=len, reverse=True)[:clients]
    return [
        search("warm-up", unique_query(longest[i % len(longest)], unique_from + r * clients + i))
        for r in range(rounds) for i in range(clients)
    ]


def mixed_requests(count: int, unique_from: int = 0, seed: int = 0) -> list[Request]:
    """`count` requests in the proportions of MIX, in a shuffled but reproducible order. Unique
    searches are numbered from `unique_from`, so that two schedules never share one."""
    queries = load_queries()
    statutes = [statute("statute", law, n) for law, n in cited_statutes() + ALIASED_STATUTES]
    unknown = [statute("statute_404", law, n, expect=404) for law, n in UNKNOWN_STATUTES]
    health = [
        Request("health", "GET", "/healthz", expect_key="status"),
        Request("health", "GET", "/readyz", expect_key="index_version"),
    ]
    kinds = [MIX[i % len(MIX)] for i in range(count)]
    random.Random(seed).shuffle(kinds)
    taken: Counter[str] = Counter()
    schedule = []
    for kind in kinds:
        i = taken[kind]
        taken[kind] += 1
        if kind == "search_dev":
            schedule.append(search(kind, queries[i % len(queries)]))
        elif kind == "search_repeated":
            schedule.append(search(kind, queries[i % HOT_QUERIES]))
        elif kind == "search_unique":
            number = unique_from + i
            schedule.append(search(kind, unique_query(queries[number % len(queries)], number)))
        elif kind == "statute":
            schedule.append(statutes[i % len(statutes)])
        elif kind == "statute_404":
            schedule.append(unknown[i % len(unknown)])
        elif kind == "scenarios":
            schedule.append(Request(kind, "GET", "/v1/scenarios", expect_key="scenarios"))
        else:
            schedule.append(health[i % len(health)])
    return schedule


# --- the serving process --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(settings: Settings, **env: str) -> Iterator[tuple[subprocess.Popen, str, float]]:
    """A real server (`python -m app serve`) on a free 127.0.0.1 port with the given extra
    environment: (process, base URL, seconds from start to /readyz 200)."""
    port = free_port()
    environment = {**os.environ, "HUASHU_INDEX_DIR": str(settings.index_dir), **env}
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=5, trust_env=False) as client:
                while True:
                    if process.poll() is not None:
                        log.seek(0)
                        raise RuntimeError("server exited:\n" + log.read().decode(errors="replace")[-2000:])
                    try:
                        if client.get("/readyz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.perf_counter() - started > READY_TIMEOUT_S:
                        raise RuntimeError(f"server not ready within {READY_TIMEOUT_S} s")
                    time.sleep(0.05)
            yield process, base, time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def _process_tree(pid: int) -> list[int]:
    tree = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            tree += _process_tree(int(child))
    return tree


def rss_mb(pid: int) -> float:
    """Resident memory of the serving process and its children (uvicorn workers), now."""
    return sum(_status_kb(p, "VmRSS") for p in _process_tree(pid)) / 1024


def peak_rss_mb(pid: int) -> float:
    """The most resident memory each of them has had (VmHWM), summed."""
    return sum(_status_kb(p, "VmHWM") for p in _process_tree(pid)) / 1024


def listening_pid(port: int) -> int | None:
    """The process of this user that listens on 127.0.0.1:`port` (Linux /proc), if any."""
    local = f"0100007F:{port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(f"socket:[{fields[9]}]")
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                return int(fd_dir.parent.name)
        except OSError:  # another user's process, or one that just exited
            continue
    return None


# --- the load test --------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # stdout stays the table or the JSON


def run_against(
    base: str, pid: int | None, requests: int, clients: int, warmup: int, max_rss_growth_mb: float
) -> dict:
    """Warm up, then send `requests` mixed requests and compare the serving process's RSS."""
    warmup_results: list[Result] = []
    rss_mixed = None
    peak = 0
    if warmup:
        # The mix first (every path, the caches, the thread pool), then the peak: RSS follows the
        # largest working set the process has had, and after the peak the run can only show growth
        # that is not explained by it.
        schedule = mixed_requests(warmup, unique_from=requests, seed=1)
        schedule_peak = peak_requests(clients, PEAK_ROUNDS, unique_from=requests + warmup)
        peak = len(schedule_peak)
        say(f"load: warm-up, {warmup} mixed requests and {peak} at the peak ...")
        warmup_results, _ = asyncio.run(drive(base, schedule, clients))
        rss_mixed = rss_mb(pid) if pid else None
        warmup_results += asyncio.run(drive(base, schedule_peak, clients))[0]
    warmup_errors = summarise(warmup_results)["errors"]
    rss_before = rss_mb(pid) if pid else None
    say(f"load: {requests} requests from {clients} clients ...")
    results, elapsed = asyncio.run(drive(base, mixed_requests(requests), clients))
    rss_after = rss_mb(pid) if pid else None
    by_kind = {kind: summarise([r for r in results if r.kind == kind]) for kind in dict.fromkeys(MIX)}
    total = summarise(results)
    growth = None if pid is None else rss_after - rss_before
    problems = []
    if warmup_errors:
        problems.append(f"{warmup_errors} errors during the warm-up")
    if total["errors"]:
        problems.append(f"{total['errors']} errors")
    if total["answered"] != requests:
        problems.append(f"{requests - total['answered']} requests unanswered")
    if growth is not None and growth > max_rss_growth_mb:
        problems.append(f"RSS grew {growth:.1f} MB (limit {max_rss_growth_mb:g} MB)")
    return {
        "url": base,
        "clients": clients,
        "warmup": warmup,
        "warmup_peak": peak,
        "warmup_errors": warmup_errors,
        **total,
        "elapsed_s": elapsed,
        "req_per_s": len(results) / elapsed,
        "kinds": by_kind,
        "serving_pid": pid,
        "rss_after_mixed_warmup_mb": rss_mixed,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "rss_growth_mb": growth,
        "serving_peak_rss_mb": peak_rss_mb(pid) if pid else None,
        "max_rss_growth_mb": max_rss_growth_mb,
        "passed": not problems,
        "problems": problems,
        "error_samples": error_samples(warmup_results + results),
    }


def run(
    settings: Settings,
    url: str | None = None,
    pid: int | None = None,
    requests: int = DEFAULT_REQUESTS,
    clients: int = DEFAULT_CLIENTS,
    warmup: int | None = None,
    max_rss_growth_mb: float = DEFAULT_MAX_RSS_GROWTH_MB,
) -> dict:
    """Against the server at `url` (its process found by port unless `pid` is given), or else
    against a server started here on the configured index."""
    from app.index.store import IndexNotFound, current_version

    if warmup is None:
        warmup = max(clients * 10, requests // 10)
    if url is not None:
        base = require_loopback(url)
        pid = pid or listening_pid(urlsplit(base).port)
        if pid is None:
            say("load: no process of this user listens on that port: RSS is not measured (see --pid)")
        return {"server": "given", **run_against(base, pid, requests, clients, warmup, max_rss_growth_mb)}
    if current_version(settings.index_dir) is None:
        raise IndexNotFound(f"no index in {settings.index_dir}: run `python -m app index build`")
    say("load: starting a server ...")
    with serve(settings) as (process, base, _):
        report = run_against(base, process.pid, requests, clients, warmup, max_rss_growth_mb)
    return {"server": "started", "query_cache_size": settings.query_cache_size, **report}


KIND_NAMES = {
    "search_dev": "search, dev queries (cycled)",
    "search_repeated": f"search, {HOT_QUERIES} hot queries (cache hits)",
    "search_unique": "search, unique queries (cache misses)",
    "statute": "statute look-up (titles, aliases, repealed)",
    "statute_404": "statute look-up, unknown article (404 expected)",
    "scenarios": "scenario list",
    "health": "/healthz and /readyz",
}


def format_table(report: dict) -> str:
    def three(d: dict) -> str:
        return " / ".join(f"{d[p + '_ms']:.1f}" for p in ("p50", "p95", "p99"))

    def mb(value: float | None) -> str:
        return "not measured" if value is None else f"{value:.1f}"

    server = "started by this command" if report["server"] == "started" else "given"
    cache = f", query cache {report['query_cache_size']}" if "query_cache_size" in report else ""
    lines = [
        f"{report['requests']} requests (after a warm-up of {report['warmup']} mixed and {report['warmup_peak']} peak),"
        f" {report['clients']} clients,"
        f" {report['url']} ({server}{cache})",
        "",
        "| kind | requests | answered as expected | of which 4xx by design | errors | p50 / p95 / p99 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind, k in [*report["kinds"].items(), ("all", report)]:
        name = KIND_NAMES.get(kind, kind)
        right = k["ok"] + k["expected_4xx"]
        lines.append(f"| {name} | {k['requests']} | {right} | {k['expected_4xx']} | {k['errors']} | {three(k)} |")
    growth_limit = f"≤ {report['max_rss_growth_mb']:g}"
    rows = [
        ("errors: 5xx / transport / unexpected status / bad body",
         " / ".join(str(report[e.replace(" ", "_")]) for e in ERRORS), "0"),
        ("requests answered", f"{report['answered']} of {report['requests']}", "all"),
        ("throughput, req/s (indicative: shares the CPU with the server)", f"{report['req_per_s']:.1f}", ""),
        ("wall time, s", f"{report['elapsed_s']:.1f}", ""),
        ("serving RSS after the mixed warm-up, MB", mb(report["rss_after_mixed_warmup_mb"]), ""),
        ("serving RSS after the peak = before the run, MB", mb(report["rss_before_mb"]), ""),
        ("serving RSS after the run, MB", mb(report["rss_after_mb"]), ""),
        ("RSS growth, MB", mb(report["rss_growth_mb"]), growth_limit),
        ("serving peak RSS (VmHWM), MB", mb(report["serving_peak_rss_mb"]), ""),
    ]
    lines += ["", "| measure | value | limit |", "| --- | --- | --- |"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    for e in report["error_samples"]:
        lines.append(f"error: {e['request']} ({e['kind']}): {e['outcome']} {e['status'] or ''} {e['error']}")
    verdict = "PASS" if report["passed"] else "FAIL: " + "; ".join(report["problems"])
    return "\n".join(lines) + f"\n\n{verdict}"
