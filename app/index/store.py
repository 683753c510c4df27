"""Index versions on disk.

    index/
      CURRENT                 name of the version the service loads
      versions/<version>/     one complete, immutable build: manifest.json last
      versions/.building-*/   a build in progress; never loaded

A version directory is renamed into place only when complete, and CURRENT is replaced
atomically, so a reader sees either the old version or the new one, never a mix.
"""

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from app.corpus.scenarios import Taxonomy
from app.corpus.statutes import Article, StatuteBook
from app.search.collection import Collection

CURRENT_FILE = "CURRENT"
MANIFEST_FILE = "manifest.json"
STATUTES_FILE = "statutes.jsonl"
TAXONOMY_FILE = "scenarios.json"
COLLECTIONS = ("scripts", "statutes", "passages", "scenarios")


class IndexNotFound(RuntimeError):
    pass


class IncompatibleIndex(RuntimeError):
    pass


def versions_dir(index_dir: Path) -> Path:
    return index_dir / "versions"


def list_versions(index_dir: Path) -> list[str]:
    root = versions_dir(index_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and (p / MANIFEST_FILE).is_file())


def current_version(index_dir: Path) -> str | None:
    try:
        return (index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def write_atomically(path: Path, data: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def set_current(index_dir: Path, version: str) -> None:
    if version not in list_versions(index_dir):
        raise IndexNotFound(f"no complete index version {version!r} in {versions_dir(index_dir)}")
    write_atomically(index_dir / CURRENT_FILE, version + "\n")


def prune_versions(index_dir: Path, keep: int) -> list[str]:
    """Delete the oldest complete versions beyond `keep`, never the current one."""
    current = current_version(index_dir)
    removable = [v for v in list_versions(index_dir) if v != current]
    doomed = removable[: max(0, len(removable) - (keep - 1))]
    for version in doomed:
        shutil.rmtree(versions_dir(index_dir) / version)
    return doomed


def previous_version(index_dir: Path) -> str | None:
    """The newest complete version older than the current one: what a rollback goes back to."""
    current = current_version(index_dir)
    older = [v for v in list_versions(index_dir) if current is None or v < current]
    return older[-1] if older else None


@dataclass
class IndexVersion:
    name: str
    manifest: dict
    collections: dict[str, Collection]
    book: StatuteBook
    taxonomy: Taxonomy

    @classmethod
    def load(cls, index_dir: Path, version: str | None = None) -> "IndexVersion":
        version = version or current_version(index_dir)
        if version is None:
            raise IndexNotFound(f"no index in {index_dir}: run `python -m app index build`")
        directory = versions_dir(index_dir) / version
        manifest_path = directory / MANIFEST_FILE
        if not manifest_path.is_file():
            raise IndexNotFound(f"index version {version!r} is missing or incomplete in {versions_dir(index_dir)}")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        with (directory / STATUTES_FILE).open(encoding="utf-8") as f:
            book = StatuteBook([Article.model_validate_json(line) for line in f])
        taxonomy = Taxonomy.model_validate_json((directory / TAXONOMY_FILE).read_text(encoding="utf-8"))
        collections = {name: Collection.load(directory / name) for name in COLLECTIONS}
        return cls(version, manifest, collections, book, taxonomy)

    def check_model(self, model_id: str) -> None:
        built_with = self.manifest["model"]["id"]
        if built_with != model_id:
            raise IncompatibleIndex(
                f"index version {self.name} was built with model {built_with}, but the service uses {model_id}: "
                "rebuild the index (`python -m app index build`) or set HUASHU_MODEL to the model that built it"
            )
