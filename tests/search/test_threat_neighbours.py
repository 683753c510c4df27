import numpy as np

from app.search.threat_neighbours import MARGIN, NEIGHBOURS, ThreatNeighbours, authored_lines
from app.text.normalize import normalize


def test_words_are_a_threat_when_their_nearest_threats_are_nearer_by_the_margin():
    rng = np.random.default_rng(0)
    lines = rng.normal(size=(40, 8)).astype(np.float32)
    lines /= np.linalg.norm(lines, axis=1, keepdims=True)
    is_threat = np.arange(40) < 12
    reader = ThreatNeighbours(tuple(map(str, range(40))), lines, is_threat, "inputs")
    said = lines[[0, 20]] + rng.normal(scale=0.05, size=(2, 8)).astype(np.float32)
    said /= np.linalg.norm(said, axis=1, keepdims=True)
    similarity = said @ lines.T
    # the mean of the NEIGHBOURS best cosines on each side
    expected = [
        np.sort(row[is_threat])[-NEIGHBOURS:].mean() - np.sort(row[~is_threat])[-NEIGHBOURS:].mean()
        for row in similarity
    ]
    np.testing.assert_allclose(reader.margins(said), expected, atol=1e-6)
    assert reader.threats(said) == [m >= MARGIN for m in expected]
    # words as near the look-alikes as the threats are none: a tie is no threat
    both = ThreatNeighbours(("t", "n"), np.vstack([lines[0], lines[0]]), np.array([True, False]), "inputs")
    assert both.margins(lines[:1])[0] == 0 < MARGIN and both.threats(lines[:1]) == [False]


def test_the_lines_that_are_no_threat_include_their_clauses_and_never_a_threat():
    threats, others = authored_lines(
        ["我拎着家伙去你们店里算账", "我拎着家伙去你们店里算账"],
        ["氣死我了，你们这是抢钱", "我拎着家伙去你们店里算账"],
        ["流量被偷了，要双倍赔偿"],
    )
    assert threats == ["我拎着家伙去你们店里算账"]
    # normalised as a query is (traditional to simplified), each once, with the clauses of four characters or more
    assert others == ["气死我了,你们这是抢钱", "流量被偷了,要双倍赔偿", "气死我了", "你们这是抢钱", "流量被偷了", "要双倍赔偿"]
    assert normalize("氣死我了，你们这是抢钱") == others[0]


def test_a_reader_is_saved_in_a_version_and_loaded_from_it(tmp_path):
    reader = ThreatNeighbours(("a", "b"), np.eye(2, dtype=np.float32), np.array([True, False]), "inputs")
    reader.save(tmp_path)
    loaded = ThreatNeighbours.load(tmp_path)
    assert loaded.hashes == ("a", "b") and loaded.inputs == "inputs"
    np.testing.assert_array_equal(loaded.is_threat, [True, False])
    assert ThreatNeighbours.load(tmp_path / "none") is None
