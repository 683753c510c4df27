from dataclasses import replace

import numpy as np

from app.search.threat_neighbours import (
    FILE_NAME,
    MARGIN,
    NEIGHBOURS,
    WORDS_MAX_CHARS,
    WORDS_MIN_MARGIN,
    ThreatNeighbours,
    authored_lines,
)
from app.search.threat_words import PROBABILITY, ThreatWords
from app.text.normalize import normalize


def test_words_are_a_threat_when_their_nearest_threats_are_nearer_by_the_margin():
    rng = np.random.default_rng(0)
    lines = rng.normal(size=(40, 8)).astype(np.float32)
    lines /= np.linalg.norm(lines, axis=1, keepdims=True)
    is_threat = np.arange(40) < 12
    reader = ThreatNeighbours(tuple(map(str, range(40))), lines, is_threat, np.zeros(40, dtype=bool), "inputs")
    said = lines[[0, 20]] + rng.normal(scale=0.05, size=(2, 8)).astype(np.float32)
    said /= np.linalg.norm(said, axis=1, keepdims=True)
    similarity = said @ lines.T
    # the mean of the NEIGHBOURS best cosines on each side
    expected = [
        np.sort(row[is_threat])[-NEIGHBOURS:].mean() - np.sort(row[~is_threat])[-NEIGHBOURS:].mean()
        for row in similarity
    ]
    np.testing.assert_allclose(reader.margins(said), expected, atol=1e-6)
    assert reader.read(["", ""], said) == ["violence" if m >= MARGIN else None for m in expected]
    # words as near the look-alikes as the threats are none: a tie is no threat
    both = ThreatNeighbours(
        ("t", "n"), np.vstack([lines[0], lines[0]]), np.array([True, False]), np.array([False, False]), "inputs"
    )
    assert both.margins(lines[:1])[0] == 0 < MARGIN and both.read([""], lines[:1]) == [None]


def test_a_threat_is_of_self_harm_when_its_nearest_threats_of_self_harm_are_nearer_than_those_of_violence():
    rng = np.random.default_rng(1)
    lines = rng.normal(size=(60, 8)).astype(np.float32)
    lines /= np.linalg.norm(lines, axis=1, keepdims=True)
    is_threat = np.arange(60) < 24
    is_self_harm = np.arange(60) < 12  # of the threats, the first half
    reader = ThreatNeighbours(tuple(map(str, range(60))), lines, is_threat, is_self_harm, "inputs")
    said = lines[[3, 15, 40]] + rng.normal(scale=0.05, size=(3, 8)).astype(np.float32)
    said /= np.linalg.norm(said, axis=1, keepdims=True)
    similarity = said @ lines.T
    nearer = [
        np.sort(row[is_self_harm])[-NEIGHBOURS:].mean() > np.sort(row[is_threat & ~is_self_harm])[-NEIGHBOURS:].mean()
        for row in similarity
    ]
    threat = reader.margins(said) >= MARGIN
    read = reader.read(["", "", ""], said)
    assert read == [("self-harm" if n else "violence") if t else None for t, n in zip(threat, nearer)]
    assert read[:2] == ["self-harm", "violence"]  # near a line of each kind
    # a reader without threats of self-harm reads every threat as one of violence
    violence_only = ThreatNeighbours(reader.hashes, lines, is_threat, np.zeros(60, dtype=bool), "inputs")
    assert violence_only.read(["", "", ""], said)[:2] == ["violence", "violence"]


def _words_reader() -> ThreatNeighbours:
    lines = np.eye(4, dtype=np.float32)
    # one n-gram, 横着, weighs enough for a probability of 1 / (1 + e^-8) with it, 1 / (1 + e^2) without
    words = ThreatWords(("横着",), np.array([1.0]), np.array([10.0]), -2.0)
    is_threat = np.array([True, False, False, False])
    return ThreatNeighbours(tuple("abcd"), lines, is_threat, np.zeros(4, dtype=bool), "inputs", words)


def test_words_that_read_as_a_threat_make_a_threat_where_the_neighbours_say_too_little():
    reader = _words_reader()
    texts = ["再来就让他横着出去", "我在门口等师傅"]
    assert reader.words.probabilities(texts)[0] >= PROBABILITY > reader.words.probabilities(texts)[1]
    said = np.zeros((2, 4), dtype=np.float32)  # as near the threats as the lines that are none
    assert reader.margins(said).tolist() == [0.0, 0.0] and 0.0 < MARGIN
    assert reader.read(texts, said) == ["violence", None]
    assert replace(reader, words=None).read(texts, said) == [None, None]


def test_words_read_no_threat_beyond_where_they_were_measured():
    reader = _words_reader()
    # far nearer a line that is none: the words of a short note cannot outweigh that
    assert reader.margins(np.eye(4, dtype=np.float32)[[3]])[0] < WORDS_MIN_MARGIN
    assert reader.read(["再来就让他横着出去"], np.eye(4, dtype=np.float32)[[3]]) == [None]
    # a long narration read whole, with the threat's words somewhere in it
    narration = "我跟你说，" + "那天师傅来装宽带，" * 6 + "说要横着把线拉过去"
    assert len(narration) > WORDS_MAX_CHARS and reader.words.probabilities([narration])[0] >= PROBABILITY
    assert reader.read([narration], np.zeros((1, 4), dtype=np.float32)) == [None]


def test_each_kind_of_line_is_normalised_and_kept_once_and_the_lines_that_are_none_include_their_clauses():
    threats, self_harm, others = authored_lines(
        ["我拎着家伙去你们店里算账", "我拎着家伙去你们店里算账", "再催我就不活了"],
        ["再催我就不活了"],
        ["氣死我了，你们这是抢钱", "我拎着家伙去你们店里算账"],
        ["流量被偷了，要双倍赔偿"],
    )
    assert threats == ["我拎着家伙去你们店里算账"] and self_harm == ["再催我就不活了"]
    # normalised as a query is (traditional to simplified), each once, with the clauses of four characters or more
    assert others == ["气死我了,你们这是抢钱", "流量被偷了,要双倍赔偿", "气死我了", "你们这是抢钱", "流量被偷了", "要双倍赔偿"]
    assert normalize("氣死我了，你们这是抢钱") == others[0]


def test_a_reader_is_saved_in_a_version_and_loaded_from_it(tmp_path):
    words = ThreatWords(("横着", "等"), np.array([1.0, 2.0]), np.array([10.0, -3.0]), -2.0)
    reader = ThreatNeighbours(
        ("a", "b", "c"), np.eye(3, dtype=np.float32), np.array([True, True, False]), np.array([True, False, False]),
        "inputs", words,
    )
    reader.save(tmp_path)
    loaded = ThreatNeighbours.load(tmp_path)
    assert loaded.hashes == ("a", "b", "c") and loaded.inputs == "inputs"
    np.testing.assert_array_equal(loaded.is_threat, [True, True, False])
    np.testing.assert_array_equal(loaded.is_self_harm, [True, False, False])
    assert loaded.words.ngrams == ("横着", "等") and loaded.words.intercept == -2.0
    texts = ["让他横着出去", "我等师傅"]
    np.testing.assert_allclose(loaded.words.probabilities(texts), words.probabilities(texts))
    assert ThreatNeighbours.load(tmp_path / "none") is None


def test_a_reader_saved_before_self_harm_and_words_loads_and_reads_by_its_nearest_lines(tmp_path):
    lines = np.eye(3, dtype=np.float32)
    np.savez(
        tmp_path / FILE_NAME, hashes=np.array(["a", "b", "c"]), vectors=lines, is_threat=np.array([True, False, False]),
        inputs=np.array("inputs"),
    )
    loaded = ThreatNeighbours.load(tmp_path)
    assert loaded.words is None and not loaded.is_self_harm.any()
    assert loaded.read(["我让他横着出去", "好的"], lines[[0, 1]]) == ["violence", None]
