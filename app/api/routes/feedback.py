"""Agents' feedback on scripts, and its summary for the people who curate the scripts."""

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, status

from app.api.deps import AdminDep, EngineDep, SettingsDep
from app.api.schemas import FeedbackRequest, FeedbackStored, FeedbackSummary, error_responses
from app.core.config import Settings
from app.feedback.store import FeedbackStore
from app.search.engine import SearchEngine

router = APIRouter(tags=["feedback"])
UNAVAILABLE = (503, "No index loaded, or the feedback database cannot be used (locked, read-only, full)")


@lru_cache  # one store per file: opening one creates the directory and the table
def _store_at(path: Path) -> FeedbackStore:
    return FeedbackStore(path)


def feedback_store(settings: Settings) -> FeedbackStore:
    return _store_at(settings.feedback_file)


def script_titles(engine: SearchEngine) -> dict[str, str]:
    return {script.id: script.title for script in engine.index.collections["scripts"].records}


@router.post(
    "/v1/feedback",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, (404, "Unknown script id"), 413, (422, "Invalid feedback"), UNAVAILABLE),
)
def post_feedback(body: FeedbackRequest, engine: EngineDep, settings: SettingsDep) -> FeedbackStored:
    """Store one signal from an agent: 👍 (`up`), 👎 (`down`) or the script was `copied`."""
    if body.script_id not in script_titles(engine):  # well formed, but no script of the loaded index
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown script id: {body.script_id}")
    feedback_store(settings).add(body.query, body.script_id, body.signal, body.index_version)
    return FeedbackStored()


@router.get(
    "/v1/admin/feedback/summary",
    responses=error_responses(401, 403, UNAVAILABLE),
)
def feedback_summary(_: AdminDep, engine: EngineDep, settings: SettingsDep) -> FeedbackSummary:
    """Per-script counts, most down-rated first, and the latest queries with negative feedback."""
    store = feedback_store(settings)
    titles = script_titles(engine)
    return FeedbackSummary(
        scripts=[{**row, "title": titles.get(row["script_id"])} for row in store.counts()],
        recent_negative=store.recent_negative(),
    )
