"""Prometheus metrics of one process, served at /metrics (app/api/routes/metrics.py).

Label values are bounded: routes are path templates (unknown paths share one label), methods
outside the usual few share one label. Each uvicorn worker counts for itself.
"""

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # the *_created series double the output and nobody graphs them

UNMATCHED_ROUTE = "<unmatched>"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "huashu_http_requests", "HTTP requests answered, by route template, method and status", ["route", "method", "status"]
)
HTTP_LATENCY = Histogram(
    "huashu_http_request_duration_seconds",
    "Time from receiving a request to the end of its response, by route template and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
INDEX_INFO = Gauge(
    "huashu_index_info", "The index version this process serves (value 1) and the model that built it", ["version", "model"]
)
INDEX_DOCUMENTS = Gauge("huashu_index_documents", "Documents in the served index version, by collection", ["collection"])
INDEX_BUILD_SECONDS = Histogram(
    "huashu_index_build_duration_seconds",
    "Duration of background index builds (admin re-index jobs), by outcome",
    ["kind", "outcome"],
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600),
)


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"
