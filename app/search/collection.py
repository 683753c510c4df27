"""One searchable collection (scripts, statutes, passages or scenarios): its records and the
dense and sparse indexes over them, behind one hybrid `search`. Records are typed (a Script, an
ArticleRef, ...): the index layer names each collection's type, and a record is read back as the
model it was written from."""

import json
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
from pydantic import BaseModel

from app.search.dense import DenseIndex
from app.search.hybrid import fuse
from app.search.sparse import SparseIndex

RECORDS_FILE = "records.jsonl"
HASHES_FILE = "text-hashes.json"

Record = TypeVar("Record", bound=BaseModel)


class Collection(Generic[Record]):
    def __init__(self, records: list[Record], dense: DenseIndex, sparse: SparseIndex, text_hashes: list[str]):
        self.records = records
        self.dense = dense
        self.sparse = sparse
        # sha256 of the text each record was indexed by: the next build reuses its embedding.
        self.text_hashes = text_hashes

    @classmethod
    def build(
        cls, records: list[Record], tokens: list[list[str]], embeddings: np.ndarray, text_hashes: list[str]
    ) -> "Collection[Record]":
        return cls(records, DenseIndex.build(embeddings), SparseIndex.build(tokens), text_hashes)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        with (directory / RECORDS_FILE).open("w", encoding="utf-8") as f:
            for record in self.records:
                f.write(record.model_dump_json() + "\n")
        (directory / HASHES_FILE).write_text(json.dumps(self.text_hashes), encoding="utf-8")
        self.dense.save(directory)
        self.sparse.save(directory)

    @classmethod
    def load(cls, directory: Path, record_type: type[Record]) -> "Collection[Record]":
        with (directory / RECORDS_FILE).open(encoding="utf-8") as f:
            records = [record_type.model_validate_json(line) for line in f]
        text_hashes = json.loads((directory / HASHES_FILE).read_text(encoding="utf-8"))
        return cls(records, DenseIndex.load(directory), SparseIndex.load(directory), text_hashes)

    def embeddings(self) -> dict[str, np.ndarray]:
        """Stored embeddings by text hash."""
        vectors = self.dense.index.reconstruct_n(0, len(self.records)) if self.records else []
        return dict(zip(self.text_hashes, vectors))

    def __len__(self) -> int:
        return len(self.records)

    def search(
        self, query_vector: np.ndarray, query_tokens: list[str], k: int, dense_weight: float
    ) -> dict[int, float]:
        """Hybrid scores {position: score} of each channel's top k, unordered; `dense_weight`
        1.0 is dense only, 0.0 is BM25 only."""
        dense = self.dense.search(query_vector, k) if dense_weight > 0 else {}
        sparse = self.sparse.search(query_tokens, k) if dense_weight < 1 else {}
        return fuse(dense, sparse, dense_weight)
