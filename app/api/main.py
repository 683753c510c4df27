"""The FastAPI application: routers assembled in one place, the index loaded at start."""

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.api.routes import health, scenarios, search, statutes
from app.core.config import Settings, get_settings
from app.embedding.encoder import Encoder, ModelNotFound
from app.index.store import IncompatibleIndex, IndexNotFound, IndexVersion
from app.search.engine import SearchEngine

log = logging.getLogger("huashu")


def load_engine(settings: Settings) -> SearchEngine:
    index = IndexVersion.load(settings.index_dir)
    return SearchEngine(index, Encoder(settings))


def create_app(settings: Settings | None = None, engine: SearchEngine | None = None) -> FastAPI:
    """`engine` lets tests share one loaded engine; the service loads its own at start."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.engine is None:
            try:
                app.state.engine = load_engine(settings)
                log.info("serving index version %s", app.state.engine.index.name)
            except (IndexNotFound, IncompatibleIndex, ModelNotFound) as e:
                # Stay up: /healthz answers, search answers 503 with the reason.
                app.state.load_error = str(e)
                log.error("no index loaded: %s", e)
        yield

    app = FastAPI(
        title="Huashu 话术",
        version="1.0",
        summary="Complaint-handling scripts and the statutes they rely on, for telecom call centres.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.load_error = "the index is still loading"
    app.add_exception_handler(RequestValidationError, _validation_error)
    for module in (search, statutes, scenarios, health):
        app.include_router(module.router)
    return app


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """One readable sentence in `detail`; the structured errors stay available in `errors`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and content_type != "application/json":
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
