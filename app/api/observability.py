"""The outermost layer of the service: every HTTP response, including those made by inner
layers (413, 422, 404, 500), gets a request id and the security headers, one access log line
and its count and duration in the metrics."""

import logging
import re
import time
import uuid
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import request_id_var
from app.core.metrics import HTTP_LATENCY, HTTP_REQUESTS, UNMATCHED_ROUTE, method_label

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it cannot smuggle anything into logs or headers.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

access_log = logging.getLogger("huashu.access")
log = logging.getLogger("huashu")


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-ID if it is sane, otherwise a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if SAFE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_label(scope: Scope, request: Scope, routes: Sequence[BaseRoute]) -> str:
    """The path template that handled the request (/v1/statutes/{law}/{article_no}), never the
    raw path: one label per route keeps the metrics' size fixed. `scope` is as routing left it,
    `request` as it arrived."""
    route = scope.get("route")
    if route is None:  # answered before routing (413), or a mount: find the route it was meant for
        route = next((r for r in routes if r.matches(request)[0] is not Match.NONE), None)
    return getattr(route, "path_format", None) or UNMATCHED_ROUTE


class RequestObservability:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]):
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        context = request_id_var.set(request_id)
        started_at = time.perf_counter()
        # Routing updates `scope` in place (it adds "route", a mount changes "root_path").
        method, path = scope["method"], scope["path"]
        request = {"type": "http", "path": path, "root_path": scope.get("root_path", ""), "method": method}
        status: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error answering %s %s", method, path)
            if status is not None:
                raise  # the response has begun: nothing left to send but the broken connection
            error = JSONResponse({"detail": f"internal error (request id {request_id})"}, status_code=500)
            await error(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started_at
            route = route_label(scope, request, self.routes)
            answered = status if status is not None else 500
            HTTP_REQUESTS.labels(route=route, method=method_label(method), status=str(answered)).inc()
            HTTP_LATENCY.labels(route=route, method=method_label(method)).observe(seconds)
            client = scope.get("client")
            access_log.info(
                "%s %s %d %.1f ms", method, path, answered, seconds * 1000,
                extra={
                    "method": method, "path": path, "route": route, "status": answered,
                    "duration_ms": round(seconds * 1000, 1), "client": client[0] if client else None,
                },
            )
            request_id_var.reset(context)
