"""What agents asked that the scripts do not cover: the gaps log, grouped by meaning."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import AdminDep, EngineDep, SettingsDep, UsageDep, only_params
from app.api.routes.feedback import UNAVAILABLE, feedback_store
from app.api.schemas import GapGroupOut, GapsResponse, error_responses
from app.feedback.gaps import GapGrouper
from app.feedback.usage import GAP_KEEP_DAYS, GAP_KEEP_ROWS

router = APIRouter(tags=["feedback"])
_grouper = GapGrouper()  # its embeddings stay cached between requests


@router.get(
    "/v1/admin/gaps",
    responses=error_responses(401, 403, (422, "days or min_size out of range, or another parameter"), UNAVAILABLE),
    dependencies=[only_params("days", "min_size")],
)
def gaps(
    _: AdminDep,
    engine: EngineDep,
    settings: SettingsDep,
    usage: UsageDep,
    days: Annotated[int, Query(ge=1, le=GAP_KEEP_DAYS, description="The last this many days (90 are kept).")] = 30,
    min_size: Annotated[int, Query(ge=1, le=GAP_KEEP_ROWS, description="Leave out smaller groups.")] = 1,
) -> GapsResponse:
    """The recent queries whose match was weak or none (normalised, phone and ID numbers masked),
    grouped by meaning, each group with its size, examples and the nearest scenario; largest first."""
    usage.flush()  # the last seconds' queries of this process too
    kept = feedback_store(settings).gaps(since=datetime.now(UTC) - timedelta(days=days))
    groups = _grouper.group(engine, kept, min_size)
    return GapsResponse(
        total=len(kept),
        groups=[
            GapGroupOut(
                size=g.size, examples=g.examples, levels=g.levels, last_seen=g.last_seen,
                nearest_scenario=g.nearest_scenario and vars(g.nearest_scenario),
            )
            for g in groups
        ],
    )
