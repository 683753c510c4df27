from fastapi import APIRouter, HTTPException, Request, status

from app.api.schemas import ReadyResponse, error_responses

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses=error_responses((503, "No index loaded yet")))
def readyz(request: Request) -> ReadyResponse:
    """Ready once an index is loaded: its version and document counts."""
    live = request.app.state.live
    engine = live.engine
    if engine is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"not ready: {live.error}")
    manifest = engine.index.manifest
    return ReadyResponse(
        status="ready", index_version=engine.index.name, model=manifest["model"]["id"], counts=manifest["counts"]
    )
