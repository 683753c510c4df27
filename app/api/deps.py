"""Typed dependencies shared by the routes."""

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.feedback.usage import UsageRecorder
from app.search.engine import SearchEngine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> SearchEngine:
    live = request.app.state.live
    if live.engine is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"no index loaded: {live.error}")
    return live.engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[SearchEngine, Depends(get_engine)]


def get_usage(request: Request) -> UsageRecorder:
    return request.app.state.usage


UsageDep = Annotated[UsageRecorder, Depends(get_usage)]


def only_params(*names: str):
    """For `dependencies=` of a path with query parameters: any other parameter is a 422, so a
    misspelt `sinse=2026-12-01` is not silently ignored (answering for all time)."""

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - set(names))
        if unknown:
            named = ", ".join(repr(name[:40]) for name in unknown[:3]) + (" and more" if len(unknown) > 3 else "")
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"unknown query parameter {named}: this path takes {', '.join(names)}",
            )

    return Depends(check)


ADMIN_PREFIX = "/v1/admin/"


def admin_caller(tokens: dict[str, str], authorization: str) -> str:
    """Admin paths need `Authorization: Bearer <token>` with a configured token (ADMIN_TOKEN or
    one of ADMIN_TOKENS); with none configured they are disabled (403), never open. Returns the
    token's label: who the audit log and the change record name."""
    if not tokens:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin API disabled: no ADMIN_TOKEN or ADMIN_TOKENS configured")
    scheme, _, given = authorization.partition(" ")
    # Every token is compared, in constant time, whichever matches: the time taken tells nothing.
    given_digest = hashlib.sha256(given.strip().encode()).digest()
    matches = [hmac.compare_digest(given_digest, hashlib.sha256(t.encode()).digest()) for t in tokens.values()]
    if scheme.lower() != "bearer" or not any(matches):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"}
        )
    return list(tokens)[matches.index(True)]


# States in the OpenAPI schema that admin paths take a bearer token; admin_caller checks it.
ADMIN_TOKEN_SCHEME = HTTPBearer(scheme_name="AdminToken", description="ADMIN_TOKEN or one of ADMIN_TOKENS", auto_error=False)


def require_admin(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(ADMIN_TOKEN_SCHEME)]
) -> str:
    return admin_caller(request.app.state.settings.admin_labels(), request.headers.get("authorization", ""))


class AdminTokenFirst:
    """Refuses an admin request with a missing or wrong token before anything reads its body.
    FastAPI reads a whole form before it runs the route's dependencies: without this, anyone
    could make the service read and spool 20 MB per request, and would get the body limit's 413
    instead of the 401."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(ADMIN_PREFIX):
            try:
                admin_caller(scope["app"].state.settings.admin_labels(), Headers(scope=scope).get("authorization", ""))
            except HTTPException as e:
                # The body is never read, so the connection cannot carry another request.
                headers = {**(e.headers or {}), "Connection": "close"}
                await JSONResponse({"detail": e.detail}, e.status_code, headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


AdminDep = Annotated[str, Depends(require_admin)]
