import numpy as np
import pytest

from app.search.scenario_probe import ScenarioProbe, probe_inputs


def clusters(labels: list[str], per_label: int = 20, dimension: int = 8) -> tuple[np.ndarray, list[str]]:
    """Unit vectors around one axis per label."""
    rng = np.random.default_rng(0)
    vectors, names = [], []
    for axis, label in enumerate(labels):
        points = rng.normal(0, 0.2, (per_label, dimension))
        points[:, axis] += 1
        vectors.append(points / np.linalg.norm(points, axis=1, keepdims=True))
        names += [label] * per_label
    return np.vstack(vectors).astype(np.float32), names


def test_the_probe_gives_each_scenario_a_probability_and_the_most_to_its_own_region():
    vectors, labels = clusters(["a", "b", "c"])
    probe = ScenarioProbe.fit(vectors, labels, "inputs", {})
    for axis, label in enumerate(["a", "b", "c"]):
        query = np.eye(8, dtype=np.float32)[axis]
        p = probe.probabilities(query)
        assert set(p) == {"a", "b", "c"} and sum(p.values()) == pytest.approx(1.0)
        assert max(p, key=p.get) == label and p[label] > 0.5


def test_two_scenarios_give_the_probabilities_of_their_binary_fit():
    vectors, labels = clusters(["a", "b"])
    probe = ScenarioProbe.fit(vectors, labels, "inputs", {})
    p = probe.probabilities(np.eye(8, dtype=np.float32)[1])
    assert p["b"] > 0.5 > p["a"] and p["a"] + p["b"] == pytest.approx(1.0)


def test_one_scenario_alone_has_no_probe():
    vectors, labels = clusters(["a"])
    assert ScenarioProbe.fit(vectors, labels, "inputs", {}) is None


def test_a_saved_probe_loads_the_same_and_a_version_without_one_has_none(tmp_path):
    vectors, labels = clusters(["a", "b", "c"])
    said = {"h1": vectors[0], "h2": vectors[1]}
    probe = ScenarioProbe.fit(
        vectors, labels, probe_inputs("model", "code", labels, [str(i) for i in range(len(labels))]), said
    )
    assert ScenarioProbe.load(tmp_path) is None
    probe.save(tmp_path)
    loaded = ScenarioProbe.load(tmp_path)
    assert loaded.scenarios == probe.scenarios and loaded.inputs == probe.inputs
    assert set(loaded.said) == {"h1", "h2"}
    np.testing.assert_array_equal(loaded.said["h2"], vectors[1])
    query = vectors[0]
    assert loaded.probabilities(query) == pytest.approx(probe.probabilities(query))


def test_a_probe_fitted_without_sayings_saves_and_loads(tmp_path):
    vectors, labels = clusters(["a", "b"])
    ScenarioProbe.fit(vectors, labels, "inputs", {}).save(tmp_path)
    loaded = ScenarioProbe.load(tmp_path)
    assert loaded.said == {} and loaded.scenarios == ("a", "b")


def test_the_inputs_digest_changes_with_the_model_the_code_a_label_or_a_text():
    base = probe_inputs("model", "code", ["a", "b"], ["h1", "h2"])
    assert base == probe_inputs("model", "code", ["a", "b"], ["h1", "h2"])
    variants = {
        probe_inputs("other", "code", ["a", "b"], ["h1", "h2"]),
        probe_inputs("model", "changed", ["a", "b"], ["h1", "h2"]),
        probe_inputs("model", "code", ["a", "a"], ["h1", "h2"]),
        probe_inputs("model", "code", ["a", "b"], ["h1", "h3"]),
    }
    assert len(variants | {base}) == 5
