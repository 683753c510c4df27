"""The encoder's domain adapter: trained on corpus pairs only, merged into the weights by plain
arithmetic, and part of the model's identity."""

import hashlib
import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from app.embedding import adapter
from app.embedding.encoder import INFO_FILE
from app.measure.evaluation import load_queries, record_texts
from app.text.normalize import normalize

EVAL_DIR = Path(__file__).parents[2] / "eval"


@pytest.fixture(scope="module")
def pairs(corpus):
    return adapter.corpus_pairs(corpus)


def test_pairs_come_from_every_kind_of_corpus_text(pairs, corpus):
    kinds = {p.kind for p in pairs}
    assert kinds == {"says-scenario", "says-script", "question-article", "situation-script"}
    assert sum(p.kind == "says-scenario" for p in pairs) == sum(len(s.says) for s in corpus.taxonomy.scenarios)
    assert sum(p.kind == "situation-script" for p in pairs) == len(corpus.scripts)


def test_no_evaluation_query_is_a_training_query(pairs):
    queries = {p.query for p in pairs}
    for path in sorted(EVAL_DIR.glob("*.jsonl")):
        for record in load_queries(path):
            for text in record_texts(record):
                assert normalize(text) not in queries, f"{path.name}: {text}"


def test_held_out_queries_take_all_their_pairs(pairs):
    train, held = adapter.split_pairs(pairs, 0.1, seed=16)
    assert len(train) + len(held) == len(pairs)
    assert not {p.query for p in train} & {p.query for p in held}
    assert 0.05 < len({p.query for p in held}) / len({p.query for p in pairs}) < 0.15


def test_merge_adds_scale_times_b_a(tmp_path):
    torch.manual_seed(0)
    a, b = torch.randn(2, 6), torch.randn(4, 2)
    save_file({"layer.q.lora_A": a, "layer.q.lora_B": b}, str(tmp_path / "lora.safetensors"), metadata={"scale": "2.0"})
    weight, other = torch.randn(4, 6), torch.randn(3)
    state = {"layer.q.weight": weight.clone(), "layer.q.bias": other}
    merged = adapter.merge_adapter(state, tmp_path / "lora.safetensors")
    torch.testing.assert_close(merged["layer.q.weight"], weight + 2.0 * b @ a)
    assert merged["layer.q.bias"] is other


def test_merge_refuses_an_adapter_for_another_model(tmp_path):
    save_file({"x.lora_A": torch.zeros(1, 2), "x.lora_B": torch.zeros(2, 1)}, str(tmp_path / "l.safetensors"),
              metadata={"scale": "1.0"})
    with pytest.raises(ValueError, match="does not have"):
        adapter.merge_adapter({"y.weight": torch.zeros(2, 2)}, tmp_path / "l.safetensors")


def test_shipped_adapter_is_small_and_adapts_attention_only():
    assert adapter.ADAPTER_FILE.stat().st_size < 2 * 1024 * 1024
    with safe_open(str(adapter.ADAPTER_FILE), framework="pt") as f:
        names = {k.rsplit(".", 1)[0] for k in f.keys()}
        assert float(f.metadata()["scale"]) > 0
    assert names and all(".attention." in n for n in names)
    assert {n.split(".")[2] for n in names} == {str(i) for i in range(12)}


def test_the_served_model_has_the_shipped_adapter_merged(encoder, settings):
    info = json.loads((settings.model_path() / INFO_FILE).read_text(encoding="utf-8"))
    sha256 = hashlib.sha256(adapter.ADAPTER_FILE.read_bytes()).hexdigest()
    assert info["adapter"]["sha256"] == sha256
    assert encoder.model_id.endswith("+" + sha256[:16])  # a new adapter is a new model: old indexes are refused
