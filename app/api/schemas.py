"""Request and response bodies of the public HTTP contract (see docs/api.md)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

MAX_QUERY_CHARS = 1000


class SearchRequest(BaseModel):
    query: str = Field(description="The agent's description of the complaint; 1 to 1000 characters after trimming.")
    top_k: int = Field(default=5, ge=1, le=50, description="How many scripts to return.")
    scenarios: list[str] | None = Field(default=None, description="Restrict scripts to these scenario ids.")

    @field_validator("query")
    @classmethod
    def query_length(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the query is empty: describe the customer's complaint")
        if len(value) > MAX_QUERY_CHARS:
            raise ValueError(f"the query has {len(value)} characters; at most {MAX_QUERY_CHARS} are allowed")
        return value


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
    source: ScriptSource


class StatuteHit(ArticleOut):
    score: float


class PassageOut(BaseModel):
    document: str
    section: str
    text: str
    score: float


class SearchResponse(BaseModel):
    query: str
    index_version: str
    took_ms: float
    detected_scenarios: list[DetectedScenario]
    scripts: list[ScriptOut]
    statutes: list[StatuteHit]
    passages: list[PassageOut]


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
    statute_hints: list[str]
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
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY_CHARS)] = Field(
        description="The query the agent searched when giving the feedback; 1 to 1000 characters after trimming."
    )
    script_id: str = Field(description="The script the feedback is about; must exist in the loaded index.")
    signal: Literal["up", "down", "copied"]
    index_version: str = Field(max_length=100, description="The `index_version` of the search response.")


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
