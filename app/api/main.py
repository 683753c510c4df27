"""The FastAPI application: routers assembled in one place, the index loaded at start."""

import asyncio
import ctypes
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Match, Mount

from app.admin.jobs import JobRunner
from app.admin.scripts import ScriptEditor
from app.api.deps import AdminTokenFirst
from app.api.limits import BodyLimit
from app.api.forward import AdminElsewhere, ForwardAdmin
from app.api.live import LiveEngine, Upstream
from app.api.observability import REQUEST_ID_HEADER, RequestObservability
from app.api.routes import (
    admin, admin_scripts, assist, feedback, gaps, health, metrics, page, scenarios, search, statutes,
)
from app.core.config import Settings, get_settings
from app.core.errors import HuashuError
from app.corpus.documents import DocumentStore
from app.embedding.encoder import ModelNotFound, QueryEncoder
from app.feedback.usage import UsageRecorder
from app.index.store import IndexUnusable
from app.search.engine import SearchEngine
from app.store.database import database

log = logging.getLogger("huashu")
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def create_app(
    settings: Settings | None = None,
    engine: SearchEngine | None = None,
    *,
    encoder: QueryEncoder | None = None,
    upstream: Upstream | None = None,
    admin_elsewhere: ForwardAdmin | None = None,
) -> FastAPI:
    """`engine` lets tests share one loaded engine; the service loads its own at start. On a Ray
    cluster (app/cluster/deployments.py) a replica searches with the cluster's `encoder`, copies
    index versions in from `upstream`, and hands admin requests to `admin_elsewhere`."""
    settings = settings or get_settings()
    _return_freed_memory()

    live = LiveEngine(settings, engine, encoder, upstream)
    usage = UsageRecorder(lambda: feedback.feedback_store(settings), lambda: live.engine and live.engine.encoder)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if live.engine is None:
            # In a thread: on a Ray cluster the first load waits for other replicas.
            await asyncio.to_thread(_first_load, live)
        live.watch()
        usage.start()
        yield
        live.stop()
        usage.stop()  # writes what the last seconds counted

    app = FastAPI(
        title="Huashu 话术",
        version="1.0",
        summary="Complaint-handling scripts and the statutes they rely on, for telecom call centres.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.live = live
    app.state.usage = usage
    app.state.documents = DocumentStore(settings.documents_dir)
    admin_db = database(settings, "admin")
    app.state.scripts = ScriptEditor(admin_db, settings.corpus_dir, app.state.documents)
    app.state.jobs = JobRunner(admin_db)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HuashuError, _huashu_error)
    if admin_elsewhere:
        # Innermost: the token and the body limit are checked here before anything is sent on.
        app.add_middleware(AdminElsewhere, forward=admin_elsewhere)
    # The last added runs first: request id and headers wrap everything, CORS wraps the 413s,
    # and an admin request without the token is refused before the body limit reads anything.
    app.add_middleware(BodyLimit, upload_limit=settings.max_upload_bytes)
    app.add_middleware(AdminTokenFirst)
    if settings.cors_origins:
        # Browsers on these origins may search and send feedback; the admin API stays
        # same-origin (Authorization is not an allowed header).
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", REQUEST_ID_HEADER], expose_headers=[REQUEST_ID_HEADER], max_age=600,
        )
    modules = [search, assist, statutes, scenarios, health, feedback, gaps, page, admin, admin_scripts]
    modules += [metrics] if settings.metrics_enabled else []
    for module in modules:
        app.include_router(module.router)
    static = Mount("/static", app=StaticFiles(directory=page.STATIC_DIR), name="static")
    app.router.routes.append(static)  # as app.mount does, keeping the route for the lines below
    routes = [route for m in modules for route in m.router.routes] + [static]
    app.add_exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED, _method_not_allowed(routes))
    # Route templates are looked up here for the metrics when routing left none in the request
    # (a 413 refused before routing, the static files).
    app.add_middleware(RequestObservability, routes=routes)
    return app


def _first_load(live: LiveEngine) -> None:
    live.pull()
    try:
        live.load()
    except (IndexUnusable, ModelNotFound) as e:
        # Stay up: /healthz answers, search answers 503 with the reason.
        live.error = str(e)
        log.error("no index loaded: %s", e)


def _return_freed_memory() -> None:
    """32 concurrent encoder passes allocate ~500 MB of large buffers; glibc would keep that
    memory after the burst. Serving buffers over 128 KiB with mmap gives it back to the system
    (docs/performance.md, Load). Other C libraries: nothing to do."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """One readable sentence in `detail`; the structured errors stay available in `errors`."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = getattr(request.scope.get("route"), "body_field", None)  # what the route reads its body as
    expected = getattr(body and body.field_info, "media_type", None)
    if expected and content_type != expected:
        form = "JSON" if expected == "application/json" else "a multipart form"
        detail = f"send the request body as {form} with Content-Type: {expected}"
    else:
        detail = "; ".join(_describe(error) for error in exc.errors())
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
    return JSONResponse({"detail": detail, "errors": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _huashu_error(request: Request, exc: HuashuError) -> JSONResponse:
    """Every error the service's own layers raise, answered with its status and its message (which
    says what to do). The server's own faults (storage, a build) are logged too."""
    if exc.status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": str(exc), **exc.fields()}, status_code=exc.status)


def _method_not_allowed(routes: list[BaseRoute]):
    """A 405 whose Allow lists every method of the path: Starlette's names those of the first route
    of the path only (`Allow: POST` for /v1/admin/documents, which also answers GET)."""

    async def handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        on_path = [route for route in routes if route.matches(request.scope)[0] != Match.NONE]
        methods = sorted({method for route in on_path for method in getattr(route, "methods", None) or ()})
        allow = ", ".join(methods) or (exc.headers or {}).get("Allow", "")  # a static file's, from StaticFiles
        return JSONResponse(
            {"detail": f"method {request.method} is not allowed here; allowed: {allow}"},
            status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
            headers={"Allow": allow},
        )

    return handler


def _describe(error: dict) -> str:
    loc = [str(part) for part in error.get("loc", ())[1:]]  # the first part is where: body, path, query
    if error.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    if error.get("type") == "missing":
        return f"{'.'.join(loc)} is required" if loc else "the request body is required"
    message = error.get("msg", "invalid").removeprefix("Value error, ")
    return f"{'.'.join(loc)}: {message}" if loc else message
