"""The ONNX Runtime backend (the default) gives the torch model's vectors and the same search
results; its int8 quantisation (`onnx-int8`) gives vectors close to them, each a function of its
text alone, under a model id of its own."""

import json

import numpy as np
import pytest

from app.core.config import REPO_ROOT, Settings
from app.embedding.encoder import ONNX_FILE, ONNX_INT8_FILE, Encoder, ModelNotFound, OnnxSentenceEncoder, model_identity
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


@pytest.fixture(scope="module")
def int8_encoder(settings) -> Encoder:
    int8 = settings.model_copy(update={"encoder_backend": "onnx-int8"})
    export_onnx(int8.model_path(), ONNX_INT8_FILE)  # as `python -m app model prepare` does with this backend
    return Encoder(int8)


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


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_backend_without_an_export_says_what_to_run(tmp_path, backend):
    settings = Settings(model=str(tmp_path), encoder_backend=backend)
    with pytest.raises(ModelNotFound, match="python -m app model prepare"):
        model_identity(settings)


def test_the_int8_export_is_made_once_beside_the_fp32_one(settings, int8_encoder):
    graph = settings.model_path() / ONNX_INT8_FILE
    assert graph.with_name(graph.name + ".data").stat().st_size > 100 * graph.stat().st_size
    before = graph.stat().st_mtime_ns
    assert export_onnx(settings.model_path(), ONNX_INT8_FILE) == graph
    assert graph.stat().st_mtime_ns == before
    assert sorted(p.name for p in graph.parent.iterdir()) == [
        "model.int8.onnx", "model.int8.onnx.data", "model.onnx", "model.onnx.data"
    ]  # nothing left beside them


def test_int8_has_a_model_id_of_its_own(encoder, int8_encoder, torch_encoder):
    assert encoder.model_id == torch_encoder.model_id
    assert int8_encoder.model_id == encoder.model_id + "+int8"  # an index built by one is refused by the other


def test_int8_vectors_stay_close_to_the_fp32_ones(encoder, int8_encoder):
    with (REPO_ROOT / "eval" / "dev-styles.jsonl").open(encoding="utf-8") as f:
        queries = [json.loads(line)["query"] for line in f][:64] + TEXTS
    int8, fp32 = int8_encoder._encode_fresh(queries), encoder._encode_fresh(queries)
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(int8 * fp32, axis=1)
    assert cosines.min() > 0.95 and cosines.mean() > 0.97
    assert cosines.max() < 0.99999  # quantised for real
    # what retrieval needs: each query is still nearest to its own fp32 vector
    assert (np.argmax(int8 @ fp32.T, axis=1) == np.arange(len(queries))).mean() > 0.95


def test_an_int8_vector_depends_on_its_text_alone(int8_encoder):
    # int8 activations are quantised per pass: batched texts would move each other's vectors.
    alone = np.concatenate([int8_encoder._encode_fresh([t]) for t in TEXTS])
    np.testing.assert_allclose(int8_encoder._encode_fresh(TEXTS), alone, atol=1e-6)
    documents = int8_encoder.encode_documents(TEXTS)
    np.testing.assert_allclose(int8_encoder.encode_documents(TEXTS[::-1])[::-1], documents, atol=1e-6)
