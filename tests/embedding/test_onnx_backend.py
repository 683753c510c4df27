"""The ONNX Runtime backend (the default) gives the torch model's vectors and the same search results."""

import json

import numpy as np
import pytest

from app.core.config import REPO_ROOT, Settings
from app.embedding.encoder import ONNX_FILE, Encoder, ModelNotFound, OnnxSentenceEncoder, model_identity
from app.embedding.onnx_export import export_onnx
from app.index.store import IndexVersion
from app.search.engine import SearchEngine

TEXTS = [
    "流量被偷了",
    "客户说宽带断网耽误他直播带货，损失你们得全包，开口就要八千",
    "手机停机",
    "营业厅多扣了我五十块话费" * 60,  # longer than the model's 512 tokens: truncated as torch does
]


@pytest.fixture(scope="module")
def torch_encoder(settings) -> Encoder:
    return Encoder(settings.model_copy(update={"encoder_backend": "torch"}))


def test_onnx_is_the_default_backend(encoder):
    assert Settings.model_fields["encoder_backend"].default == "onnx"
    assert isinstance(encoder.model, OnnxSentenceEncoder)


def test_export_keeps_the_weights_in_a_file_of_their_own_and_runs_once(settings, encoder):
    graph = settings.model_path() / ONNX_FILE
    weights = graph.with_name(graph.name + ".data")
    assert weights.stat().st_size > 100 * graph.stat().st_size  # mapped into memory, not copied
    before = graph.stat().st_mtime_ns
    assert export_onnx(settings.model_path()) == graph
    assert graph.stat().st_mtime_ns == before


def test_onnx_vectors_match_torch_alone_and_in_padded_batches(torch_encoder, encoder):
    torch_queries = torch_encoder._encode_fresh(TEXTS)
    one_by_one = np.concatenate([encoder._encode_fresh([t]) for t in TEXTS])
    for vectors in (encoder._encode_fresh(TEXTS), one_by_one):
        assert vectors.shape == (len(TEXTS), torch_encoder.dimension)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert np.min(np.sum(vectors * torch_queries, axis=1)) > 0.9999
    documents = encoder.encode_documents(TEXTS, batch_size=3)
    assert np.min(np.sum(documents * torch_encoder.encode_documents(TEXTS), axis=1)) > 0.9999
    # the prompts differ ("query: " / "passage: "), so do the vectors
    assert np.max(np.sum(documents * torch_queries, axis=1)) < 0.9999


def test_onnx_engine_gives_the_torch_engine_results(settings, engine, encoder, torch_encoder):
    torch_engine = SearchEngine(IndexVersion.load(settings.index_dir), torch_encoder)
    with (REPO_ROOT / "eval" / "dev-agents.jsonl").open(encoding="utf-8") as f:
        queries = [json.loads(line)["query"] for line in f][:12]
    for query in queries:
        ours, theirs = engine.search(query, top_k=5), torch_engine.search(query, top_k=5)
        assert [s.record.id for s in ours.scripts] == [s.record.id for s in theirs.scripts]
        assert [a.article.key for a in ours.statutes] == [a.article.key for a in theirs.statutes]


def test_onnx_backend_without_an_export_says_what_to_run(tmp_path):
    settings = Settings(model=str(tmp_path), encoder_backend="onnx")
    with pytest.raises(ModelNotFound, match="python -m app model prepare"):
        model_identity(settings)
