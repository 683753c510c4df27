import hashlib
import json

import numpy as np
import pytest

from app.corpus.loader import Edits, load_corpus
from app.corpus.scripts import Script, ScriptError
from app.index.build import (
    EMBED_BATCH, EMBED_CHARS, MAX_TEXT_CHARS, Built, TooManyNewTexts, _batches, build_index,
)
from app.index.store import (
    IncompatibleIndex,
    IndexNotFound,
    IndexVersion,
    NothingToRollBack,
    current_version,
    has_every_collection,
    list_versions,
    previous_version,
    prune_versions,
    set_current,
)
from app.search.scenario_probe import ScenarioProbe
from app.search.scenario_words import ScenarioWords
from app.search.threat_neighbours import THREAT_SCENARIOS
from app.text.normalize import normalize
from tests.conftest import SAMPLE_SCRIPT, write_small_corpus


@pytest.fixture
def tiny_corpus(tmp_path):
    return write_small_corpus(tmp_path / "corpus")


def count_encoded(encoder, monkeypatch) -> list[str]:
    """The texts a build embeds as queries from here on, in order."""
    encoded = []
    encode_said = encoder.encode_said

    def counted(texts):
        encoded.extend(texts)
        return encode_said(texts)

    monkeypatch.setattr(encoder, "encode_said", counted)
    return encoded


def test_build_writes_a_complete_version_and_makes_it_current(tiny_corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"
    version = build_index(tiny_corpus, index_dir, encoder, progress=False).version
    assert current_version(index_dir) == version
    loaded = IndexVersion.load(index_dir)
    corpus = load_corpus(tiny_corpus)
    assert loaded.manifest["model"] == {"id": encoder.model_id, "dimension": encoder.dimension}
    assert loaded.manifest["counts"] == {
        "scripts": 1,
        "statutes": 63,
        "passages": 2,
        "scenarios": 59,
        "exemplars": sum(len(s.says) for s in corpus.taxonomy.scenarios),
        "elsewhere": len(corpus.elsewhere),
        "small-talk": len(set(corpus.small_talk)),
        "not-small-talk": len(set(corpus.not_small_talk)),
    }
    assert len(loaded.manifest["corpus_digest"]) == 64
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.startswith(".")]
    assert has_every_collection(index_dir, version)


def test_a_version_from_before_a_collection_was_added_is_not_servable(tiny_corpus, tmp_path, encoder):
    # `index build --if-missing` builds anew over such a version instead of leaving one that cannot load.
    index_dir = tmp_path / "index"
    version = build_index(tiny_corpus, index_dir, encoder, progress=False).version
    manifest_path = index_dir / "versions" / version / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["counts"]["elsewhere"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert not has_every_collection(index_dir, version)
    assert not has_every_collection(index_dir, "no-such-version")


def test_a_failed_build_leaves_the_current_version_and_nothing_half_built(tiny_corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"
    good = build_index(tiny_corpus, index_dir, encoder, progress=False).version
    bad = {**SAMPLE_SCRIPT, "id": "double-refund/other", "citations": [{"law": "消法", "article_no": 999}]}
    with (tiny_corpus / "scripts" / "s.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(bad, ensure_ascii=False) + "\n")
    with pytest.raises(ScriptError, match="s.jsonl line 2 \\(double-refund/other\\): citation does not resolve"):
        build_index(tiny_corpus, index_dir, encoder, progress=False)
    assert current_version(index_dir) == good
    assert list_versions(index_dir) == [good]
    assert [p.name for p in (index_dir / "versions").iterdir()] == [good]


def test_an_index_built_by_another_model_is_refused(tiny_corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, encoder, progress=False)
    with pytest.raises(IncompatibleIndex, match="was built with model .* rebuild the index"):
        IndexVersion.load(index_dir).check_model("some-other-model")


def test_missing_index_and_unknown_version_are_clear_errors(tmp_path):
    with pytest.raises(IndexNotFound, match="python -m app index build"):
        IndexVersion.load(tmp_path / "nothing")
    with pytest.raises(IndexNotFound, match="no complete index version"):
        set_current(tmp_path / "nothing", "20260101T000000Z-abcdef")


def test_a_rebuild_embeds_only_the_texts_that_changed(tiny_corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"
    reports = []
    build_index(tiny_corpus, index_dir, encoder, progress=False, on_progress=lambda *report: reports.append(report))
    first = IndexVersion.load(index_dir)
    total = sum(len(collection) for collection in first.collections.values())  # texts, not articles
    assert first.manifest["embeddings_reused"] == 0
    # Progress advances with each batch embedded, also without a progress bar (the service's builds).
    assert reports[0] == (0, total) and reports[-1] == (total, total)
    assert [done for done, _ in reports] == sorted({done for done, _ in reports})

    write_script(tiny_corpus, SAMPLE_SCRIPT["text"] + "您看这样可以吗？")
    reports.clear()
    build_index(tiny_corpus, index_dir, encoder, progress=False, on_progress=lambda *report: reports.append(report))
    assert reports == [(0, 1), (1, 1)]
    rebuilt = IndexVersion.load(index_dir)
    assert rebuilt.manifest["embeddings_reused"] == total - 1
    before, after = first.collections["statutes"].embeddings(), rebuilt.collections["statutes"].embeddings()
    assert before.keys() == after.keys()
    assert all((before[h] == after[h]).all() for h in before)


def write_script(corpus, text: str) -> None:
    script = {**SAMPLE_SCRIPT, "text": text}
    (corpus / "scripts" / "s.jsonl").write_text(json.dumps(script, ensure_ascii=False) + "\n", encoding="utf-8")


def test_a_rebuild_with_nothing_changed_keeps_the_current_version(tiny_corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"
    first = build_index(tiny_corpus, index_dir, encoder, progress=False, keep_versions=2).version
    write_script(tiny_corpus, "第二版话术。")
    second = build_index(tiny_corpus, index_dir, encoder, progress=False, keep_versions=2).version
    # Nothing changed since: no copy of the current version, so the first stays within reach.
    again = build_index(tiny_corpus, index_dir, encoder, progress=False, keep_versions=2)
    assert again == Built(second, new=False)
    assert list_versions(index_dir) == [first, second] and current_version(index_dir) == second
    assert previous_version(index_dir) == first


def test_a_damaged_current_version_is_rebuilt_even_with_nothing_changed(tiny_corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"
    damaged = build_index(tiny_corpus, index_dir, encoder, progress=False).version
    (index_dir / "versions" / damaged / "scripts" / "records.jsonl").write_text("", encoding="utf-8")
    rebuilt = build_index(tiny_corpus, index_dir, encoder, progress=False)
    assert rebuilt.new and rebuilt.version != damaged
    assert IndexVersion.load(index_dir).name == rebuilt.version


def test_a_build_identical_to_an_older_version_never_prunes_the_only_copy_of_another(tiny_corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"

    def build(text: str) -> Built:
        write_script(tiny_corpus, text)
        return build_index(tiny_corpus, index_dir, encoder, progress=False, keep_versions=3)

    a, b, c = (build(text).version for text in ("话术甲。", "话术乙。", "话术丙。"))
    set_current(index_dir, b)  # rolled back
    again = build("话术丙。")  # c's corpus again, while b is current: a new version, c's twin
    assert again.new and current_version(index_dir) == again.version
    # Over the limit, the twin goes, not a, the only copy of its corpus.
    assert sorted(list_versions(index_dir)) == sorted([a, b, again.version])
    assert previous_version(index_dir) in (a, b)


def test_pruning_keeps_the_newest_versions_and_never_the_current(tmp_path):
    index_dir = tmp_path / "index"
    names = [f"2026010{i}T000000Z-abcdef" for i in range(1, 6)]
    for name in names:
        (index_dir / "versions" / name).mkdir(parents=True)
        (index_dir / "versions" / name / "manifest.json").write_text("{}")
    set_current(index_dir, names[0])  # rolled back to the oldest
    assert prune_versions(index_dir, keep=3) == names[1:3]
    assert list_versions(index_dir) == [names[0], names[3], names[4]]
    assert current_version(index_dir) == names[0]
    with pytest.raises(NothingToRollBack, match="no index version older than the current one"):
        previous_version(index_dir)
    set_current(index_dir, names[4])
    assert previous_version(index_dir) == names[3]


@pytest.mark.parametrize("current", [None, "20261231T000000Z-gone00", "garbage"])
def test_without_a_current_version_there_is_nothing_to_roll_back_from(tmp_path, current):
    index_dir = tmp_path / "index"
    for name in ["20260101T000000Z-abcdef", "20260102T000000Z-abcdef"]:
        (index_dir / "versions" / name).mkdir(parents=True)
        (index_dir / "versions" / name / "manifest.json").write_text("{}")
    if current:
        (index_dir / "CURRENT").write_text(current + "\n")
    with pytest.raises(NothingToRollBack, match="no current index version to roll back from"):
        previous_version(index_dir)


def test_published_edits_are_built_and_a_bounded_build_refuses_more_new_texts(tiny_corpus, tmp_path, encoder):
    index_dir = tmp_path / "index"
    first = build_index(tiny_corpus, index_dir, encoder, progress=False).version
    sample = Script.model_validate(SAMPLE_SCRIPT)
    edited = Edits({sample.id: sample.model_copy(update={"text": "我很愿意协助您，加倍赔偿要以欺诈的事实为前提。"})})
    reports = []
    built = build_index(
        tiny_corpus, index_dir, encoder, progress=False, edits=edited, embed_at_most=1,
        on_progress=lambda *report: reports.append(report),
    )
    assert built.new and reports[-1] == (1, 1)  # only the edited script is embedded
    assert [s.text for s in IndexVersion.load(index_dir).collections["scripts"].records] == [
        edited.scripts[sample.id].text
    ]
    assert build_index(tiny_corpus, index_dir, encoder, progress=False, edits=edited) == Built(built.version, False)

    two = Edits({sample.id: None, "double-refund/other": sample.model_copy(update={"id": "double-refund/other",
                                                                                     "text": "另一条新话术。"}),
                 "double-refund/third": sample.model_copy(update={"id": "double-refund/third", "text": "第三条。"})})
    with pytest.raises(TooManyNewTexts, match="2 texts to embed, more than 1"):
        build_index(tiny_corpus, index_dir, encoder, progress=False, edits=two, embed_at_most=1)
    assert current_version(index_dir) == built.version and list_versions(index_dir) == sorted([first, built.version])
    assert not [p for p in (index_dir / "versions").iterdir() if p.name.startswith(".")]


def test_encoder_calls_hold_few_long_texts_and_many_short_ones():
    """A build's peak memory is its largest encoder call: long texts go a few at a time, short
    ones EMBED_BATCH at a time, every text exactly once and in the order given."""
    lengths = [10] * 20 + [300] * 7 + [5000] * 5  # shortest first, as the build sorts them
    batches = list(_batches(list(range(len(lengths))), lengths))
    assert [i for batch in batches for i in batch] == list(range(len(lengths)))
    for batch in batches:
        longest = min(max(lengths[i] for i in batch), MAX_TEXT_CHARS)
        assert len(batch) <= EMBED_BATCH
        assert len(batch) == 1 or len(batch) * longest <= EMBED_CHARS
    assert max(len(b) for b in batches if lengths[b[0]] == 10) == EMBED_BATCH
    assert max(len(b) for b in batches if lengths[b[0]] == 5000) == EMBED_CHARS // MAX_TEXT_CHARS


def test_a_build_fits_the_scenario_probe_and_a_publish_reuses_it(tiny_corpus, tmp_path, encoder, monkeypatch):
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, encoder, progress=False)
    first = IndexVersion.load(index_dir)
    corpus = load_corpus(tiny_corpus)
    assert set(first.scenario_probe.scenarios) == {s.id for s in corpus.taxonomy.scenarios}
    assert set(first.scenario_words.scenarios) == {s.id for s in corpus.taxonomy.scenarios}

    # A changed script leaves what the probes are fitted on as it was: no fit (and no scikit-learn
    # in a serving process that publishes a script).
    def no_fit(*args):
        raise AssertionError("fitted again")

    monkeypatch.setattr(ScenarioProbe, "fit", no_fit)
    monkeypatch.setattr(ScenarioWords, "fit", no_fit)
    write_script(tiny_corpus, "第二版话术。")
    build_index(tiny_corpus, index_dir, encoder, progress=False)
    reused = IndexVersion.load(index_dir)
    assert reused.name != first.name and reused.scenario_probe.inputs == first.scenario_probe.inputs
    np.testing.assert_array_equal(reused.scenario_probe.coef, first.scenario_probe.coef)
    assert reused.scenario_words.inputs == first.scenario_words.inputs

    # A new saying is new training data: fitted again, the sayings read as queries as well, and
    # only the new one encoded for that.
    monkeypatch.undo()
    said_encoded = count_encoded(encoder, monkeypatch)
    scenarios = tiny_corpus / "scenarios.yaml"
    text = scenarios.read_text(encoding="utf-8")
    scenarios.write_text(text.replace('      - "退一赔一"\n', '      - "退一赔一"\n      - "骗我的钱得加倍吐出来"\n', 1), encoding="utf-8")
    build_index(tiny_corpus, index_dir, encoder, progress=False)
    refitted = IndexVersion.load(index_dir)
    assert refitted.scenario_probe.inputs != first.scenario_probe.inputs
    assert refitted.scenario_words.inputs != first.scenario_words.inputs
    assert said_encoded == ["骗我的钱得加倍吐出来"]
    assert len(refitted.scenario_probe.said) == len(first.scenario_probe.said) + 1
    # kept as search encodes the saying when a customer says it
    said = normalize("骗我的钱得加倍吐出来")
    query = encoder.encode_queries([said])[0]
    kept = refitted.scenario_probe.said[hashlib.sha256(said.encode()).hexdigest()]
    np.testing.assert_allclose(kept, query, atol=1e-5)


def test_a_build_keeps_a_threat_reader_of_the_threat_lines_and_encodes_only_new_lines(
    tiny_corpus, tmp_path, encoder, monkeypatch
):
    index_dir = tmp_path / "index"
    build_index(tiny_corpus, index_dir, encoder, progress=False)
    assert IndexVersion.load(index_dir).threat_neighbours is None  # a corpus without threat lines: the rules alone

    (tiny_corpus / "threats.txt").write_text("# 威胁\n再拖下去我就拎着家伙去你们店里算账\n", encoding="utf-8")
    (tiny_corpus / "self-harm.txt").write_text("# 轻生\n再催我就从楼顶跳下去\n", encoding="utf-8")
    (tiny_corpus / "threat-look-alikes.txt").write_text("气死我了，你们这是抢钱\n", encoding="utf-8")
    build_index(tiny_corpus, index_dir, encoder, progress=False)
    reader = IndexVersion.load(index_dir).threat_neighbours
    corpus = load_corpus(tiny_corpus)
    sayings = [s for scenario in corpus.taxonomy.scenarios if scenario.id not in THREAT_SCENARIOS for s in scenario.says]
    assert reader.is_threat.tolist().count(True) == 2 and reader.is_self_harm.tolist().count(True) == 1
    assert len(reader.hashes) > 2 + len(sayings)  # the look-alike, the sayings and their clauses
    texts = [normalize("再拖下去我就拎着家伙去你们店里算账"), normalize("再催我就从楼顶跳下去")]
    said = encoder.encode_queries(texts)
    assert (reader.margins(said) > 0).all()  # its own line is its nearest threat, at a cosine of 1
    assert reader.read(texts, said) == ["violence", "self-harm"]
    assert reader.words is not None  # the words of the same lines

    encoded = count_encoded(encoder, monkeypatch)
    (tiny_corpus / "threat-look-alikes.txt").write_text("气死我了，你们这是抢钱\n手机又炸了，发烫得厉害\n", encoding="utf-8")
    build_index(tiny_corpus, index_dir, encoder, progress=False)
    assert sorted(encoded) == sorted(["手机又炸了,发烫得厉害", "手机又炸了", "发烫得厉害"])
    assert len(IndexVersion.load(index_dir).threat_neighbours.hashes) == len(reader.hashes) + 3
