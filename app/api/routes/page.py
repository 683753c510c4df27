"""The agent desktop page and the admin page: plain static files, no build step."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
# Everything the pages load comes from this origin, and they have no inline script or style.
# Framing by other sites is refused by X-Frame-Options: DENY on every response (observability.py).
CONTENT_SECURITY_POLICY = "default-src 'self'"

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


@router.get("/")
def index() -> FileResponse:
    return _page("index.html")


@router.get("/admin")
def admin() -> FileResponse:
    """The admin page. It holds no data: everything it shows comes from the admin API, with the
    token the admin signs in with."""
    return _page("admin.html")
