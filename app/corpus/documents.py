"""Uploaded material, kept durably beside the corpus and read by every index build.

    <data_dir>/documents/<id>/original<ext>   the upload as received
    <data_dir>/documents/<id>/content.txt     extracted text (course) or JSONL records (script, statute)
    <data_dir>/documents/<id>/meta.json       written last: a directory without it does not exist

A document is assembled in a temporary directory (files and directory fsynced) and renamed
into place, so a crash mid-upload never leaves a half-written document; a delete renames it away
first. What a killed process left behind (dot-directories, never listed) is removed the next
time a store opens the directory: an upload still being written holds a lock on its directory.
Adds and deletes run one at a time (a lock on the directory, across processes), so each can be
checked against the documents stored before it.
"""

import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field, ValidationError

from app.core.errors import Unavailable
from app.core.files import sync_directory, write_synced

log = logging.getLogger("huashu")

Kind = Literal["course", "script", "statute"]
META_FILE = "meta.json"
CONTENT_FILE = "content.txt"
UPLOAD_PREFIX = ".upload-"
DELETED_PREFIX = ".deleted-"
_SAFE_NAME = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


class StoredDocument(BaseModel):
    id: str
    filename: str
    kind: Kind
    size: int
    sha256: str
    uploaded_at: str
    replace: bool = Field(default=False, description="A statute upload that may replace articles in the corpus.")


class Upload(NamedTuple):
    """A stored document and its content, as the corpus loader reads it."""

    document: StoredDocument
    content: str


Check = Callable[[StoredDocument], None]  # raises to refuse a change


def upload_order(document: StoredDocument) -> tuple[str, str]:
    """Uploads are read oldest first: a later statute upload may replace an earlier one's article."""
    return document.uploaded_at, document.id


def safe_filename(filename: str) -> str:
    """The base name only, without control characters: never used as a path, kept for people."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return _SAFE_NAME.sub("_", name).strip("._") or "upload"


class StorageError(Unavailable):
    """The document directory cannot be written (missing parent, read-only, full disk)."""


class DocumentStore:
    def __init__(self, root: Path):
        self.root = root
        self._discard_leftovers()

    def list(self) -> list[StoredDocument]:
        if not self.root.is_dir():
            return []
        documents = []
        try:
            for directory in self.root.iterdir():
                if directory.name.startswith(".") or not (directory / META_FILE).is_file():
                    continue
                try:
                    documents.append(StoredDocument.model_validate_json((directory / META_FILE).read_bytes()))
                except ValidationError:  # a damaged document must not hide the others
                    log.error("document %s has an unreadable %s: left out", directory.name, META_FILE)
        except OSError as e:
            raise self._storage_error(e) from None
        return sorted(documents, key=upload_order)

    def find(self, sha256: str, kind: str) -> StoredDocument | None:
        return next((d for d in self.list() if d.sha256 == sha256 and d.kind == kind), None)

    def content(self, document: StoredDocument) -> str:
        return (self.root / document.id / CONTENT_FILE).read_text(encoding="utf-8")

    def uploads(self, kinds: tuple[Kind, ...] = ("course", "script", "statute")) -> "list[Upload]":
        # (quoted: `list` here is the method above)
        try:
            return [Upload(d, self.content(d)) for d in self.list() if d.kind in kinds]
        except OSError as e:
            raise self._storage_error(e) from None

    def add(
        self, filename: str, kind: Kind, original: bytes, content: str,
        replace: bool = False, check: Check | None = None,
    ) -> tuple[StoredDocument, bool]:
        """Store a document; the same bytes of the same kind again return the stored one (False).
        `check(document)` runs first, with no other change in between: raising refuses it."""
        sha256 = hashlib.sha256(original).hexdigest()
        with self._changing():
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
                # To the microsecond: the order of uploads is the order they were added (upload_order).
                uploaded_at=datetime.now(timezone.utc).isoformat(timespec="microseconds"),
                replace=replace,
            )
            if check:
                check(document)
            staging = self.root / f"{UPLOAD_PREFIX}{document.id}"
            try:
                staging.mkdir()
            except OSError as e:
                raise self._storage_error(e) from None
            try:
                with _locked(staging):  # tells a store opening meanwhile that this upload is alive
                    write_synced(staging / ("original" + Path(name).suffix.lower()), original)
                    write_synced(staging / CONTENT_FILE, content.encode("utf-8"))
                    write_synced(staging / META_FILE, document.model_dump_json(indent=2).encode("utf-8"))
                    sync_directory(staging)
                    staging.rename(self.root / document.id)
                sync_directory(self.root)
            except BaseException as e:
                shutil.rmtree(staging, ignore_errors=True)
                if isinstance(e, OSError):
                    raise self._storage_error(e) from None
                raise
        return document, True

    def remove(self, document_id: str, check: Check | None = None) -> bool:
        """Delete a document; `check(document)` runs first, with no other change in between."""
        directory = self.root / document_id
        if not re.fullmatch(r"[0-9a-f]{12}", document_id) or not (directory / META_FILE).is_file():
            return False
        with self._changing():
            if not (directory / META_FILE).is_file():
                return False  # deleted meanwhile
            document = next((d for d in self.list() if d.id == document_id), None)
            if check and document:  # one with an unreadable meta.json is in no build: nothing needs it
                check(document)
            trash = self.root / f"{DELETED_PREFIX}{document_id}"
            try:
                directory.rename(trash)  # atomic: the document is gone for every reader at once
                sync_directory(self.root)
            except OSError as e:
                raise self._storage_error(e) from None
        shutil.rmtree(trash, ignore_errors=True)  # what a crash leaves here goes at the next start
        return True

    def _changing(self) -> "_locked":
        """The lock every add and delete holds, so that each is checked against the documents
        as they are when it is stored."""
        try:
            if not self.root.is_dir():
                self.root.mkdir(parents=True, exist_ok=True)
                sync_directory(self.root.parent)
        except OSError as e:
            raise self._storage_error(e) from None
        return _locked(self.root)

    def _discard_leftovers(self) -> None:
        """Remove deleted documents and uploads whose writer died (their lock is free)."""
        try:
            leftovers = [p for p in self.root.iterdir() if p.name.startswith((UPLOAD_PREFIX, DELETED_PREFIX))]
        except OSError:
            return  # no directory yet, or unreadable: the first write says so
        for path in leftovers:
            if path.name.startswith(DELETED_PREFIX):
                shutil.rmtree(path, ignore_errors=True)
                continue
            try:
                with _locked(path, wait=False):
                    shutil.rmtree(path, ignore_errors=True)
                log.info("removed %s, an upload interrupted before it was stored", path.name)
            except (BlockingIOError, OSError):
                pass  # still being written by a live process, or already gone

    def _storage_error(self, error: OSError) -> StorageError:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            reason = "no space left on device: free some space"
        else:
            reason = f"{error.strerror or error}: check that HUASHU_DATA_DIR exists and is writable"
        return StorageError(f"cannot store documents in {self.root}: {reason}")


class _locked:
    """An exclusive flock on a directory while a block runs; the kernel drops it if the process dies."""

    def __init__(self, directory: Path, wait: bool = True):
        self.directory, self.wait = directory, wait

    def __enter__(self) -> None:
        self.fd = os.open(self.directory, os.O_RDONLY)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX if self.wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(self.fd)
            raise

    def __exit__(self, *exc) -> None:
        os.close(self.fd)

