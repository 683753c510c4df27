import time

from fastapi import APIRouter

from app.api.deps import EngineDep, UsageDep
from app.api.routes.search import search_fields
from app.api.schemas import (
    ArticleOut,
    AssistRequest,
    AssistResponse,
    DemandOut,
    EscalationOut,
    EscalationReasonOut,
    FactOut,
    error_responses,
)
from app.call.assist import Turn, assist
from app.corpus.statutes import ArticleRef, article_json
from app.search.engine import SearchEngine

router = APIRouter(tags=["search"])


@router.post("/v1/assist", responses=error_responses(400, 413, 422, 503))
def assist_call(body: AssistRequest, engine: EngineDep, usage: UsageDep) -> AssistResponse:
    """A live call: the conversation so far in; the scripts for the customer's latest turn in the
    light of the earlier ones, every demand raised so far, an escalation warning and the facts
    said (amounts, durations, dates) with the provision each can be checked against. Stateless:
    send the whole conversation each time."""
    started = time.perf_counter()
    turns = [Turn(turn.role, turn.text) for turn in body.turns]
    assisted = assist(engine, turns, top_k=body.top_k, channel=body.channel)
    latest = next(turn.text for turn in reversed(turns) if turn.role == "customer")
    usage.shown(s.record.id for s in assisted.result.scripts)
    if turns[-1].role == "customer":  # the call comes back with every turn: ask about a turn once, when it is new
        usage.asked(latest, assisted.result.match.level)
    fields = search_fields(engine, latest, assisted.result)
    fields["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
    escalation = assisted.escalation
    return AssistResponse(
        **fields,
        demands=[DemandOut(scenario=d.scenario, name=d.name, turn=d.turn) for d in assisted.demands],
        escalation=EscalationOut(
            level=escalation.level,
            reasons=[EscalationReasonOut(kind=r.kind, evidence=r.evidence, turn=r.turn) for r in escalation.reasons],
            advice=escalation.advice,
        ),
        facts=[
            FactOut(
                kind=f.kind, words=f.words, turn=f.turn, value=f.value, date=f.date and f.date.isoformat(),
                statute=_article(engine, f.statute), implies=f.implies,
            )
            for f in assisted.facts
        ],
    )


def _article(engine: SearchEngine, ref: ArticleRef | None) -> ArticleOut | None:
    """The provision with its text; None when the loaded corpus does not have it."""
    article = ref and engine.book.articles.get((ref.law, ref.article_no))
    return ArticleOut(**article_json(article)) if article else None
