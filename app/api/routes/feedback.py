"""Agents' feedback on scripts, and what the people who curate the scripts read of it."""

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import Response

from app.api.deps import AdminDep, EngineDep, SettingsDep, UsageDep, only_params
from app.api.schemas import (
    Day,
    FeedbackRequest,
    FeedbackStored,
    FeedbackSummary,
    ScriptFeedbackReport,
    ScriptFeedbackStats,
    error_responses,
)
from app.core.config import Settings
from app.feedback.store import FeedbackStore
from app.search.engine import SearchEngine
from app.store.database import database

router = APIRouter(tags=["feedback"])
UNAVAILABLE = (
    503, "No index loaded, or the feedback database cannot be used (locked, read-only, full; PostgreSQL down)"
)


def feedback_store(settings: Settings) -> FeedbackStore:
    return FeedbackStore(database(settings, "feedback"))  # migrated once per process


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


SinceDay = Annotated[Day | None, Query(description="The first UTC day counted, YYYY-MM-DD; none: from the start.")]
UntilDay = Annotated[Day | None, Query(description="The last UTC day counted, YYYY-MM-DD; none: up to now.")]
PERIOD_ERRORS = error_responses(
    401, 403, (422, "A day that is not YYYY-MM-DD, since after until, or another query parameter"), UNAVAILABLE
)


def period_report(
    _: AdminDep,
    engine: EngineDep,
    settings: SettingsDep,
    usage: UsageDep,
    since: SinceDay = None,
    until: UntilDay = None,
) -> ScriptFeedbackReport:
    """Per script over the period asked: shown, copied, 👍 and 👎, in the order admins read them."""
    if since and until and since > until:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"since ({since}) is after until ({until}): swap them"
        )
    usage.flush()  # what this process counted in the last seconds is in the answer too
    titles = script_titles(engine)
    stats = [
        ScriptFeedbackStats(
            **row,
            title=titles.get(row["script_id"]),
            copy_rate=_rate(row["copied"], row["shown"]),
            down_rate=_rate(row["down"], row["shown"]),
        )
        for row in feedback_store(settings).script_counts(since, until)
    ]
    return ScriptFeedbackReport(since=since, until=until, scripts=sorted(stats, key=_dislike_order))


PeriodReport = Annotated[ScriptFeedbackReport, Depends(period_report)]


@router.get("/v1/admin/feedback/scripts", responses=PERIOD_ERRORS, dependencies=[only_params("since", "until")])
def feedback_per_script(report: PeriodReport) -> ScriptFeedbackReport:
    """Per script over a period: how often it was shown, copied, rated 👍 and 👎; the scripts
    agents dislike first, then those shown but never copied."""
    return report


CSV_COLUMNS = list(ScriptFeedbackStats.model_fields)


@router.get(
    "/v1/admin/feedback/scripts.csv",
    response_class=Response,
    dependencies=[only_params("since", "until")],
    responses={200: {"content": {"text/csv": {}}, "description": "The same rows as CSV (UTF-8 with BOM)"}}
    | PERIOD_ERRORS,
)
def feedback_per_script_csv(report: PeriodReport) -> Response:
    """The same as /v1/admin/feedback/scripts, as a CSV file with a header row: UTF-8 with a
    byte order mark, so that Excel reads the Chinese titles right."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in report.scripts:
        writer.writerow(row.model_dump())
    name = f"feedback-scripts-{report.since or 'start'}-{report.until or 'now'}.csv"
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _rate(count: int, shown: int) -> float | None:
    return round(count / shown, 4) if shown else None


def _dislike_order(s: ScriptFeedbackStats) -> tuple:
    """The most disliked first, then shown but never copied, then the rest; the most shown first within each."""
    if s.down:
        return (0, -s.down, -(s.down_rate or 0), s.script_id)
    if s.shown and not s.copied:
        return (1, -s.shown, 0, s.script_id)
    return (2, -s.shown, 0, s.script_id)
