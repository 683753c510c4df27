import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from app.search.scenario_words import MIN_TEXTS, NGRAMS, WORDS_C, ScenarioWords, char_grams

SAID = {
    "broadband-speed": ["宽带网速太慢了", "测速只有二十兆", "宽带合同写的三百兆", "晚上网速慢得看不了视频"],
    "travel-lost-wages": ["请假在家等师傅", "跑了三趟营业厅的车费", "耽误我上班扣了工资", "打车去营业厅花了五十"],
    "data-billing": ["流量用超了扣了好多钱", "流量明明没用完", "这个月流量费多扣了", "套餐里的流量怎么没了"],
}


def fitted(scenarios: list[str]) -> ScenarioWords:
    texts = [t for s in scenarios for t in SAID[s]]
    labels = [s for s in scenarios for _ in SAID[s]]
    return ScenarioWords.fit(texts, labels, "inputs")


def test_char_grams_are_the_1_to_3_grams_with_spaces_run_together():
    assert char_grams("网速") == ["网", "速", "网速"]
    assert char_grams("a  b") == ["a", " ", "b", "a ", " b", "a b"]


def test_each_scenario_gets_a_probability_and_its_own_words_the_most():
    words = fitted(list(SAID))
    for query, scenario in [("网速慢，测速才十几兆", "broadband-speed"), ("为这事请假两天，工资都扣了", "travel-lost-wages")]:
        p = words.probabilities(query)
        assert set(p) == set(SAID) and sum(p.values()) == pytest.approx(1.0)
        assert max(p, key=p.get) == scenario


def test_a_text_of_no_known_characters_gets_the_prior_alone():
    words = fitted(list(SAID))
    prior = np.exp(words.intercept) / np.exp(words.intercept).sum()
    assert words.probabilities("😀") == pytest.approx(dict(zip(words.scenarios, prior.tolist())))
    assert words.probabilities("😀") != pytest.approx(words.probabilities("网速太慢"), abs=0.05)


def test_the_features_are_scikit_learn_s_char_tf_idf():
    texts = [t for s in SAID for t in SAID[s]]
    labels = [s for s in SAID for _ in SAID[s]]
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=(min(NGRAMS), max(NGRAMS)), sublinear_tf=True, min_df=MIN_TEXTS, lowercase=False
    )
    model = LogisticRegression(C=WORDS_C, max_iter=5000).fit(vectorizer.fit_transform(texts), labels)
    query = "宽带测速只有十兆，还扣了流量费"
    expected = dict(zip(model.classes_, model.predict_proba(vectorizer.transform([query]))[0]))
    assert fitted(list(SAID)).probabilities(query) == pytest.approx(expected, abs=1e-4)


def test_two_scenarios_give_the_probabilities_of_their_binary_fit_and_one_has_no_model():
    words = fitted(["broadband-speed", "data-billing"])
    p = words.probabilities("网速太慢")
    assert p["broadband-speed"] > 0.5 > p["data-billing"] and sum(p.values()) == pytest.approx(1.0)
    assert ScenarioWords.fit(SAID["data-billing"], ["data-billing"] * 4, "inputs") is None


def test_a_saved_model_loads_the_same_and_a_version_without_one_has_none(tmp_path):
    words = fitted(list(SAID))
    assert ScenarioWords.load(tmp_path) is None
    words.save(tmp_path)
    loaded = ScenarioWords.load(tmp_path)
    assert loaded.scenarios == words.scenarios and loaded.inputs == words.inputs and loaded.grams == words.grams
    np.testing.assert_array_equal(loaded.coef, words.coef)
    query = "流量没用完就扣钱"
    assert loaded.probabilities(query) == pytest.approx(words.probabilities(query))
