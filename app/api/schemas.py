"""Request and response bodies of the public HTTP contract (see docs/api.md)."""

import re
import unicodedata
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints, field_validator

from app.corpus.scripts import Channel
from app.index.store import VERSION_NAME

MAX_QUERY_CHARS = 1000
MAX_SCENARIO_FILTER = 100  # more than the taxonomy has
MAX_TURNS = 50
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# White space as str.strip() sees it, spelled out so that the schema's pattern means the same in
# every regex dialect (ECMA's \s is another set).
SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# What shows nothing: control characters and Unicode's format characters (zero-width spaces and
# joiners, direction marks, the byte order mark, ...; those of the Basic Multilingual Plane).
INVISIBLE = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
_VISIBLE = re.compile(f"[^{SPACE}{INVISIBLE}]")
# The rules of a query below, as a JSON schema pattern (the NFKC limit aside, which no pattern
# can state): 1 to MAX_QUERY_CHARS characters once trimmed, at least one of them visible.
QUERY_PATTERN = (
    rf"^[{SPACE}]*(?=[{SPACE}{INVISIBLE}]*{_VISIBLE.pattern})"
    rf"[^{SPACE}](?:[\s\S]{{0,{MAX_QUERY_CHARS - 2}}}[^{SPACE}])?[{SPACE}]*$"
)


def _valid_text(value: object) -> object:
    # JSON may escape half of a surrogate pair ("\ud800") alone: that is no character at all,
    # and neither the search nor a JSON answer could encode it.
    if isinstance(value, str) and _LONE_SURROGATE.search(value):
        raise ValueError("contains a lone surrogate (\\ud800 to \\udfff), which is not valid Unicode text")
    return value


def text(**constraints) -> type[str]:
    """A string of valid Unicode text with the given StringConstraints."""
    return Annotated[str, StringConstraints(**constraints), BeforeValidator(_valid_text)]


def stated_pattern(pattern: str):
    """A rule that a validator checks (with a readable message), stated in the OpenAPI schema too:
    what the schema allows, the service accepts."""
    return Field(json_schema_extra={"pattern": pattern})


class ErrorOut(BaseModel):
    detail: str = Field(description="One readable sentence saying what is wrong.")


class ValidationProblem(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, `query` or `path`, then the field.")
    msg: str
    type: str


class ValidationErrorOut(ErrorOut):
    errors: list[ValidationProblem] = Field(
        default_factory=list,
        description="Each problem found in the body, query or path; absent when the request is well formed "
        "but names something unknown.",
    )


ERROR_DESCRIPTIONS = {
    400: "The body cannot be read: JSON that is not UTF-8, or a broken multipart form",
    401: "Missing or wrong admin token",
    403: "Admin API disabled: no ADMIN_TOKEN or ADMIN_TOKENS configured",
    404: "Not found",
    409: "Conflicts with the state of the service",
    413: "Request body too large",
    415: "Unsupported file type",
    422: "Invalid request",
    503: "No index loaded",
}


def error_responses(*errors: int | tuple[int, str]) -> dict[int | str, dict]:
    """The `responses=` of a route: the error statuses it answers, each a status code or a
    (status code, description) pair, documented with the body it carries."""
    responses: dict[int | str, dict] = {}
    for error in errors:
        code, description = error if isinstance(error, tuple) else (error, ERROR_DESCRIPTIONS[error])
        responses[code] = {"model": ValidationErrorOut if code == 422 else ErrorOut, "description": description}
    return responses


def searchable(what: str, remedy: str):
    """The rules of a text that is searched: 1 to MAX_QUERY_CHARS characters once trimmed, also
    once normalised, at least one of them visible. `what` and `remedy` name it in the messages."""

    def check(value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(f"{what} is empty: {remedy}")
        if len(value) > MAX_QUERY_CHARS:
            raise ValueError(f"{what} has {len(value)} characters; at most {MAX_QUERY_CHARS} are allowed")
        if not _VISIBLE.search(value):
            raise ValueError(f"{what} has no visible characters: {remedy}")
        # The search works on the normalised text, where one compatibility character can expand
        # to many (U+FDFA is 18): the limit holds there too, or a short query costs minutes.
        normalised = len(unicodedata.normalize("NFKC", value))
        if normalised > MAX_QUERY_CHARS:
            raise ValueError(
                f"{what} has {normalised} characters once normalised (NFKC); at most {MAX_QUERY_CHARS} are allowed"
            )
        return value

    return Annotated[text(), AfterValidator(check), stated_pattern(QUERY_PATTERN)]


# A complaint as an agent types it: searched, and stored with feedback.
Query = searchable("the query", "describe the customer's complaint")
# What one side of a call said.
TurnText = searchable("the turn", "send what was said, or leave the turn out")


class SearchRequest(BaseModel):
    query: Query = Field(
        description="The agent's description of the complaint; 1 to 1000 characters after trimming, "
        "also once normalised (NFKC); at least one visible character."
    )
    top_k: int = Field(default=5, ge=1, le=50, description="How many scripts to return.")
    scenarios: list[text(max_length=100)] | None = Field(
        default=None, max_length=MAX_SCENARIO_FILTER, description="Restrict scripts to these scenario ids."
    )
    channel: Channel = Field(
        default="phone",
        description="Where the agent speaks to the customer: scripts written for another channel (a counter "
        "script that offers a glass of water, on the phone) rank below those that can be said as written.",
    )


class DetectedScenario(BaseModel):
    id: str
    name: str
    score: float


class ArticleOut(BaseModel):
    law: str = Field(description="Full official title of the law.")
    article_no: int
    article: str = Field(description="The article label, e.g. 第五十五条.")
    text: str | None


class Citation(ArticleOut):
    cited_as: ArticleOut | None = Field(
        default=None, description="The repealed or renumbered provision the script was written against, if any."
    )


class ScriptSource(BaseModel):
    document: str | None
    section: str | None
    origin: str


class ScriptOut(BaseModel):
    id: str
    title: str
    scenarios: list[str]
    technique: str
    situation: str
    text: str
    notes: str | None
    score: float
    citations: list[Citation]
    channels: list[Channel] = Field(
        description="Where the script can be said as written: phone, counter (face to face), online (chat)."
    )
    slots: list[str] = Field(
        description="Named slots in `text`, `{金额}` for the slot 金额, in order: facts the agent fills in."
    )
    source: ScriptSource


class StatuteHit(ArticleOut):
    score: float


class PassageOut(BaseModel):
    document: str
    section: str
    text: str
    score: float


class MatchOut(BaseModel):
    level: Literal["strong", "weak", "none"] = Field(
        description="strong: the first script fits; weak: the nearest scripts only partly fit (show them, say so); "
        "none: nothing in the knowledge base fits, and `scripts` holds general handling scripts."
    )
    confidence: float = Field(
        ge=0, le=1, description="How likely the first script fits, calibrated on labelled queries (app/search/match.py)."
    )
    reason: str = Field(description="One short Chinese sentence an agent can read.")


class SearchResponse(BaseModel):
    query: str
    normalized_query: str = Field(
        description="The query as searched: traditional characters in simplified, Cantonese and Taiwanese words "
        "in Mandarin, full-width letters, digits and punctuation in half-width (NFKC), invisible characters "
        "removed. A client highlights the words of both `query` and this in the results (simplified characters)."
    )
    index_version: str
    took_ms: float
    match: MatchOut
    detected_scenarios: list[DetectedScenario]
    scripts: list[ScriptOut]
    statutes: list[StatuteHit]
    passages: list[PassageOut]


class TurnIn(BaseModel):
    role: Literal["customer", "agent"]
    text: TurnText = Field(description="What was said; the same rules as a search's query.")


class AssistRequest(BaseModel):
    turns: list[TurnIn] = Field(
        min_length=1,
        max_length=MAX_TURNS,
        description="The call so far, oldest first; at least one customer turn.",
        json_schema_extra={"contains": {"type": "object", "properties": {"role": {"const": "customer"}}}},
    )
    top_k: int = Field(default=5, ge=1, le=50, description="How many scripts to return.")
    channel: Channel = Field(default="phone", description="As in a search.")

    @field_validator("turns")
    @classmethod
    def has_customer_turn(cls, turns: list[TurnIn]) -> list[TurnIn]:
        if not any(turn.role == "customer" for turn in turns):
            raise ValueError("the conversation has no customer turn: send what the customer said")
        return turns


class DemandOut(BaseModel):
    scenario: str
    name: str
    turn: int = Field(description="The turn where the customer first raised it (0 is the first turn).")


class EscalationReasonOut(BaseModel):
    kind: Literal["media", "regulator", "legal", "repeat-contact", "high-amount", "vulnerable", "threat"]
    evidence: str = Field(description="The customer's words that show it, exactly as in the turn.")
    turn: int


class EscalationOut(BaseModel):
    level: Literal["none", "watch", "high"] = Field(
        description="none: no sign; watch: one sign; high: a threat, an intention to go to the media, a regulator "
        "or court, or several signs together."
    )
    reasons: list[EscalationReasonOut]
    advice: str = Field(description="What the course material says to do; empty for none.")


class FactOut(BaseModel):
    kind: Literal["amount", "duration", "date"]
    words: str = Field(description="As said in the turn.")
    turn: int
    value: float | None = Field(
        description="Yuan for an amount, hours for a duration, days before today for a date; null when the words "
        "do not name one value (上个月, 去年)."
    )
    date: str | None = Field(description="The day a date names (ISO 8601), when it names one.")
    statute: ArticleOut | None = Field(description="The provision the fact can be checked against, with its text.")
    implies: str | None = Field(description="What the fact means against that provision, in one sentence.")


class AssistResponse(SearchResponse):
    demands: list[DemandOut] = Field(description="Every demand raised so far, in the order raised.")
    escalation: EscalationOut
    facts: list[FactOut] = Field(description="Amounts, durations and dates said in the call, in order.")


class StatuteOut(ArticleOut):
    short: str
    level: str | None
    chapter: str | None
    status: str = Field(description="current or repealed")
    superseded_by: list[ArticleOut] | None = Field(
        default=None, description="For a repealed or renumbered provision: the provisions in force that replace it."
    )


class ScenarioOut(BaseModel):
    id: str
    group: str
    name: str
    looks_like: str
    statute_hints: list[str] = Field(description="Leads from the course material, unverified.")
    statutes: list[ArticleOut] = Field(
        description="The provisions in force that govern this kind of complaint (reviewed), with their text."
    )
    says: list[str] = Field(description="Things customers say when it applies, matched beside the description.")
    script_count: int


class ScenariosResponse(BaseModel):
    groups: dict[str, str]
    scenarios: list[ScenarioOut]


class ReadyResponse(BaseModel):
    status: str
    index_version: str
    model: str
    counts: dict[str, int]


class FeedbackRequest(BaseModel):
    query: Query = Field(
        description="The query the agent searched when giving the feedback; the same rules as a search's query."
    )
    script_id: text(max_length=200) = Field(
        description="The script the feedback is about; must exist in the loaded index."
    )
    signal: Literal["up", "down", "copied"]
    index_version: Annotated[text(max_length=100), stated_pattern(f"^{VERSION_NAME.pattern}$")] = Field(
        description="The `index_version` of the search response: letters, digits, `.`, `_`, `-`."
    )

    @field_validator("index_version")
    @classmethod
    def version_name(cls, value: str) -> str:
        # Stored and shown to admins: a path or other text there is no version of this service.
        if not VERSION_NAME.fullmatch(value):
            raise ValueError("not an index version name: send the index_version of the search response")
        return value


class FeedbackStored(BaseModel):
    status: Literal["stored"] = "stored"


class ScriptFeedbackCounts(BaseModel):
    script_id: str
    title: str | None = Field(description="None when the script is no longer in the loaded index.")
    up: int
    down: int
    copied: int


class NegativeFeedback(BaseModel):
    at: str = Field(description="When, ISO 8601 UTC.")
    query: str
    script_id: str
    index_version: str


class FeedbackSummary(BaseModel):
    scripts: list[ScriptFeedbackCounts] = Field(description="Most down-rated first.")
    recent_negative: list[NegativeFeedback] = Field(description="The latest down-rated queries, newest first.")


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _utc_day(value: object) -> object:
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("not a day: write it as YYYY-MM-DD (a UTC day), e.g. 2026-12-01")


# A UTC day in a query string: exactly YYYY-MM-DD (no timestamps, no other forms).
Day = Annotated[date, BeforeValidator(_utc_day)]


class ScriptFeedbackStats(BaseModel):
    script_id: str
    title: str | None = Field(description="None when the script is no longer in the loaded index.")
    shown: int = Field(description="How often a search or a live call returned it.")
    copied: int
    up: int
    down: int
    copy_rate: float | None = Field(description="copied ÷ shown; null when not shown in the period.")
    down_rate: float | None = Field(description="down ÷ shown; null when not shown in the period.")


class ScriptFeedbackReport(BaseModel):
    since: date | None = Field(description="The first UTC day counted, as asked; null: from the start.")
    until: date | None = Field(description="The last UTC day counted, as asked; null: up to now.")
    scripts: list[ScriptFeedbackStats] = Field(
        description="Every script with any activity in the period: the most disliked first (most 👎, then the "
        "highest down_rate), then those shown but never copied (the most shown first), then the rest (the most "
        "shown first)."
    )


class NearestScenarioOut(BaseModel):
    id: str
    name: str
    score: float = Field(description="Cosine of the group's centroid with the scenario's description or a saying.")


class GapLevels(BaseModel):
    weak: int
    none: int


class GapGroupOut(BaseModel):
    size: int = Field(description="Queries in the group; a query asked twice counts twice.")
    examples: list[str] = Field(description="Up to 5 distinct queries, the most asked first; normalised and masked.")
    levels: GapLevels = Field(description="How many of the group's queries were answered weak and none.")
    nearest_scenario: NearestScenarioOut | None
    last_seen: str = Field(description="When a query of the group was last asked, ISO 8601 UTC.")


class GapsResponse(BaseModel):
    total: int = Field(description="Queries kept in the period (before min_size leaves groups out).")
    groups: list[GapGroupOut] = Field(description="Largest first, then the most recently seen.")
