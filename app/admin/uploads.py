"""What an upload must pass before it is stored, and a delete before it happens, shared by the
admin API and the CLI: the corpus, with the admins' published edits, is built as it would be after
the change (the corpus loader's own validation), so what is stored is always a corpus the next
index build accepts."""

from pathlib import Path

from app.core.errors import Conflict, Invalid
from app.corpus.documents import DocumentStore, Kind, StoredDocument, Upload
from app.corpus.loader import DanglingReferences, Edits, ReplacesArticles, build_corpus
from app.corpus.scripts import ScriptError
from app.corpus.statutes import StatuteError
from app.ingest.courses import clean_course_text
from app.ingest.extract import Limits, extension, extract_text

RECORDS: tuple[Kind, ...] = ("script", "statute")  # the kinds whose records the corpus checks


def add_document(
    store: DocumentStore,
    corpus_dir: Path,
    filename: str,
    kind: Kind,
    content: bytes,
    limits: Limits,
    replace: bool = False,
    edits: Edits = Edits(),
) -> tuple[StoredDocument, bool, list[str]]:
    """Check and store one upload; returns the document, whether it is new, and the articles
    already in the corpus that it replaces (only a statute upload marked `replace` may). A file
    that is not stored raises an Invalid (its type, size or content) or a Conflict."""
    suffix = extension(filename)
    text = extract_text(filename, content, limits)
    _check_format(kind, suffix, text)
    if kind == "course":  # its text is all there is to check: nothing depends on a course, nor it on anything
        return *store.add(filename, kind, content, text), []
    replaces: list[str] = []

    def check(document: StoredDocument) -> None:
        try:
            corpus = build_corpus(corpus_dir, [*store.uploads(RECORDS), Upload(document, text)], edits)
        except (ScriptError, StatuteError) as e:
            message = str(e).replace(f" ({document.id})", "")  # an id the admin never sees: it is not stored
            raise (Conflict if isinstance(e, ReplacesArticles) else Invalid)(message) from None
        replaces.extend(corpus.replaced.get(document.id, []))

    document, created = store.add(filename, kind, content, text, replace=replace and kind == "statute", check=check)
    return document, created, replaces


def remove_document(store: DocumentStore, corpus_dir: Path, document_id: str, edits: Edits = Edits()) -> bool:
    """Delete a document unless other material needs it: a statute that scripts cite or that
    other articles name as their successor. Returns False when there is no such document."""

    def check(document: StoredDocument) -> None:
        if document.kind == "course":
            return
        uploads = store.uploads(RECORDS)
        left = _unresolved(corpus_dir, [u for u in uploads if u.document.id != document.id], edits)
        if left:  # what does not resolve even with it is not this delete's doing, and must not block it
            left = [p for p in left if p not in _unresolved(corpus_dir, uploads, edits)]
        if left:
            raise Conflict(
                f"{document.filename} ({document.id}) is still needed: without it, {'; '.join(left)}. "
                "Delete or correct those uploads first"
            )

    return store.remove(document_id, check=check)


def _unresolved(corpus_dir: Path, uploads: list[Upload], edits: Edits) -> list[str]:
    """The citations and successors of the corpus built with `uploads` and `edits` that name no article."""
    try:
        build_corpus(corpus_dir, uploads, edits)
        return []
    except DanglingReferences as e:
        return e.problems
    except (ScriptError, StatuteError):
        return []  # broken in another way, which the build names; a delete may be what mends it


def _check_format(kind: str, suffix: str, text: str) -> None:
    if kind == "course":
        if not clean_course_text(text).strip():
            raise Invalid("the document has no text")
        return
    if suffix != ".jsonl":
        raise Invalid(f"{kind}s are uploaded as .jsonl records in the corpus schema")
    if not text.strip():
        raise Invalid("the file has no records")
