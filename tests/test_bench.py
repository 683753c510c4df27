"""`python -m app bench --quick --json` end to end against the session index: every section is
there with numbers and no HTTP request failed. No timing asserts: this machine is shared."""

import json
import os
import subprocess
import sys

from app.core.config import REPO_ROOT


def test_quick_bench_reports_every_section(settings, index_version):
    env = {**os.environ, "HUASHU_INDEX_DIR": str(settings.index_dir), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "app", "bench", "--quick", "--json"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)

    in_process = report["in_process"]
    for section in ("search_ms", "search_cached_ms", "encoder_ms", "baseline_ms", "assist_ms", "latest_turn_search_ms"):
        assert all(in_process[section][p] > 0 for p in ("p50", "p95", "p99")), section
    for ratio in (
        "search_over_encoder_p50", "search_p99_over_p50", "huashu_over_baseline_p50", "assist_over_latest_search_p50"
    ):
        assert in_process[ratio] > 0, ratio

    assert set(report["http"]) == {"1", "8", "32"}
    for clients, level in report["http"].items():
        assert level["errors"] == 0, clients
        assert level["req_per_s"] > 0 and level["p50_ms"] > 0 and level["p99_ms"] > 0, clients

    assert report["cold_start_s"] > 0
    assert report["index_build"]["full_s"] > 0
    assert report["index_build"]["add_one_document_s"] > 0
    assert report["serving_peak_rss_mb"] > 0
