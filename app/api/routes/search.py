from fastapi import APIRouter, HTTPException, status

from app.api.deps import EngineDep, UsageDep
from app.api.schemas import (
    ArticleOut,
    Citation,
    DetectedScenario,
    MatchOut,
    PassageOut,
    ScriptOut,
    SearchRequest,
    SearchResponse,
    StatuteHit,
    error_responses,
)
from app.corpus.scripts import Script
from app.corpus.statutes import UnknownStatute, article_json
from app.search.engine import SearchEngine, SearchResult
from app.text.normalize import normalize

router = APIRouter(tags=["search"])


@router.post(
    "/v1/search", responses=error_responses(400, 413, (422, "Invalid fields, or an unknown scenario id"), 503)
)
def search(body: SearchRequest, engine: EngineDep, usage: UsageDep) -> SearchResponse:
    """Scripts that fit the complaint, ranked, with the statutes they rely on; plus the most
    relevant statutes and course passages."""
    unknown = list(dict.fromkeys(s for s in body.scenarios or [] if s not in engine.scenario_names))
    if unknown:  # a 422, as the contract has always said (an id the loaded taxonomy lacks)
        named = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown scenario id(s): {named}; see GET /v1/scenarios"
        )
    result = engine.search(body.query, top_k=body.top_k, scenarios=body.scenarios, channel=body.channel)
    usage.shown(s.record.id for s in result.scripts)
    usage.asked(body.query, result.match.level)
    return SearchResponse(**search_fields(engine, body.query, result))


def search_fields(engine: SearchEngine, query: str, result: SearchResult) -> dict:
    """A search's answer, for /v1/search and for the latest turn of /v1/assist."""
    return dict(
        query=query,
        normalized_query=normalize(query),
        index_version=result.index_version,
        took_ms=round(result.took_ms, 2),
        match=MatchOut(**vars(result.match)),
        detected_scenarios=[DetectedScenario(id=d.id, name=d.name, score=round(d.score, 4)) for d in result.detected_scenarios],
        scripts=[_script_out(engine, s.record, s.score) for s in result.scripts],
        statutes=[StatuteHit(**article_json(a.article), score=round(a.score, 4)) for a in result.statutes],
        passages=[
            PassageOut(document=p.document, section=p.section, text=p.text, score=round(s, 4))
            for p, s in result.passages
        ],
    )


def _script_out(engine: SearchEngine, script: Script, score: float) -> ScriptOut:
    citations: list[Citation] = []
    for ref in script.citations:
        try:
            resolution = engine.book.resolve(ref.law, ref.article_no)
        except UnknownStatute:
            continue
        cited_as = None if resolution.cited.in_force else ArticleOut(**article_json(resolution.cited))
        citations += [Citation(**article_json(a), cited_as=cited_as) for a in resolution.in_force]
    fields = script.model_dump(
        include={"id", "title", "scenarios", "technique", "situation", "text", "notes", "channels", "slots", "source"}
    )
    return ScriptOut(**fields, score=round(score, 4), citations=citations)
