import json

import pytest

from app.search.match import CALIBRATION_FILE, FEATURES, Calibration, LogisticModel

SIGNALS = dict.fromkeys(FEATURES, 0.0)


def calibration(fits_intercept: float, elsewhere_intercept: float) -> Calibration:
    """Models that ignore the signals: their probabilities are set by the intercepts alone."""
    zero = (0.0,) * len(FEATURES)
    return Calibration(
        model="m",
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
