"""Sparse channel: BM25 over jieba tokens, built once at index time and loaded from disk."""

import logging
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG for itself on import

DIR_NAME = "bm25"


class SparseIndex:
    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever

    @classmethod
    def build(cls, documents_tokens: list[list[str]]) -> "SparseIndex":
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        retriever.index(documents_tokens, show_progress=False)
        return cls(retriever)

    def save(self, directory: Path) -> None:
        self.retriever.save(str(directory / DIR_NAME), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> "SparseIndex":
        # Read into memory, never mapped (app/index/store.py says why).
        return cls(bm25s.BM25.load(str(directory / DIR_NAME), mmap=False, show_progress=False))

    def search(self, query_tokens: list[str], k: int) -> dict[int, float]:
        """Top-k documents with a positive score as {position: BM25 score}."""
        if not query_tokens:
            return {}
        scores = self.retriever.get_scores(query_tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}
