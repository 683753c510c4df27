"""Typed dependencies shared by the routes."""

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from app.core.config import Settings
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


def require_admin(request: Request) -> str:
    """Admin paths need `Authorization: Bearer <ADMIN_TOKEN>`; with no token configured they
    are disabled (403), never open. Returns a fingerprint of the caller for audit logs."""
    expected = request.app.state.settings.admin_token
    if not expected:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin API disabled: no ADMIN_TOKEN configured")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"}
        )
    return "admin:" + hashlib.sha256(expected.encode()).hexdigest()[:8]


AdminDep = Annotated[str, Depends(require_admin)]
