import json
from dataclasses import replace

import numpy as np
import pytest

from app.search.engine import SearchEngine
from app.search.match import CALIBRATION_FILE, FEATURES, Calibration, LogisticModel, Probe, WordProbe

SIGNALS = dict.fromkeys(FEATURES, 0.0)


def calibration(fits_intercept: float, elsewhere_intercept: float) -> Calibration:
    """Models that ignore the signals: their probabilities are set by the intercepts alone."""
    zero = (0.0,) * len(FEATURES)
    return Calibration(
        model="m",
        telecom=Probe((0.0,), 0.0),
        covered=Probe((0.0,), 0.0),
        telecom_words=WordProbe({}, 0.0),
        mean=zero,
        scale=(1.0,) * len(FEATURES),
        fits=LogisticModel(zero, fits_intercept),
        elsewhere=LogisticModel(zero, elsewhere_intercept),
        strong_at=0.8,
        elsewhere_at=0.9,
    )


@pytest.mark.parametrize(
    "fits, elsewhere, level",
    [(3.0, -3.0, "strong"), (0.0, -3.0, "weak"), (3.0, 3.0, "none"), (-3.0, 2.5, "none")],
)
def test_the_level_follows_the_two_probabilities_and_their_thresholds(fits, elsewhere, level):
    match = calibration(fits, elsewhere).assess(SIGNALS)
    assert match.level == level
    assert 0.0 <= match.confidence <= 1.0 and match.reason


def test_a_query_from_elsewhere_is_never_confident():
    # P(fits) alone would be 0.95; the query is almost surely not a telecom matter.
    assert calibration(3.0, 3.0).assess(SIGNALS).confidence == pytest.approx(1 - 0.9526, abs=1e-3)


def test_the_calibration_in_the_repository_is_the_models_and_round_trips(encoder):
    data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    assert data["model"] == encoder.model_id  # else: python -m app calibrate
    assert Calibration.from_json(data).to_json() == data


def test_a_calibration_of_other_signals_is_refused():
    data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="recalibrate"):
        Calibration.from_json({**data, "features": ["script_cosine"]})


def test_a_clear_complaint_fits_and_a_recipe_gets_general_handling_scripts(engine):
    complaint = engine.search("客户说流量被偷了，要双倍赔偿，不然找记者曝光")
    assert complaint.match.level == "strong"
    recipe = engine.search("红烧肉怎么做才好吃，要放多少糖")
    assert recipe.match.level == "none"
    assert recipe.match.confidence < complaint.match.confidence
    assert recipe.detected_scenarios == []
    general = {"intake-listening", "clarification", "resolution-commitment"}
    assert {s.record.scenarios[0] for s in recipe.scripts} <= general


def test_a_probe_is_the_log_odds_of_its_linear_model():
    probe = Probe((1.0, -2.0), 0.5)
    assert probe.logits(np.array([[1.0, 1.0], [0.0, 0.5]], dtype=np.float32)) == pytest.approx([-0.5, -0.5])


def test_a_word_probe_weighs_the_words_it_knows_by_their_tf_idf_scaled_to_length_one():
    probe = WordProbe({"流量": (2.0, 1.5), "燃气": (1.0, -2.0)}, 0.25)
    # 流量 twice: (1 + ln 2) × 2; 燃气 once: 1; 的 is not a word of the probe.
    weights = np.array([(1 + np.log(2)) * 2.0, 1.0])
    expected = 0.25 + (weights @ [1.5, -2.0]) / np.linalg.norm(weights)
    assert probe.logit(["流量", "的", "流量", "燃气"]) == pytest.approx(expected)
    assert probe.logit(["的"]) == probe.logit([]) == 0.25


def test_the_probes_tell_a_complaint_from_another_trade_and_from_a_telecom_enquiry(engine):
    # None of these is among the texts the probes were fitted on.
    signals = {
        text: engine.match_signals(text)
        for text in (
            "你们乱扣我流量费，我要你们全部退回来", "热水器打不着火，厂家售后约了三次都没来", "出国前想问问怎么开通国际漫游"
        )
    }
    complaint, water_heater, enquiry = signals.values()
    assert complaint["telecom"] > 0 > water_heater["telecom"]
    assert complaint["telecom_words"] > 0 > water_heater["telecom_words"]
    assert complaint["covered"] > enquiry["covered"]


def test_the_character_model_is_sure_of_a_complaint_and_unsure_of_another_trade(engine):
    complaint = engine.match_signals("我家宽带一到晚上就断，报修三次了还没修好")
    dentist = engine.match_signals("牙医补的牙两个月就掉了，诊所说不包修")
    assert complaint["scenario_words"] > 0.5 > 2 * dentist["scenario_words"]


def test_a_version_built_before_the_character_model_tips_the_fit_neither_way(engine):
    older = SearchEngine(replace(engine.index, scenario_words=None), engine.encoder, calibration=engine.calibration)
    signal = older.match_signals("我家宽带一到晚上就断，报修三次了还没修好")["scenario_words"]
    assert signal == engine.calibration.mean[FEATURES.index("scenario_words")]
