"""Scripts edited in place and scenarios added by admins: drafts, publishing, the change record.

What admins publish is kept in the `admin` database (app/store/database.py: a SQLite file in the
data directory beside the uploads, or the PostgreSQL database replicas share); the corpus files
stay as git has them. Every index build applies it over the corpus and the uploads
(app/corpus/loader.py, Edits): an edited script replaces the script of its id, a deleted one is
left out, a new one is added, an added scenario joins the taxonomy.

Each script id has a revision that every saved change raises (draft saved, deleted, discarded,
published, reverted). A save names the revision it started from and a stale one is refused, so
two admins editing one script never overwrite each other unseen.

Nothing is stored that the corpus could not build with: a draft is checked as the corpus would
be with it published (the loader's own validation), and so is a publish and a revert. All SQL
is in EditStore.
"""

import json
import re
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import Connection, exc, func, insert, select, update

from app.admin.uploads import RECORDS
from app.core.errors import Conflict, Invalid, NotFound
from app.corpus.documents import DocumentStore
from app.corpus.loader import Corpus, Edits, build_corpus
from app.corpus.scenarios import Scenario
from app.corpus.scripts import Script, ScriptError
from app.corpus.statutes import ArticleRef, StatuteError, UnknownStatute
from app.store.database import Database, insert_or_update
from app.store.tables import changes, scenarios, scripts

SCENARIO_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"

class Problem(BaseModel):
    field: str = Field(description="Where: `text`, `scenarios[1]`, `citations[0]`, `id`, ... or `script` (as a whole).")
    message: str


class Cited(BaseModel):
    law: str
    article_no: int
    found: bool
    text: str | None = Field(description="The article's text; null when it names no article (or its text is not kept).")


class ScriptState(BaseModel):
    id: str
    published: Script | None = Field(description="The script as the next build has it; null when it has none.")
    draft: Script | None
    draft_deletes: bool = Field(description="Publishing removes the script.")
    revision: int = Field(
        description="Raised by every saved change of this id; a change names the one it started from."
    )
    cited: list[Cited] = Field(description="The citations of the draft (or of the published script), with their text.")
    problems: list[Problem] = Field(description="What keeps the draft from being published, as the corpus is now.")


class ScriptSummary(BaseModel):
    id: str
    title: str
    scenarios: list[str]
    technique: str
    has_draft: bool
    draft_deletes: bool
    revision: int


class ScriptList(BaseModel):
    total: int
    scripts: list[ScriptSummary]


class Change(BaseModel):
    id: int
    at: str
    who: str = Field(description="The label of the admin token that made it.")
    kind: Literal["publish", "revert", "scenario"]
    target: str = Field(description="The script id, or the scenario id.")
    before: dict | None = Field(description="The script before (null: it did not exist).")
    after: dict | None = Field(description="The script after (null: deleted), or the scenario added.")


class NewScenario(BaseModel):
    id: str = Field(
        max_length=60, description="Lowercase ASCII words joined by '-'.", json_schema_extra={"pattern": SCENARIO_ID}
    )
    name: str = Field(min_length=1, max_length=60)
    group: str = Field(description="A group of the taxonomy (GET /v1/scenarios: `groups`).")
    looks_like: list[str] = Field(
        min_length=1, description="What the complaint looks like, in a few descriptions; searched with the scenario."
    )
    says: list[str] = Field(default=[], description="What customers say when it applies, in their words.")

    @field_validator("id")
    @classmethod
    def _id_words(cls, value: str) -> str:
        if not re.fullmatch(SCENARIO_ID, value):
            raise ValueError("write the id as lowercase ASCII words joined by '-', e.g. late-refund")
        return value

    @field_validator("name", "looks_like", "says")
    @classmethod
    def _not_blank(cls, value: str | list[str]) -> str | list[str]:
        if any(not v.strip() for v in ([value] if isinstance(value, str) else value)):
            raise ValueError("must not be blank")
        return value

    def scenario(self) -> Scenario:
        looks_like = "；".join(self.looks_like)  # the taxonomy's one description
        return Scenario(id=self.id, group=self.group, name=self.name, looks_like=looks_like, says=self.says)


class StaleRevision(Conflict):
    pass


class EditRefused(Invalid):
    """An edit the corpus could not build with; `problems` says where, each with its field."""

    def __init__(self, problems: list[Problem], cited: list[Cited]):
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first.field}: {first.message}{more}")
        self.problems, self.cited = problems, cited

    def fields(self) -> dict:
        return {"problems": [p.model_dump() for p in self.problems], "cited": [c.model_dump() for c in self.cited]}


class EditStore:
    """Drafts, what is published and the change record: every statement is here."""

    def __init__(self, db: Database):
        self.db = db

    def connect(self, lock: bool = False) -> AbstractContextManager[Connection]:
        """A transaction; with `lock`, no other process or thread saves an edit until it ends, so
        that the revision it reads is still the script's when it writes."""
        return self.db.transaction(lock="edits" if lock else None)

    @staticmethod
    def row(db: Connection, script_id: str) -> dict | None:
        found = db.execute(select(scripts).where(scripts.c.id == script_id)).first()
        return None if found is None else _row(found)

    @staticmethod
    def rows(db: Connection) -> dict[str, dict]:
        return {found.id: _row(found) for found in db.execute(select(scripts))}

    @staticmethod
    def edits(db: Connection) -> Edits:
        published = db.execute(select(scripts.c.id, scripts.c.published).where(scripts.c.edited == 1))
        records = db.execute(select(scenarios.c.record).order_by(scenarios.c.position, scenarios.c.id)).scalars()
        return Edits({i: _script(p) for i, p in published}, [Scenario.model_validate_json(r) for r in records])

    @staticmethod
    def save(db: Connection, script_id: str, **values) -> None:
        """Set the given columns of a script id (creating its row), raising its revision."""
        values = {k: _json(v) if k in ("published", "draft") else v for k, v in values.items()}
        new = insert_or_update(db, scripts).values(id=script_id, revision=0)
        db.execute(new.on_conflict_do_nothing(index_elements=[scripts.c.id]))
        db.execute(update(scripts).where(scripts.c.id == script_id).values(**values, revision=scripts.c.revision + 1))

    @staticmethod
    def add_scenario(db: Connection, scenario: Scenario) -> None:
        position = select(func.coalesce(func.max(scenarios.c.position), 0) + 1).scalar_subquery()
        db.execute(insert(scenarios).values(id=scenario.id, record=scenario.model_dump_json(), position=position))

    @staticmethod
    def record(db: Connection, who: str, kind: str, target: str, before, after) -> Change:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        result = db.execute(insert(changes).values(
            at=at, who=who, kind=kind, target=target, before=_json(before), after=_json(after)
        ))
        return Change(id=result.inserted_primary_key[0], at=at, who=who, kind=kind, target=target,
                      before=_dict(before), after=_dict(after))

    @staticmethod
    def changes(db: Connection, target: str | None, limit: int, change_id: int | None = None) -> list[Change]:
        query = select(changes).order_by(changes.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(changes.c.target == target)
        if change_id is not None:
            query = query.where(changes.c.id == change_id)
        return [
            Change(id=i, at=at, who=who, kind=kind, target=t, before=_load(b), after=_load(a))
            for i, at, who, kind, t, b, a in db.execute(query)
        ]


def _row(found) -> dict:
    """A script's row as the editor reads it: drafts and published scripts parsed."""
    return {
        "revision": found.revision, "edited": bool(found.edited), "published": _script(found.published),
        "draft": _script(found.draft), "draft_deletes": bool(found.draft_deletes),
    }


def published_edits(db: Database) -> Edits:
    """What admins published, as every index build applies it."""
    if not db.exists():  # nothing edited yet: a build never needs the data directory to be writable
        return Edits()
    store = EditStore(db)
    with store.connect() as connection:
        return store.edits(connection)


class ScriptEditor:
    """The script and scenario edits of the admin API, each checked against the whole corpus.

    A change is checked outside any transaction (building the corpus takes a fraction of a
    second), then stored in a short one that first makes sure the script's revision is still the
    one checked: a concurrent change in between makes it a 409, never a lost update."""

    def __init__(self, db: Database, corpus_dir: Path, documents: DocumentStore):
        self.store, self.corpus_dir, self.documents = EditStore(db), corpus_dir, documents

    def edits(self) -> Edits:
        return published_edits(self.store.db)

    def corpus(self, edits: Edits) -> Corpus:
        """The corpus as the next build reads it with `edits` (courses aside: nothing depends on them)."""
        return build_corpus(self.corpus_dir, self.documents.uploads(RECORDS), edits)

    def state(self, script_id: str) -> ScriptState:
        row, edits, corpus = self._read(script_id)
        published = _published(script_id, corpus)
        if published is None and not row["draft"]:
            raise NotFound(f"no script {script_id!r}")
        return self._state(script_id, row, published, corpus, edits)

    def summaries(self, scenario: str | None, q: str | None, limit: int, offset: int) -> ScriptList:
        with self.store.connect() as db:
            rows, edits = self.store.rows(db), self.store.edits(db)
        scripts = {s.id: s for s in self.corpus(edits).scripts}
        found = []
        for script_id in sorted(scripts.keys() | {i for i, r in rows.items() if r["draft"]}):
            row = rows.get(script_id) or _NO_ROW
            versions = [s for s in (scripts.get(script_id), row["draft"]) if s]
            if scenario and not any(scenario in s.scenarios for s in versions):
                continue
            if q and not any(q in field for s in versions for field in (s.id, s.title, s.situation, s.text)):
                continue
            shown = row["draft"] or scripts[script_id]
            found.append(ScriptSummary(
                id=script_id, title=shown.title, scenarios=shown.scenarios, technique=shown.technique,
                has_draft=row["draft"] is not None, draft_deletes=row["draft_deletes"], revision=row["revision"],
            ))
        return ScriptList(total=len(found), scripts=found[offset : offset + limit])

    def validate(self, script: dict, new: bool = False) -> tuple[list[Problem], list[Cited]]:
        """What keeps `script` from being published, as the corpus is now; stores nothing."""
        row, edits, corpus = self._read(script.get("id") if isinstance(script.get("id"), str) else "")
        problems, cited, parsed = _check(script, corpus)
        if new and parsed and _exists(parsed.id, row, corpus):
            problems.insert(0, Problem(field="id", message=f"{parsed.id} is taken: choose another id"))
        if parsed and not problems:
            problems = self._builds(edits, parsed.id, parsed)
        return problems, cited

    def create(self, script_id: str, script: dict) -> ScriptState:
        """A new script, as a draft."""
        row, edits, corpus = self._read(script_id)
        if _exists(script_id, row, corpus):
            raise Conflict(f"script {script_id} exists already: open it and edit it, or choose another id")
        parsed = self._checked(script_id, script, corpus, edits)
        row, _ = self._commit(script_id, row["revision"], draft=parsed, draft_deletes=0)
        return self._state(script_id, row, None, corpus, edits)

    def save(self, script_id: str, script: dict, revision: int) -> ScriptState:
        """The draft of an existing script (published, or a draft not yet published)."""
        row, edits, corpus = self._read(script_id)
        published = _published(script_id, corpus)
        if published is None and not row["draft"]:
            raise NotFound(f"no script {script_id!r}: create it with POST /v1/admin/scripts/{script_id}")
        _check_revision(script_id, row, revision)
        parsed = self._checked(script_id, script, corpus, edits)
        row, _ = self._commit(script_id, revision, draft=parsed, draft_deletes=0)
        return self._state(script_id, row, published, corpus, edits)

    def delete(self, script_id: str, revision: int) -> ScriptState:
        """A draft that removes the published script."""
        row, edits, corpus = self._read(script_id)
        published = _published(script_id, corpus)
        if published is None:
            if row["draft"]:
                raise Conflict(f"script {script_id} was never published: discard its draft instead")
            raise NotFound(f"no script {script_id!r}")
        row, _ = self._commit(script_id, revision, draft=None, draft_deletes=1)
        return self._state(script_id, row, published, corpus, edits)

    def discard(self, script_id: str, revision: int) -> ScriptState:
        row, edits, corpus = self._read(script_id)
        published = _published(script_id, corpus)
        if published is None and not row["draft"]:
            raise NotFound(f"no script {script_id!r}")
        if not (row["draft"] or row["draft_deletes"]):
            raise Conflict(f"script {script_id} has no draft to discard")
        row, _ = self._commit(script_id, revision, draft=None, draft_deletes=0)
        return self._state(script_id, row, published, corpus, edits)

    def publish(self, script_id: str, revision: int, who: str) -> Change:
        """The draft (or the delete) becomes what the next build has; recorded as a change."""
        row, edits, corpus = self._read(script_id)
        before = _published(script_id, corpus)
        if before is None and not row["draft"]:
            raise NotFound(f"no script {script_id!r}")
        _check_revision(script_id, row, revision)
        if not (row["draft"] or row["draft_deletes"]):
            raise Conflict(f"script {script_id} has no draft to publish: save one first")
        self._publishable(edits, script_id, row["draft"])
        _, change = self._commit(
            script_id, revision, ("publish", who, before), edited=1, published=row["draft"], draft=None, draft_deletes=0
        )
        return change

    def revert(self, change_id: int, who: str) -> Change:
        """Publish what a change replaced (its `before`); the script's draft stays."""
        with self.store.connect() as db:
            change = next(iter(self.store.changes(db, None, 1, change_id)), None)
        if change is None:
            raise NotFound(f"no change {change_id}")
        if change.kind == "scenario":
            raise Conflict("an added scenario is not removed (scripts and clients may use its id)")
        row, edits, corpus = self._read(change.target)
        restored = change.before and Script.model_validate(change.before)
        self._publishable(edits, change.target, restored)
        before = _published(change.target, corpus)
        _, change = self._commit(change.target, row["revision"], ("revert", who, before), edited=1, published=restored)
        return change

    def add_scenario(self, new: NewScenario, who: str) -> Change:
        scenario = new.scenario()
        taxonomy = self.corpus(self.edits()).taxonomy
        if scenario.group not in taxonomy.groups:
            raise Invalid(f"unknown group {scenario.group!r}: one of {', '.join(taxonomy.groups)}")
        taken = Conflict(f"scenario id {scenario.id} is taken: choose another")
        if scenario.id in taxonomy.by_id():
            raise taken
        try:
            with self.store.connect() as db:
                self.store.add_scenario(db, scenario)
                return self.store.record(db, who, "scenario", scenario.id, None, new.model_dump())
        except exc.IntegrityError:  # added meanwhile
            raise taken from None

    def changes(self, target: str | None, limit: int) -> list[Change]:
        if target and "\x00" in target:  # no id has one (and PostgreSQL's text cannot hold it)
            return []
        with self.store.connect() as db:
            return self.store.changes(db, target, limit)

    def _read(self, script_id: str) -> tuple[dict, Edits, Corpus]:
        """A script's row (revision 0 when never changed), the published edits, and the corpus with them."""
        with self.store.connect() as db:
            row, edits = self.store.row(db, script_id) or _NO_ROW, self.store.edits(db)
        return row, edits, self.corpus(edits)

    def _commit(
        self, script_id: str, revision: int, record: tuple | None = None, **values
    ) -> tuple[dict, Change | None]:
        """Store a checked change if the script is still at `revision`; with `record` (kind, who,
        the script before), the change record in the same transaction. Returns the row after."""
        with self.store.connect(lock=True) as db:
            _check_revision(script_id, self.store.row(db, script_id), revision)
            self.store.save(db, script_id, **values)
            change = None
            if record:
                kind, who, before = record
                change = self.store.record(db, who, kind, script_id, before, values["published"])
            return self.store.row(db, script_id), change

    def _checked(self, script_id: str, script: dict, corpus: Corpus, edits: Edits) -> Script:
        """The script, once it has no problem; EditRefused otherwise."""
        problems, cited, parsed = _check(script, corpus)
        if parsed and parsed.id != script_id:
            mismatch = f"is {parsed.id}, but the path names {script_id}: make them equal"
            problems.insert(0, Problem(field="id", message=mismatch))
        if parsed and not problems:
            problems = self._builds(edits, script_id, parsed)
        if problems:
            raise EditRefused(problems, cited)
        return parsed

    def _publishable(self, edits: Edits, script_id: str, script: Script | None) -> None:
        problems = self._builds(edits, script_id, script)
        if problems:
            raise EditRefused(problems, _check(script.model_dump(mode="json"), self.corpus(edits))[1] if script else [])

    def _builds(self, edits: Edits, script_id: str, script: Script | None) -> list[Problem]:
        """Whether the corpus builds with `script` published as `script_id` (None: deleted)."""
        try:
            self.corpus(Edits({**edits.scripts, script_id: script}, edits.scenarios))
        except (ScriptError, StatuteError) as e:
            return [Problem(field="script", message=str(e))]
        return []

    def _state(self, script_id: str, row: dict, published: Script | None, corpus: Corpus, edits: Edits) -> ScriptState:
        shown = row["draft"] or published
        problems, cited, _ = _check(shown.model_dump(mode="json"), corpus) if shown else ([], [], None)
        if row["draft"] and not problems:
            problems = self._builds(edits, script_id, row["draft"])
        return ScriptState(
            id=script_id, published=published, draft=row["draft"], draft_deletes=row["draft_deletes"],
            revision=row["revision"], cited=cited, problems=problems,
        )


_NO_ROW = {"revision": 0, "edited": False, "published": None, "draft": None, "draft_deletes": False}


def _check(script: dict, corpus: Corpus) -> tuple[list[Problem], list[Cited], Script | None]:
    """The problems of one script record against `corpus`, each with its field, and its citations
    with their text. The rules are the corpus's: the schema (placeholders included), known
    scenarios, citations that resolve."""
    problems: list[Problem] = []
    parsed = None
    try:
        parsed = Script.model_validate(script)
    except ValidationError as e:
        problems += [
            Problem(field=_field(p["loc"]), message=p["msg"].removeprefix("Value error, ")) for p in e.errors()
        ]
    scenarios = corpus.taxonomy.by_id()
    for i, scenario in enumerate(script.get("scenarios") if isinstance(script.get("scenarios"), list) else []):
        if isinstance(scenario, str) and scenario not in scenarios:
            problems.append(Problem(
                field=f"scenarios[{i}]",
                message=f"unknown scenario {scenario!r}: choose one of GET /v1/scenarios, "
                "or add it (POST /v1/admin/scenarios)",
            ))
    cited = []
    for i, raw in enumerate(script.get("citations") if isinstance(script.get("citations"), list) else []):
        try:
            ref = ArticleRef.model_validate(raw)
        except ValidationError:
            continue  # the schema's problem, reported above
        try:
            article = corpus.book.get(ref.law, ref.article_no)
            cited.append(Cited(law=ref.law, article_no=ref.article_no, found=True, text=article.text))
        except UnknownStatute as e:
            cited.append(Cited(law=ref.law, article_no=ref.article_no, found=False, text=None))
            problems.append(Problem(field=f"citations[{i}]", message=f"does not resolve: {e}"))
    return problems, cited, None if problems else parsed


def _field(loc: tuple) -> str:
    """A pydantic location as the field it names: ('citations', 0, 'law') → citations[0].law."""
    field = ""
    for part in loc:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field or "script"


def _published(script_id: str, corpus: Corpus) -> Script | None:
    return next((s for s in corpus.scripts if s.id == script_id), None)


def _exists(script_id: str, row: dict | None, corpus: Corpus) -> bool:
    return _published(script_id, corpus) is not None or bool(row and row["draft"])


def _check_revision(script_id: str, row: dict | None, revision: int) -> None:
    current = row["revision"] if row else 0
    if revision != current:
        raise StaleRevision(
            f"script {script_id} is at revision {current}, not {revision}: someone saved it in between; "
            "reload it and make your change again"
        )


def _script(text: str | None) -> Script | None:
    return Script.model_validate_json(text) if text else None


def _json(value) -> str | None:
    if value is None:
        return None
    return value.model_dump_json() if isinstance(value, BaseModel) else json.dumps(value, ensure_ascii=False)


def _dict(value) -> dict | None:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _load(text: str | None) -> dict | None:
    return json.loads(text) if text else None
