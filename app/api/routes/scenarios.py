from collections import Counter

from fastapi import APIRouter

from app.api.deps import EngineDep
from app.api.schemas import ScenarioOut, ScenariosResponse, error_responses
from app.corpus.statutes import article_json

router = APIRouter(tags=["scenarios"])


@router.get("/v1/scenarios", responses=error_responses(503))
def list_scenarios(engine: EngineDep) -> ScenariosResponse:
    """The scenario taxonomy, with the provisions that govern each scenario and how many scripts it has."""
    counts = Counter(sid for script in engine.index.collections["scripts"].records for sid in script.scenarios)
    taxonomy = engine.index.taxonomy
    return ScenariosResponse(
        groups=taxonomy.groups,
        scenarios=[
            ScenarioOut(
                **s.model_dump(exclude={"statutes"}),
                statutes=[article_json(a) for a in engine.scenario_statutes[s.id]],
                script_count=counts[s.id],
            )
            for s in taxonomy.scenarios
        ],
    )
