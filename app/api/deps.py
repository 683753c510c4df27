"""Typed dependencies shared by the routes."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from app.core.config import Settings
from app.search.engine import SearchEngine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> SearchEngine:
    engine = request.app.state.engine
    if engine is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"no index loaded: {request.app.state.load_error}")
    return engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[SearchEngine, Depends(get_engine)]
