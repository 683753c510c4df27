"""The agent desktop page: plain static files, no build step."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
# Everything the page loads comes from this origin, and it has no inline script or style.
# Framing by other sites is refused by X-Frame-Options: DENY on every response (observability.py).
CONTENT_SECURITY_POLICY = "default-src 'self'"

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
