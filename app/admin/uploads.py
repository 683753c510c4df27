"""What an upload must pass before it is stored, shared by the admin API and the CLI: a
supported, readable file whose content the next index build can use."""

from pathlib import Path

from app.admin.documents import DocumentStore, Kind, StoredDocument
from app.corpus.loader import load_corpus
from app.corpus.scripts import ScriptError, parse_scripts
from app.corpus.statutes import StatuteError, parse_articles
from app.ingest.courses import clean_course_text
from app.ingest.extract import Limits, TooLarge, UnreadableFile, UnsupportedFile, extension, extract_text


class Rejected(ValueError):
    """An upload that is not stored; `unsupported` marks a file type we do not take (415),
    `too_large` content past the upload limits (413)."""

    def __init__(self, message: str, unsupported: bool = False, too_large: bool = False):
        super().__init__(message)
        self.unsupported = unsupported
        self.too_large = too_large


def add_document(
    store: DocumentStore, corpus_dir: Path, filename: str, kind: Kind, content: bytes, limits: Limits
) -> tuple[StoredDocument, bool]:
    """Check and store one upload; returns the document and whether it is new."""
    try:
        suffix = extension(filename)
        text = extract_text(filename, content, limits)
    except UnsupportedFile as e:
        raise Rejected(str(e), unsupported=True) from None
    except TooLarge as e:
        raise Rejected(str(e), too_large=True) from None
    except UnreadableFile as e:
        raise Rejected(str(e)) from None
    _check_content(kind, suffix, text, filename, corpus_dir, store)
    return store.add(filename, kind, content, text)


def _check_content(kind: str, suffix: str, text: str, filename: str, corpus_dir: Path, store: DocumentStore) -> None:
    if kind == "course":
        if not clean_course_text(text).strip():
            raise Rejected("the document has no text")
        return
    if suffix != ".jsonl":
        raise Rejected(f"{kind}s are uploaded as .jsonl records in the corpus schema")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise Rejected("the file has no records")
    try:
        if kind == "statute":
            parse_articles(lines, filename)
            return
        corpus = load_corpus(corpus_dir, store)
        scripts = parse_scripts(lines, filename, set(corpus.taxonomy.by_id()), corpus.book)
    except (ScriptError, StatuteError) as e:
        raise Rejected(str(e)) from None
    clashes = [s.id for s in scripts if s.id in {known.id for known in corpus.scripts}]
    if clashes:
        raise Rejected(f"{filename}: script id(s) already in the corpus: {', '.join(clashes)}")
