"""Index versions on disk.

    index/
      CURRENT                 name of the version the service loads
      versions/<version>/     one complete, immutable build: manifest.json last
      versions/.building-*/   a build in progress; never loaded

A version directory is renamed into place only when complete, and CURRENT is replaced
atomically, so a reader sees either the old version or the new one, never a mix. The manifest
records the size and sha256 of every other file of its version; loading checks them first, so a
truncated or damaged file is refused with its name before any reader touches it.

The readers (FAISS, BM25) then copy the files into memory instead of mapping them: a mapped file
cut short under a running server (a botched copy or sync on a shared index volume) kills the
server with SIGBUS at the first read past its new end, every replica at once. A copy cannot
shrink. It costs each process ~2 MB more (the BM25 arrays; FAISS read its flat indexes into
memory anyway).
"""

import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from app.core.config import DEFAULT_MODEL_NAME
from app.core.errors import Conflict, NotFound, Unavailable
from app.core.files import sync_directory, write_atomically, write_synced
from app.corpus.loader import Line
from app.corpus.scenarios import Exemplar, Scenario, Taxonomy
from app.corpus.scripts import Script
from app.corpus.statutes import Article, ArticleRef, StatuteBook
from app.ingest.courses import Passage
from app.search.collection import Collection
from app.search.scenario_probe import ScenarioProbe
from app.search.scenario_words import ScenarioWords
from app.search.threat_neighbours import ThreatNeighbours

log = logging.getLogger("huashu")

CURRENT_FILE = "CURRENT"
RECEIVING_PREFIX = ".receiving-"  # a version being copied in from another node; never loaded
MANIFEST_FILE = "manifest.json"
FILES_KEY = "files"  # in the manifest: {relative path: {"size": bytes, "sha256": hex}}
STATUTES_FILE = "statutes.jsonl"
TAXONOMY_FILE = "scenarios.json"
# Each collection and the type of its records.
COLLECTIONS: dict[str, type[BaseModel]] = {
    "scripts": Script,
    "statutes": ArticleRef,  # an article once per text it is searched by (whole, paragraphs, questions)
    "passages": Passage,
    "scenarios": Scenario,
    "exemplars": Exemplar,
    "elsewhere": Line,
    "small-talk": Line,  # the two sides of the small-talk reader (app/search/small_talk.py)
    "not-small-talk": Line,
}
VERSION_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.\-]*")  # also what feedback may name
# What a version is built from, as its manifest records it: two builds from the same inputs make
# the same index.
BUILD_INPUTS = ("corpus_digest", "model", "build_files_sha256")


class IndexUnusable(Conflict):
    """No servable index version; the message says what to do."""


class IndexNotFound(NotFound, IndexUnusable):
    pass


class IncompatibleIndex(IndexUnusable):
    pass


class CorruptIndex(IndexUnusable):
    pass


class NothingToRollBack(IndexUnusable):
    """No current version to go back from, or none older than it."""


class IndexNotWritable(Unavailable):
    """CURRENT cannot be written here (a read-only mount, a full disk): nothing switched."""


def versions_dir(index_dir: Path) -> Path:
    return index_dir / "versions"


def list_versions(index_dir: Path) -> list[str]:
    root = versions_dir(index_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and (p / MANIFEST_FILE).is_file())


def current_version(index_dir: Path) -> str | None:
    try:
        # A damaged CURRENT reads as a name that matches no version, never as an exception.
        return (index_dir / CURRENT_FILE).read_text(encoding="utf-8", errors="replace").strip() or None
    except FileNotFoundError:
        return None


def _read_manifest(index_dir: Path, version: str) -> dict:
    """A version's manifest as recorded, unverified; {} when it cannot be read."""
    try:
        manifest = json.loads((versions_dir(index_dir) / version / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def has_every_collection(index_dir: Path, version: str) -> bool:
    """Whether a version holds every collection this code searches (one built before a collection
    was added does not, and cannot be served)."""
    try:
        return set(COLLECTIONS) <= set(_read_manifest(index_dir, version)["counts"])
    except (KeyError, TypeError):
        return False


def built_from(manifest: dict) -> str | None:
    """The inputs a manifest records (BUILD_INPUTS), comparable between versions; None when it
    does not record them all (built before they were recorded): such a version is a twin of none."""
    if not all(key in manifest for key in BUILD_INPUTS):
        return None
    return json.dumps([manifest[key] for key in BUILD_INPUTS], sort_keys=True)


def set_current(index_dir: Path, version: str) -> None:
    if version not in list_versions(index_dir):
        raise IndexNotFound(f"no complete index version {version!r} in {versions_dir(index_dir)}")
    try:
        write_atomically(index_dir / CURRENT_FILE, version + "\n")
    except OSError as e:
        # A search replica mounts the index read-only: versions are switched where it is written.
        raise IndexNotWritable(
            f"cannot make {version} current: {index_dir / CURRENT_FILE} cannot be written ({e.strerror or e}); "
            f"run `python -m app index use {version}` where the index directory is writable (the replica that "
            "builds the index), or fix the directory; the current version is unchanged"
        ) from e


def prune_versions(index_dir: Path, keep: int) -> list[str]:
    """Delete complete versions beyond `keep`, never the current one. Twins go first (a version
    built from the same inputs as the current or a newer one: it holds nothing its twin does not),
    then the oldest, so a build identical to an older version never costs another corpus its
    only copy."""
    current = current_version(index_dir)
    versions = list_versions(index_dir)
    seen, twins = set(), []
    for version in sorted(versions, key=lambda v: (v == current, v), reverse=True):  # the current, then newest first
        inputs = built_from(_read_manifest(index_dir, version))
        if inputs in seen:
            twins.insert(0, version)
        elif inputs is not None:
            seen.add(inputs)
    removable = twins + [v for v in versions if v != current and v not in twins]
    doomed = removable[: max(0, len(removable) - (keep - 1))]
    for version in doomed:
        shutil.rmtree(versions_dir(index_dir) / version)
    return doomed


def previous_version(index_dir: Path) -> str:
    """The newest complete version older than the current one: what a rollback goes back to.
    Without a current version there is nothing to go back from: never a switch to another one."""
    current = current_version(index_dir)
    versions = list_versions(index_dir)
    if current not in versions:
        raise NothingToRollBack(
            f"there is no current index version to roll back from ({index_dir / CURRENT_FILE} is missing or "
            "names no complete version): name the version to make current"
        )
    older = [v for v in versions if v < current]
    if not older:
        raise NothingToRollBack(f"there is no index version older than the current one ({current}) to roll back to")
    return older[-1]


def seal_files(directory: Path) -> dict[str, dict]:
    """Size and sha256 of every file under `directory` (the manifest aside), each flushed to
    disk: what the manifest records and a load checks."""
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST_FILE):
        with path.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
            os.fsync(f.fileno())
        files[path.relative_to(directory).as_posix()] = {"size": path.stat().st_size, "sha256": digest}
    for sub in sorted(p for p in directory.rglob("*") if p.is_dir()):
        sync_directory(sub)
    return files


def _remedy(index_dir: Path, bad: str | None) -> str:
    """What the operator can do about an unusable current version."""
    others = [v for v in list_versions(index_dir) if v != bad]
    use = f"make an intact version current (`python -m app index use {others[-1]}`) or " if others else ""
    return use + "build a new one (`python -m app index build`)"


def verify_files(directory: Path, manifest: dict, index_dir: Path) -> None:
    """Refuse a version whose files differ from what its manifest recorded. Sizes are checked
    first (a truncated file costs no read), then checksums."""
    recorded = manifest[FILES_KEY]
    name = directory.name

    def refuse(path: str, what: str) -> CorruptIndex:
        return CorruptIndex(f"index version {name} is damaged: {path} {what}; {_remedy(index_dir, name)}")

    for path, expected in recorded.items():
        try:
            size = (directory / path).stat().st_size
        except FileNotFoundError:
            raise refuse(path, "is missing") from None
        if size != expected["size"]:
            raise refuse(path, f"has {size} bytes, {expected['size']} were written (truncated or overwritten)")
    for path, expected in recorded.items():
        with (directory / path).open("rb") as f:
            if hashlib.file_digest(f, "sha256").hexdigest() != expected["sha256"]:
                raise refuse(path, "does not match its checksum (corrupted)")


def version_files(index_dir: Path, version: str) -> dict[str, bytes]:
    """Every file of a complete version, by path relative to its directory: what another node
    needs to serve it (versions never change once complete)."""
    if version not in list_versions(index_dir):
        raise IndexNotFound(f"no complete index version {version!r} in {versions_dir(index_dir)}")
    directory = versions_dir(index_dir) / version
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def receive_version(index_dir: Path, version: str, files: dict[str, bytes]) -> None:
    """Add a version another node sent (`version_files`) beside the local ones: written in full
    and checked against its manifest before it is renamed into place, so the local CURRENT can
    only ever name it complete. A version already here is left as it is."""
    root = versions_dir(index_dir)
    if version in list_versions(index_dir):
        return
    if not VERSION_NAME.fullmatch(version) or MANIFEST_FILE not in files:
        raise CorruptIndex(f"index version {version!r} was received without its manifest: nothing installed")
    root.mkdir(parents=True, exist_ok=True)
    receiving = root / f"{RECEIVING_PREFIX}{version}-{uuid.uuid4().hex[:8]}"
    try:
        for relative, data in files.items():
            path = (receiving / relative).resolve()
            if not path.is_relative_to(receiving.resolve()):
                raise CorruptIndex(f"index version {version} was received with a file outside it: {relative!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            write_synced(path, data)
        try:
            manifest = json.loads(files[MANIFEST_FILE])
            verify_files(receiving, manifest, index_dir)
        except (ValueError, KeyError, TypeError):
            raise CorruptIndex(f"index version {version} was received with an invalid manifest") from None
        for sub in sorted(p for p in receiving.rglob("*") if p.is_dir()):
            sync_directory(sub)
        sync_directory(receiving)
        if version not in list_versions(index_dir):  # another process of this node may have been first
            receiving.rename(root / version)
            sync_directory(root)
    finally:
        shutil.rmtree(receiving, ignore_errors=True)


@dataclass
class IndexVersion:
    name: str
    manifest: dict
    collections: dict[str, Collection]
    book: StatuteBook
    taxonomy: Taxonomy
    scenario_probe: ScenarioProbe | None  # None for a version built before probes
    threat_neighbours: ThreatNeighbours | None  # None for a corpus without threat lines, or an older version
    scenario_words: ScenarioWords | None = None  # None for a version built before it

    @classmethod
    def load(cls, index_dir: Path, version: str | None = None) -> "IndexVersion":
        version, directory, manifest = _open_manifest(index_dir, version)
        try:
            with (directory / STATUTES_FILE).open(encoding="utf-8") as f:
                book = StatuteBook([Article.model_validate_json(line) for line in f])
            taxonomy = Taxonomy.model_validate_json((directory / TAXONOMY_FILE).read_text(encoding="utf-8"))
            collections = {name: Collection.load(directory / name, kind) for name, kind in COLLECTIONS.items()}
            scenario_probe = ScenarioProbe.load(directory)
            threat_neighbours = ThreatNeighbours.load(directory)
            scenario_words = ScenarioWords.load(directory)
        except Exception as e:  # only a version without checksums gets here with bad files
            raise CorruptIndex(f"index version {version} cannot be read ({e}); {_remedy(index_dir, version)}") from None
        return cls(version, manifest, collections, book, taxonomy, scenario_probe, threat_neighbours, scenario_words)

    def check_model(self, model_id: str) -> None:
        _check_model(self.name, self.manifest, model_id)


def check_version(index_dir: Path, version: str | None, model_id: str) -> str:
    """Refuse (IndexUnusable, saying what to do) a version the service could not serve: missing,
    damaged, or built by another model; None means the current one. Reads the manifest and
    checksums the files, without loading them. Returns the version's name."""
    version, _, manifest = _open_manifest(index_dir, version)
    _check_model(version, manifest, model_id)
    return version


def _open_manifest(index_dir: Path, version: str | None) -> tuple[str, Path, dict]:
    """A version's name, directory and manifest, its files verified against the manifest."""
    named_in = "" if version else f" named in {index_dir / CURRENT_FILE}"
    version = version or current_version(index_dir)
    if version is None:
        raise IndexNotFound(f"no current index in {index_dir}: {_remedy(index_dir, None)}")
    directory = versions_dir(index_dir) / version
    manifest_path = directory / MANIFEST_FILE
    if not VERSION_NAME.fullmatch(version) or not manifest_path.is_file():
        raise IndexNotFound(
            f"index version {version!r}{named_in} is missing or incomplete: {_remedy(index_dir, version)}"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["model"]["id"]
    except (ValueError, KeyError, TypeError):
        raise CorruptIndex(
            f"index version {version} is damaged: {MANIFEST_FILE} is not a valid manifest; "
            + _remedy(index_dir, version)
        ) from None
    if FILES_KEY in manifest:
        verify_files(directory, manifest, index_dir)
    else:
        log.warning("index version %s records no checksums (built before they were added): not verified", version)
    return version, directory, manifest


def _check_model(version: str, manifest: dict, model_id: str) -> None:
    built_with = manifest["model"]["id"]
    if built_with != model_id:
        restore = (
            "restore the default model (`python -m app model prepare`), "
            if built_with.startswith(DEFAULT_MODEL_NAME + "@") and model_id.startswith(DEFAULT_MODEL_NAME)
            else ""
        )
        raise IncompatibleIndex(
            f"index version {version} was built with model {built_with}, but the service uses {model_id}: "
            f"{restore}rebuild the index (`python -m app index build`) "
            "or set HUASHU_MODEL to the model that built it"
        )
