"""Uploaded material, kept durably beside the corpus and read by every index build.

    <data_dir>/documents/<id>/original<ext>   the upload as received
    <data_dir>/documents/<id>/content.txt     extracted text (course) or JSONL records (script, statute)
    <data_dir>/documents/<id>/meta.json       written last: a directory without it does not exist

A document is assembled in a temporary directory (files fsynced) and renamed into place, so a
crash mid-upload never leaves a half-written document; a delete renames it away first.
"""

import hashlib
import os
import re
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

Kind = Literal["course", "script", "statute"]
META_FILE = "meta.json"
CONTENT_FILE = "content.txt"
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


class StoredDocument(BaseModel):
    id: str
    filename: str
    kind: Kind
    size: int
    sha256: str
    uploaded_at: str


def safe_filename(filename: str) -> str:
    """The base name only, without control characters: never used as a path, kept for people."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return _SAFE_NAME.sub("_", name).strip("._") or "upload"


class DocumentStore:
    def __init__(self, root: Path):
        self.root = root

    def list(self) -> list[StoredDocument]:
        if not self.root.is_dir():
            return []
        documents = [
            StoredDocument.model_validate_json((d / META_FILE).read_text(encoding="utf-8"))
            for d in self.root.iterdir()
            if not d.name.startswith(".") and (d / META_FILE).is_file()
        ]
        return sorted(documents, key=lambda d: (d.uploaded_at, d.id))

    def find(self, sha256: str, kind: str) -> StoredDocument | None:
        return next((d for d in self.list() if d.sha256 == sha256 and d.kind == kind), None)

    def content(self, document: StoredDocument) -> str:
        return (self.root / document.id / CONTENT_FILE).read_text(encoding="utf-8")

    def add(self, filename: str, kind: Kind, original: bytes, content: str) -> tuple[StoredDocument, bool]:
        """Store a document; the same bytes of the same kind again return the stored one (False)."""
        sha256 = hashlib.sha256(original).hexdigest()
        existing = self.find(sha256, kind)
        if existing:
            return existing, False
        name = safe_filename(filename)
        document = StoredDocument(
            id=uuid.uuid4().hex[:12],
            filename=name,
            kind=kind,
            size=len(original),
            sha256=sha256,
            uploaded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".upload-{document.id}"
        staging.mkdir()
        try:
            _write_synced(staging / ("original" + Path(name).suffix.lower()), original)
            _write_synced(staging / CONTENT_FILE, content.encode("utf-8"))
            _write_synced(staging / META_FILE, document.model_dump_json(indent=2).encode("utf-8"))
            staging.rename(self.root / document.id)
            _sync_directory(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return document, True

    def remove(self, document_id: str) -> bool:
        directory = self.root / document_id
        if not re.fullmatch(r"[0-9a-f]{12}", document_id) or not (directory / META_FILE).is_file():
            return False
        trash = self.root / f".deleted-{document_id}"
        directory.rename(trash)  # atomic: the document is gone for every reader at once
        shutil.rmtree(trash)
        return True


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _sync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

