"""The scenario taxonomy that scripts are tagged with (corpus/scenarios.yaml; ids are a contract)."""

from pathlib import Path

import yaml
from pydantic import BaseModel

from app.corpus.statutes import ArticleRef


class Scenario(BaseModel):
    id: str
    group: str
    name: str
    looks_like: str
    statute_hints: list[str] = []  # leads from the course material, unverified
    statutes: list[ArticleRef] = []  # the provisions that govern this kind of complaint, reviewed
    says: list[str] = []  # what customers say when it applies, in their words (implied demands too)


class Exemplar(BaseModel):
    """One thing customers say when a scenario applies, searched on its own."""

    scenario: str
    text: str


class Taxonomy(BaseModel):
    groups: dict[str, str]
    scenarios: list[Scenario]

    def by_id(self) -> dict[str, Scenario]:
        return {s.id: s for s in self.scenarios}


def load_taxonomy(path: Path) -> Taxonomy:
    return Taxonomy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
