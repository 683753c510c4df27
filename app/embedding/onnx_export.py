"""Export a sentence-transformers model's transformer to ONNX once (`python -m app model prepare`),
for the ONNX Runtime backends of app.embedding.encoder, and quantise the export to int8. The only
part of those backends that needs torch."""

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import onnx
import torch
from sentence_transformers import SentenceTransformer
from transformers.utils import logging as transformers_logging

from app.embedding.encoder import ONNX_FILE, ONNX_INT8_FILE


def export_onnx(model_dir: Path, graph: Path = ONNX_FILE) -> Path:
    """Write the model's transformer (token ids and mask in, last hidden state out; fp32, the same
    weights) to model_dir/onnx/, unless it is there; for `graph` ONNX_INT8_FILE, its int8
    quantisation beside it as well. The weights go to files of their own, which ONNX Runtime maps
    into memory instead of copying: shared between workers, less RSS. Returns the graph's path."""
    fp32 = model_dir / ONNX_FILE
    if not fp32.is_file():
        _export(model_dir, fp32)
    if graph == ONNX_INT8_FILE and not (model_dir / ONNX_INT8_FILE).is_file():
        _quantise(fp32, model_dir / ONNX_INT8_FILE)
    return model_dir / graph


def _export(model_dir: Path, target: Path) -> None:
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


def _quantise(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the matrix products' weights, a scale per output channel
    (per-tensor scales moved the vectors twice as far); the embedding table stays fp32 (its
    lookups cost nothing). 7-bit ranges (`reduce_range`) keep the integer products from
    saturating on CPUs without VNNI instructions."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    staging = Path(tempfile.mkdtemp(prefix=".onnx-int8.", dir=target.parent))
    try:
        quantize_dynamic(  # given the graph, not its path: nothing is written beside the source
            onnx.load(source), staging / target.name, op_types_to_quantize=["MatMul"], per_channel=True,
            reduce_range=True, weight_type=QuantType.QInt8, use_external_data_format=True,
        )
        # The graph last: its presence says the weights it names are complete.
        for path in sorted(staging.iterdir(), key=lambda p: p.name == target.name):
            path.chmod(0o644)
            os.replace(path, target.parent / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _LastHiddenState(torch.nn.Module):
    """The transformer with positional inputs and one output, as the ONNX exporter wants it."""

    def __init__(self, transformer: torch.nn.Module):
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
