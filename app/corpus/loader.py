"""Everything the index is built from, read and validated from the corpus directory."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from app.corpus.scenarios import Taxonomy, load_taxonomy
from app.corpus.scripts import Script, load_scripts
from app.corpus.statutes import StatuteBook

PASSAGES_FILE = Path("courses") / "passages.jsonl"


@dataclass
class Corpus:
    taxonomy: Taxonomy
    book: StatuteBook
    scripts: list[Script]
    passages: list[dict]
    digest: str


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The files an index is built from; their content makes the corpus digest."""
    files = [corpus_dir / "scenarios.yaml", corpus_dir / PASSAGES_FILE]
    files += sorted((corpus_dir / "statutes").glob("*.jsonl"))
    files += sorted((corpus_dir / "scripts").glob("*.jsonl"))
    return files


def corpus_digest(corpus_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in corpus_files(corpus_dir):
        digest.update(str(path.relative_to(corpus_dir)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_corpus(corpus_dir: Path) -> Corpus:
    taxonomy = load_taxonomy(corpus_dir / "scenarios.yaml")
    book = StatuteBook.load(corpus_dir / "statutes")
    scripts = load_scripts(corpus_dir / "scripts", set(taxonomy.by_id()), book)
    with (corpus_dir / PASSAGES_FILE).open(encoding="utf-8") as f:
        passages = [json.loads(line) for line in f if line.strip()]
    return Corpus(taxonomy, book, scripts, passages, corpus_digest(corpus_dir))
