"""Prometheus metrics of this process (app/core/metrics.py). Open like /healthz and /readyz: it
shows counts, latencies and the index version, nothing that the API does not already show;
HUASHU_METRICS_ENABLED=false removes it (see docs/security.md)."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app.core.metrics import INDEX_DOCUMENTS, INDEX_INFO

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    _record_index(request.app.state.live.engine)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def _record_index(engine) -> None:
    """The served version is read when scraped: it changes whenever CURRENT does."""
    INDEX_INFO.clear()
    INDEX_DOCUMENTS.clear()
    if engine is None:  # no index loaded: no version to report
        return
    manifest = engine.index.manifest
    INDEX_INFO.labels(version=engine.index.name, model=manifest["model"]["id"]).set(1)
    for collection, count in manifest["counts"].items():
        INDEX_DOCUMENTS.labels(collection=collection).set(count)
