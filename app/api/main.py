"""The FastAPI application: routers assembled in one place, the index loaded at start."""

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from app.api.routes import admin, feedback, health, page, scenarios, search, statutes
from app.admin.documents import DocumentStore
from app.admin.jobs import JobRunner
from app.api.limits import BodyLimit
from app.api.live import LiveEngine
from app.core.config import Settings, get_settings
from app.embedding.encoder import ModelNotFound
from app.index.store import IncompatibleIndex, IndexNotFound
from app.search.engine import SearchEngine

log = logging.getLogger("huashu")


def create_app(settings: Settings | None = None, engine: SearchEngine | None = None) -> FastAPI:
    """`engine` lets tests share one loaded engine; the service loads its own at start."""
    settings = settings or get_settings()

    live = LiveEngine(settings, engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if live.engine is None:
            try:
                live.load()
            except (IndexNotFound, IncompatibleIndex, ModelNotFound) as e:
                # Stay up: /healthz answers, search answers 503 with the reason.
                live.error = str(e)
                log.error("no index loaded: %s", e)
        live.watch()
        yield
        live.stop()

    app = FastAPI(
        title="Huashu 话术",
        version="1.0",
        summary="Complaint-handling scripts and the statutes they rely on, for telecom call centres.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.live = live
    app.state.documents = DocumentStore(settings.data_dir / "documents")
    app.state.jobs = JobRunner()
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(BodyLimit, upload_limit=settings.max_upload_bytes)
    for module in (search, statutes, scenarios, health, feedback, page, admin):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")
    return app


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """One readable sentence in `detail`; the structured errors stay available in `errors`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type not in ("application/json", "multipart/form-data"):
        detail = "send the request body as JSON with Content-Type: application/json"
    else:
        detail = "; ".join(_describe(error) for error in exc.errors())
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    return JSONResponse({"detail": detail, "errors": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _describe(error: dict) -> str:
    loc = [str(part) for part in error.get("loc", ())[1:]]  # the first part is where: body, path, query
    if error.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    if error.get("type") == "missing":
        return f"{'.'.join(loc)} is required"
    message = error.get("msg", "invalid").removeprefix("Value error, ")
    return f"{'.'.join(loc)}: {message}" if loc else message
