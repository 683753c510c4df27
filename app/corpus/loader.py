"""Everything the index is built from, read and validated from the corpus directory, the
uploaded documents and the admins' published edits (scripts edited, added or deleted, scenarios
added: app/admin/scripts.py).

The same validation decides whether an upload is stored, whether a document may be deleted
(app/admin/uploads.py) and whether an edit may be saved or published: the corpus is built as it
would be with the change, so a stored corpus is one the next build accepts.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel

from app.core.errors import Conflict
from app.corpus.documents import DocumentStore, StoredDocument, Upload, upload_order
from app.corpus.scenarios import Scenario, Taxonomy, load_taxonomy
from app.corpus.scripts import Script, ScriptError, load_scripts
from app.corpus.statutes import (
    QUESTIONS_DIR,
    Article,
    StatuteBook,
    StatuteError,
    UnknownStatute,
    load_questions,
    parse_articles,
)
from app.ingest.courses import Passage, clean_course_text, split_passages

PASSAGES_FILE = Path("courses") / "passages.jsonl"
ELSEWHERE_FILE = Path("elsewhere.txt")
# Authored queries the scripts do not cover, the counter-examples of `match`'s probes
# (app/measure/calibration.py): other trades' matters, and telecom enquiries no scenario covers.
ELSEWHERE_QUERIES_FILE = Path("elsewhere-queries.txt")
NOT_TELECOM_FILES = (ELSEWHERE_FILE, ELSEWHERE_QUERIES_FILE)
UNCOVERED_TELECOM_FILE = Path("uncovered-telecom-queries.txt")
# Authored lines of the threat reader (app/search/threat_neighbours.py): threats of violence, of self-harm,
# and lines that look like threats and are none. A corpus without them is read by the rules alone.
THREATS_FILE = Path("threats.txt")
SELF_HARM_FILE = Path("self-harm.txt")
THREAT_LOOK_ALIKES_FILE = Path("threat-look-alikes.txt")
# Authored lines of the small-talk reader (app/search/small_talk.py): small talk, and what customers say about
# themselves that is part of the matter. Its other side also holds the authored queries of other trades and
# of uncovered telecom matters, when the corpus has them: a complaint about a gym is no small talk.
SMALL_TALK_FILE = Path("small-talk.txt")
SMALL_TALK_LOOK_ALIKES_FILE = Path("small-talk-look-alikes.txt")
_QUERY_FILES = (ELSEWHERE_QUERIES_FILE, UNCOVERED_TELECOM_FILE)
CORPUS_STATUTES = "corpus statutes"


class ReplacesArticles(Conflict, StatuteError):
    """An uploaded statute that would replace articles already in the corpus, without saying so."""


class DanglingReferences(ScriptError, StatuteError):
    """Citations (of scripts) or successors (of articles) that name no article of the corpus;
    `problems` lists each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class Edits(NamedTuple):
    """What admins published through the API, applied over the corpus files and the uploads."""

    scripts: dict[str, Script | None] = {}  # by id: the script as published, None when deleted
    scenarios: list[Scenario] = []  # added scenarios

    def digest(self) -> str:
        """Changes with every published edit: the build's inputs include it."""
        scripts = {i: s and s.model_dump(mode="json") for i, s in sorted(self.scripts.items())}
        scenarios = [s.model_dump(mode="json") for s in self.scenarios]
        return hashlib.sha256(json.dumps([scripts, scenarios], ensure_ascii=False).encode()).hexdigest()


EDITED = "edited script"  # where an edited script is, in messages


@dataclass
class Corpus:
    taxonomy: Taxonomy
    book: StatuteBook
    questions: dict[tuple[str, int], list[str]]  # everyday questions by article (corpus/statutes/questions/)
    scripts: list[Script]
    passages: list[Passage]
    elsewhere: list[str]  # matters that are not telecom complaints (corpus/elsewhere.txt)
    digest: str
    replaced: dict[str, list[str]] = field(default_factory=dict)  # upload id → the articles it replaces
    threats: list[str] = field(default_factory=list)  # corpus/threats.txt
    self_harm: list[str] = field(default_factory=list)  # corpus/self-harm.txt
    threat_look_alikes: list[str] = field(default_factory=list)  # corpus/threat-look-alikes.txt
    small_talk: list[str] = field(default_factory=list)  # corpus/small-talk.txt
    not_small_talk: list[str] = field(default_factory=list)  # the other side of the small-talk reader


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The files an index is built from; their content makes the corpus digest."""
    files = [corpus_dir / "scenarios.yaml", corpus_dir / PASSAGES_FILE, corpus_dir / ELSEWHERE_FILE]
    files += [corpus_dir / SMALL_TALK_FILE, corpus_dir / SMALL_TALK_LOOK_ALIKES_FILE]
    files += sorted((corpus_dir / "statutes").glob("*.jsonl"))
    files += sorted((corpus_dir / "statutes" / QUESTIONS_DIR).glob("*.jsonl"))
    files += sorted((corpus_dir / "scripts").glob("*.jsonl"))
    optional = (THREATS_FILE, SELF_HARM_FILE, THREAT_LOOK_ALIKES_FILE, *_QUERY_FILES)
    files += [corpus_dir / f for f in optional if (corpus_dir / f).exists()]
    return files


def corpus_digest(corpus_dir: Path, uploads: list[StoredDocument] = (), edits: Edits = Edits()) -> str:
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(str(path.relative_to(corpus_dir)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for document in uploads:
        digest.update(f"{document.kind}:{document.sha256}".encode())
    if edits != Edits():  # without edits, the digest an index built before they existed records
        digest.update(f"edits:{edits.digest()}".encode())
    return digest.hexdigest()


def load_corpus(corpus_dir: Path, store: DocumentStore | None = None, edits: Edits = Edits()) -> Corpus:
    """The corpus directory plus the uploaded documents in `store` and the published `edits`, all validated."""
    return build_corpus(corpus_dir, store.uploads() if store else [], edits)


def build_corpus(corpus_dir: Path, uploads: list[Upload], edits: Edits = Edits()) -> Corpus:
    """The corpus directory plus `uploads` and `edits`, all validated: script ids unique,
    scenarios known, every citation and successor naming an article that is there. An edited
    script replaces the script of its id (a deleted one is left out); added scenarios join the
    taxonomy."""
    uploads = sorted(uploads, key=lambda u: upload_order(u.document))  # checked in the order builds read them
    taxonomy = with_scenarios(load_taxonomy(corpus_dir / "scenarios.yaml"), edits.scenarios)
    book, article_origins, replaced = _statutes(corpus_dir, [u for u in uploads if u.document.kind == "statute"])
    questions = load_questions(corpus_dir / "statutes" / QUESTIONS_DIR, book)
    paths = sorted((corpus_dir / "scripts").glob("*.jsonl"))
    script_files = [(p.name, p.read_text(encoding="utf-8").splitlines()) for p in paths]
    script_files += [(_origin(d), content.splitlines()) for d, content in uploads if d.kind == "script"]
    scripts = load_scripts(script_files, set(taxonomy.by_id()))
    if edits.scripts:  # checked as records too: what was valid when published stays so, or the build says why
        lines = [s.model_dump_json() for s in edits.scripts.values() if s]
        edited = load_scripts([(EDITED, lines)], set(taxonomy.by_id()))
        scripts = [(w, s) for w, s in scripts if s.id not in edits.scripts] + edited
    problems = _unresolved(book, article_origins, scripts)
    if problems:
        raise DanglingReferences(problems)
    with (corpus_dir / PASSAGES_FILE).open(encoding="utf-8") as f:
        passages = [Passage.model_validate_json(line) for line in f if line.strip()]
    for document, content in uploads:
        if document.kind == "course":
            text = clean_course_text(content)
            passages += split_passages(text, document.id, Path(document.filename).stem)
    elsewhere = read_lines(corpus_dir / ELSEWHERE_FILE)
    threats = read_lines(corpus_dir / THREATS_FILE, missing_ok=True)
    self_harm = read_lines(corpus_dir / SELF_HARM_FILE, missing_ok=True)
    look_alikes = read_lines(corpus_dir / THREAT_LOOK_ALIKES_FILE, missing_ok=True)
    small_talk = read_lines(corpus_dir / SMALL_TALK_FILE)
    not_small_talk = read_lines(corpus_dir / SMALL_TALK_LOOK_ALIKES_FILE)
    not_small_talk += [line for f in _QUERY_FILES for line in read_lines(corpus_dir / f, missing_ok=True)]
    digest = corpus_digest(corpus_dir, [u.document for u in uploads], edits)
    return Corpus(
        taxonomy, book, questions, [s for _, s in scripts], passages, elsewhere, digest, replaced,
        threats, self_harm, look_alikes, small_talk, not_small_talk,
    )


def with_scenarios(taxonomy: Taxonomy, added: list[Scenario]) -> Taxonomy:
    """The taxonomy with the scenarios admins added; an id it has already is refused."""
    known = set(taxonomy.by_id())
    for scenario in added:
        if scenario.id in known or scenario.group not in taxonomy.groups:
            raise ScriptError(
                f"added scenario {scenario.id}: its id is taken or its group {scenario.group!r} unknown: "
                "correct corpus/scenarios.yaml"
            )
        known.add(scenario.id)
    return taxonomy.model_copy(update={"scenarios": [*taxonomy.scenarios, *added]})


def _statutes(
    corpus_dir: Path, uploads: list[Upload]
) -> tuple[StatuteBook, dict[tuple[str, int], str], dict[str, list[str]]]:
    """The corpus statutes with the uploaded articles added, where each article came from, and
    which articles each upload replaces. An uploaded article that is already there (in the
    corpus or an earlier upload) replaces it only if its upload was marked `replace`."""
    articles = dict(StatuteBook.load(corpus_dir / "statutes").articles)
    origins: dict[tuple[str, int], str] = {}
    replaced: dict[str, list[str]] = {}
    for document, content in uploads:
        origin = _origin(document)
        known = StatuteBook(list(articles.values()))
        # A known law under another of its names (消法) is that law, not a second one beside it.
        new = [a.model_copy(update={"law": _title(known, a.law)}) for a in parse_articles(content.splitlines(), origin)]
        counts = Counter(a.key for a in new)
        twice = list(dict.fromkeys(_label(a) for a in new if counts[a.key] > 1))
        if twice:
            raise StatuteError(f"{origin}: {', '.join(twice)} given more than once: give each article once")
        there = [_label(articles[a.key]) for a in new if a.key in articles]
        if there and not document.replace:
            raise ReplacesArticles(
                f"{origin} would replace {len(there)} article(s) already in the corpus: {', '.join(there)}; "
                "upload it with replace=true to replace them, or correct law and article_no"
            )
        if there:
            replaced[document.id] = there
        for article in new:
            old = articles.get(article.key)
            # What the record leaves out (chapter, level, ...) stays as the replaced article had it.
            given = {name: getattr(article, name) for name in article.model_fields_set}
            articles[article.key] = old.model_copy(update=given) if old else article
            origins[article.key] = origin
    return StatuteBook(list(articles.values())), origins, replaced


def _unresolved(
    book: StatuteBook, article_origins: dict[tuple[str, int], str], scripts: list[tuple[str, Script]]
) -> list[str]:
    """Every citation and successor that names no article of `book`, with where it is."""
    problems = []
    for where, script in scripts:
        for ref in script.citations:
            try:
                book.get(ref.law, ref.article_no)
            except UnknownStatute as e:
                problems.append(f"{where}: citation does not resolve: {e}")
    for article in book.articles.values():
        for ref in article.successor or []:
            try:
                book.get(ref.law, ref.article_no)
            except UnknownStatute as e:
                origin = article_origins.get(article.key, CORPUS_STATUTES)
                problems.append(f"{origin} ({_label(article)}): successor does not resolve: {e}")
    return problems


def _title(book: StatuteBook, name: str) -> str:
    try:
        return book.law_title(name)
    except UnknownStatute:
        return name


def _label(article: Article) -> str:
    return f"{article.law} {article.article}"


class Line(BaseModel):
    """An authored line searched for what a query is like, never shown: a matter that is not a telecom
    complaint (corpus/elsewhere.txt), small talk, or what is said beside it."""

    text: str


def read_lines(path: Path, missing_ok: bool = False) -> list[str]:
    """An authored line file: one text a line; blank lines and lines starting with # are not read."""
    if missing_ok and not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _origin(document: StoredDocument) -> str:
    return f"upload {document.filename} ({document.id})"
