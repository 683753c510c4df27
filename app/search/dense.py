"""Dense channel: inner product over L2-normalised embeddings in a flat FAISS index (exact;
the collections are thousands of vectors, where exact search costs microseconds)."""

from pathlib import Path

import faiss
import numpy as np

FILE_NAME = "dense.faiss"


class DenseIndex:
    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def build(cls, embeddings: np.ndarray) -> "DenseIndex":
        index = faiss.IndexFlatIP(embeddings.shape[1])
        index.add(embeddings)
        return cls(index)

    def save(self, directory: Path) -> None:
        faiss.write_index(self.index, str(directory / FILE_NAME))

    @classmethod
    def load(cls, directory: Path) -> "DenseIndex":
        # Read into memory, never mapped (app/index/store.py says why).
        return cls(faiss.read_index(str(directory / FILE_NAME)))

    @property
    def dimension(self) -> int:
        return self.index.d

    def __len__(self) -> int:
        return self.index.ntotal

    def best(self, query_vectors: np.ndarray) -> np.ndarray:
        """The highest cosine of each query vector with any document (0 for an empty index)."""
        if not self.index.ntotal:
            return np.zeros(len(query_vectors), dtype=np.float32)
        return self.nearest(query_vectors, 1)[:, 0]

    def nearest(self, query_vectors: np.ndarray, k: int) -> np.ndarray:
        """The k highest cosines of each query vector, highest first: (queries, at most k)."""
        scores, _ = self.index.search(np.asarray(query_vectors, dtype=np.float32), min(k, self.index.ntotal))
        return scores

    def search(self, query_vector: np.ndarray, k: int) -> dict[int, float]:
        """Top-k documents as {position: cosine}."""
        scores, ids = self.index.search(query_vector.reshape(1, -1), min(k, self.index.ntotal))
        return {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}
