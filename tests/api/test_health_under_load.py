"""Searches run in the thread pool, off the event loop: health checks answer while they run."""

import time
from concurrent.futures import ThreadPoolExecutor, wait

import httpx

SEARCHES = 24


def test_healthz_answers_while_searches_are_running(server):
    def search(n: int) -> int:
        # distinct queries, so none is answered from the query-embedding cache
        query = f"客户说宽带断了{n}天，耽误生意，要求赔偿{n}万元，不然就去工信部投诉"
        return httpx.post(f"{server}/v1/search", json={"query": query, "top_k": 5}, timeout=120).status_code

    with ThreadPoolExecutor(SEARCHES) as pool:
        searches = [pool.submit(search, n) for n in range(SEARCHES)]
        health = []  # (status, searches finished, searches still running) per health check
        while not all(s.done() for s in searches):
            status = httpx.get(f"{server}/healthz", timeout=30).status_code
            finished = sum(s.done() for s in searches)
            health.append((status, finished, SEARCHES - finished))
            time.sleep(0.02)
        wait(searches)

    assert [s.result() for s in searches] == [200] * SEARCHES
    assert all(status == 200 for status, _, _ in health)
    # answered in the middle of the load: some searches had been served, others were still running
    assert any(finished > 0 and running > 0 for _, finished, running in health)
