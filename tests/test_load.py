"""The load command (`python -m app load`): a bounded run of mixed searches, statute look-ups,
scenario lists and health checks from 32 concurrent clients against the real service. Every
request is answered as the contract says (unknown articles with 404, the rest with 200 and the
expected body), none fails, and the serving process's memory does not grow over the run. No
timing asserts: the numbers belong in the command's output."""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from app import cli
from app.core.config import REPO_ROOT
from app.measure import load

KINDS = {"search_dev", "search_repeated", "search_unique", "statute", "statute_404", "scenarios", "health"}


def test_the_mix_is_fixed_and_covers_every_kind():
    schedule = load.mixed_requests(1000)
    assert schedule == load.mixed_requests(1000)  # the same run every time
    counts = Counter(r.kind for r in schedule)
    assert set(counts) == KINDS
    assert counts["search_dev"] == 300 and counts["statute"] == 200 and counts["statute_404"] == 50

    searches = {kind: [r.body["query"] for r in schedule if r.kind == kind] for kind in counts if "search" in kind}
    assert len(set(searches["search_repeated"])) == load.HOT_QUERIES  # the cache answers these
    assert len(set(searches["search_unique"])) == counts["search_unique"]  # the cache never has these
    warmup = load.mixed_requests(200, unique_from=1000, seed=1) + load.peak_requests(32, load.PEAK_ROUNDS, 1200)
    assert not set(searches["search_unique"]) & {r.body["query"] for r in warmup if r.body}

    assert all(r.expect == 404 for r in schedule if r.kind == "statute_404")
    assert all(r.expect == 200 for r in schedule if r.kind != "statute_404")
    paths = {r.path for r in schedule if r.kind == "statute"}
    assert {"/v1/statutes/消法/55", "/v1/statutes/合同法/113"} <= paths  # an alias and a repealed law


@pytest.mark.parametrize("url", ["http://example.com:8000", "http://localhost:8000", "https://127.0.0.1:8000"])
def test_load_is_only_sent_to_127_0_0_1(url, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["load", "--url", url])
    assert exit_.value.code == 2
    assert "only sent to http://127.0.0.1:<port>" in capsys.readouterr().err


def test_a_bounded_load_run_has_no_errors_and_no_memory_growth(settings, index_version, tmp_path):
    # A small query cache: its LRU evicts all through the run, so the bound is exercised too.
    env = {
        **os.environ, "HUASHU_INDEX_DIR": str(settings.index_dir), "HUASHU_DATA_DIR": str(tmp_path / "data"),
        "HUASHU_QUERY_CACHE_SIZE": "64", "HF_HUB_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app", "load", "--requests", "1200", "--clients", "32", "--json"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0, (report["problems"], report["error_samples"], done.stderr[-2000:])

    assert report["errors"] == report["warmup_errors"] == 0, report["error_samples"]
    assert report["requests"] == report["answered"] == 1200
    kinds = report["kinds"]
    assert set(kinds) == KINDS
    assert sum(k["requests"] for k in kinds.values()) == 1200
    assert kinds["statute_404"]["expected_4xx"] == kinds["statute_404"]["requests"] > 0
    for name, kind in kinds.items():
        if name != "statute_404":
            assert kind["ok"] == kind["requests"] > 0, name

    assert report["serving_pid"] is not None
    assert report["rss_before_mb"] > 0 and report["rss_after_mb"] > 0
    assert report["rss_growth_mb"] <= report["max_rss_growth_mb"] == load.DEFAULT_MAX_RSS_GROWTH_MB


def test_a_running_server_is_found_by_its_port(server, settings):
    report = load.run(settings, url=server, requests=200, clients=8, warmup=0)
    assert report["errors"] == 0, report["error_samples"]
    assert report["answered"] == 200
    command = Path(f"/proc/{report['serving_pid']}/cmdline").read_bytes().split(b"\0")
    assert command[command.index(b"app") + 1] == b"serve"  # python -m app serve --host ... --port ...
    assert report["rss_before_mb"] > 0 and report["rss_after_mb"] > 0
