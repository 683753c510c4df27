"""A live call (`POST /v1/assist`): the conversation so far in; for the customer's latest turn the
scripts, statutes and passages a search gives, read in the light of the earlier turns, plus every
demand raised so far, the escalation warning and the facts said.

Stateless: the caller sends the turns with every request. What the engine reads from a turn is
kept by text (`SearchEngine.read`), so a call's earlier turns are read once, however often the
conversation comes back.
"""

import datetime
from dataclasses import dataclass
from typing import Literal

from app.call.demand_cues import stated_demands
from app.call.escalation import Escalation, ThreatReader, assess_escalation
from app.call.facts import Fact, extract_facts
from app.search.engine import DEFAULT_CHANNEL, ScoredScript, SearchEngine, SearchResult, Weights
from app.search.threat_neighbours import Threat
from app.text.normalize import normalize

# What a customer asks for or complains about, and who is affected; the process scenarios and the
# other customer types describe the call, not a demand.
DEMAND_GROUPS = ("demand", "business")
RAISED_SITUATIONS = ("vulnerable-customer",)
DEMAND_RATIO = 0.5  # a turn raises the scenarios within this fraction of its best one (docs/evaluation.md)
MAX_DEMANDS_PER_TURN = 3
# A turn the scripts fit only partly ("cx称想退掉合约", an agent's note) raises its best demand
# alone, when the fit is at least this likely (docs/evaluation.md); small talk ("你贵姓") is `none`.
WEAK_TURN_CONFIDENCE = 0.2
# The demand an escalation sign makes (app/call/escalation.py): a call the customer says is not
# their first is a complaint about reaching the company (its scenario names "这是第几次打电话了"), a
# threat is handled as an abnormal complaint (evidence kept, one person in charge); a customer who
# speaks of taking their own life is one in distress (SELF_HARM_DEMAND), never an abnormal complaint.
SIGNALLED_DEMANDS = {
    "media": "media-exposure",
    "regulator": "escalation-appeal",
    "high-amount": "high-compensation",
    "vulnerable": "vulnerable-customer",
    "repeat-contact": "unreachable-service",
    "threat": "abnormal-complaint",
}
SELF_HARM_DEMAND = "vulnerable-customer"
# These are raised by the sign alone, read with its negations, hearsay and jokes, never by a turn's likeness to
# their scripts: "我也不是要去曝光什么的，就希望别再扣了" raises no media demand, and the slots go to the complaint.
SIGN_ONLY_DEMANDS = ("media-exposure", "escalation-appeal", "high-compensation", "abnormal-complaint")
KEPT_FIRST = 3  # the latest turn's best scripts, in the light of the call, stay on top
CANDIDATES = 30  # scripts ranked before the top ones are chosen to cover the open demands


@dataclass(frozen=True)
class Turn:
    role: Literal["customer", "agent"]
    text: str


@dataclass(frozen=True)
class Demand:
    scenario: str
    name: str
    turn: int  # where the customer first raised it


@dataclass
class Assisted:
    result: SearchResult  # for the latest customer turn
    demands: list[Demand]
    escalation: Escalation
    facts: list[Fact]


def assist(
    engine: SearchEngine,
    turns: list[Turn],
    top_k: int = 5,
    channel: str | None = DEFAULT_CHANNEL,
    today: datetime.date | None = None,
    weights: Weights | None = None,
) -> Assisted:
    customer = [i for i, turn in enumerate(turns) if turn.role == "customer"]
    if not customer:
        raise ValueError("the conversation has no customer turn")
    *earlier, latest = customer
    # The search reads every customer turn once (the earlier ones as its context); the demands
    # below find those readings kept.
    result = engine.search(
        turns[latest].text, top_k=CANDIDATES, weights=weights, channel=channel,
        context=[turns[i].text for i in earlier],
    )
    demands: dict[str, Demand] = {}
    for i in customer:
        # A turn's reading ranks its main matter first; a demand it states in words is raised wherever it ranks.
        stated = [s for s in stated_demands(turns[i].text) if s in engine.scenario_names]
        for scenario in turn_demands(engine, turns[i].text, weights) + stated:
            demands.setdefault(scenario, Demand(scenario, engine.scenario_names[scenario], i))
    facts = extract_facts([turn.text for turn in turns], today or datetime.date.today())
    amounts = [(f.turn, f.words, f.value) for f in facts if f.kind == "amount" and f.value is not None]
    escalation = assess_escalation([(turn.role, turn.text) for turn in turns], amounts, threat_reader(engine))
    # A sign of escalation is a demand too: its words are read in their clause, where a turn's
    # scenario match may have ranked the complaint above it.
    for reason in sorted(escalation.reasons, key=lambda r: r.turn):
        scenario = SELF_HARM_DEMAND if reason.self_harm else SIGNALLED_DEMANDS.get(reason.kind)
        if scenario in engine.scenario_names:
            demands.setdefault(scenario, Demand(scenario, engine.scenario_names[scenario], reason.turn))
    raised = sorted(demands.values(), key=lambda d: d.turn)
    result.scripts = covering(awaiting_signs(result.scripts, raised), raised[::-1], top_k)
    return Assisted(result, raised, escalation, facts)


def threat_reader(engine: SearchEngine) -> ThreatReader | None:
    """The index version's threat reader over the engine's encoder, whose cache keeps a call's earlier
    clauses; None for a version without one."""
    neighbours = engine.index.threat_neighbours
    if neighbours is None:
        return None

    def read(clauses: list[str]) -> list[Threat | None]:
        texts = [normalize(c) for c in clauses]
        return neighbours.read(texts, engine.encoder.encode_queries(texts))

    return read


def awaiting_signs(ranked: list[ScoredScript], demands: list[Demand]) -> list[ScoredScript]:
    """The scripts as ranked, but those only for a sign's demand (SIGN_ONLY_DEMANDS) that no sign in the
    call has raised go last: "我不会去找记者的" reads like the media scripts and is no sign."""
    raised = {d.scenario for d in demands}

    def waits(script: ScoredScript) -> bool:
        return all(s in SIGN_ONLY_DEMANDS and s not in raised for s in script.record.scenarios)

    return [s for s in ranked if not waits(s)] + [s for s in ranked if waits(s)]


def covering(ranked: list[ScoredScript], demands: list[Demand], k: int) -> list[ScoredScript]:
    """The first KEPT_FIRST scripts as ranked, then the best script of each demand they leave
    uncovered (in the order given), then the best of the rest."""
    chosen = ranked[:KEPT_FIRST]
    for demand in demands:
        if len(chosen) >= k:
            break
        if any(demand.scenario in s.record.scenarios for s in chosen):
            continue
        best = next((s for s in ranked if demand.scenario in s.record.scenarios and s not in chosen), None)
        if best:
            chosen.append(best)
    return chosen + [s for s in ranked if s not in chosen][: k - len(chosen)]


def turn_demands(engine: SearchEngine, text: str, weights: Weights | None = None) -> list[str]:
    """The demands one customer turn raises: its best scenarios of the demand and business groups
    when a script fits it well, the best one alone when the fit is partial but likely, none
    otherwise ("好的", "你贵姓" raise nothing); the best ones set the bar, but those an escalation
    sign raises (SIGN_ONLY_DEMANDS) are left to the sign."""
    reading = engine.read(text, weights)
    strong = reading.match.level == "strong"
    if not strong and not (reading.match.level == "weak" and reading.match.confidence >= WEAK_TURN_CONFIDENCE):
        return []
    groups = engine.scenario_groups
    scores = sorted(
        (
            (s, sid) for sid, s in reading.scenario_score.items()
            if groups[sid] in DEMAND_GROUPS or sid in RAISED_SITUATIONS
        ),
        reverse=True,
    )
    if not scores:
        return []
    if not strong:
        return [] if scores[0][1] in SIGN_ONLY_DEMANDS else [scores[0][1]]
    floor = scores[0][0] * DEMAND_RATIO
    return [sid for s, sid in scores if s >= floor and sid not in SIGN_ONLY_DEMANDS][:MAX_DEMANDS_PER_TURN]
