"""Everything the index is built from, read and validated from the corpus directory."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from app.admin.documents import DocumentStore, StoredDocument
from app.corpus.scenarios import Taxonomy, load_taxonomy
from app.corpus.scripts import Script, ScriptError, load_scripts, parse_scripts
from app.corpus.statutes import QUESTIONS_DIR, Article, StatuteBook, load_questions, parse_articles
from app.ingest.courses import clean_course_text, split_passages

PASSAGES_FILE = Path("courses") / "passages.jsonl"
ELSEWHERE_FILE = Path("elsewhere.txt")


@dataclass
class Corpus:
    taxonomy: Taxonomy
    book: StatuteBook
    questions: dict[tuple[str, int], list[str]]  # everyday questions by article (corpus/statutes/questions/)
    scripts: list[Script]
    passages: list[dict]
    elsewhere: list[str]  # matters that are not telecom complaints (corpus/elsewhere.txt)
    digest: str


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The files an index is built from; their content makes the corpus digest."""
    files = [corpus_dir / "scenarios.yaml", corpus_dir / PASSAGES_FILE, corpus_dir / ELSEWHERE_FILE]
    files += sorted((corpus_dir / "statutes").glob("*.jsonl"))
    files += sorted((corpus_dir / "statutes" / QUESTIONS_DIR).glob("*.jsonl"))
    files += sorted((corpus_dir / "scripts").glob("*.jsonl"))
    return files


def corpus_digest(corpus_dir: Path, uploads: list[StoredDocument] = ()) -> str:
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(str(path.relative_to(corpus_dir)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for document in uploads:
        digest.update(f"{document.kind}:{document.sha256}".encode())
    return digest.hexdigest()


def load_corpus(corpus_dir: Path, store: DocumentStore | None = None) -> Corpus:
    """The corpus directory plus the uploaded documents in `store`, all validated."""
    uploads = store.list() if store else []
    taxonomy = load_taxonomy(corpus_dir / "scenarios.yaml")
    uploaded_articles: list[Article] = []
    for document in (d for d in uploads if d.kind == "statute"):
        uploaded_articles += parse_articles(store.content(document).splitlines(), _origin(document))
    book = StatuteBook.load(corpus_dir / "statutes", uploaded_articles)
    questions = load_questions(corpus_dir / "statutes" / QUESTIONS_DIR, book)
    scenario_ids = set(taxonomy.by_id())
    scripts = load_scripts(corpus_dir / "scripts", scenario_ids, book)
    seen = {s.id for s in scripts}
    for document in (d for d in uploads if d.kind == "script"):
        for script in parse_scripts(store.content(document).splitlines(), _origin(document), scenario_ids, book):
            if script.id in seen:
                raise ScriptError(f"{_origin(document)}: duplicate script id {script.id}")
            seen.add(script.id)
            scripts.append(script)
    with (corpus_dir / PASSAGES_FILE).open(encoding="utf-8") as f:
        passages = [json.loads(line) for line in f if line.strip()]
    for document in (d for d in uploads if d.kind == "course"):
        text = clean_course_text(store.content(document))
        passages += [p.model_dump() for p in split_passages(text, document.id, Path(document.filename).stem)]
    elsewhere = read_elsewhere(corpus_dir / ELSEWHERE_FILE)
    return Corpus(taxonomy, book, questions, scripts, passages, elsewhere, corpus_digest(corpus_dir, uploads))


def read_elsewhere(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _origin(document: StoredDocument) -> str:
    return f"upload {document.filename} ({document.id})"
