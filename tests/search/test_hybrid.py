from types import SimpleNamespace

import pytest

from app.search.engine import _diversify, _led_by_a_read_scenario
from app.search.hybrid import fuse, min_max


def test_min_max_maps_to_unit_range():
    assert min_max({1: 2.0, 2: 4.0, 3: 3.0}) == {1: 0.0, 2: 1.0, 3: 0.5}
    assert min_max({}) == {}
    assert min_max({7: 0.3}) == {7: 1.0}


def test_fusion_weights_the_channels():
    dense = {1: 0.9, 2: 0.8, 3: 0.7}
    sparse = {3: 12.0, 4: 2.0}
    assert fuse(dense, sparse, dense_weight=1.0)[1] == 1.0
    assert fuse(dense, sparse, dense_weight=0.0)[3] == 1.0
    fused = fuse(dense, sparse, dense_weight=0.5)
    assert fused[3] == pytest.approx(0.5)  # last in dense, first in BM25
    assert fused[1] == pytest.approx(0.5)  # first in dense, absent from BM25
    assert fused[4] == 0.0


def test_document_found_by_both_channels_beats_one_found_by_one():
    fused = fuse({1: 0.9, 2: 0.85, 3: 0.5}, {2: 5.0, 3: 1.0}, dense_weight=0.5)
    assert max(fused, key=fused.get) == 2


def test_diversify_lets_a_second_scenario_pass_variants_of_the_first():
    records = [SimpleNamespace(scenarios=ids) for ids in (["a"], ["a"], ["b"], ["a", "c"])]  # scripts' scenarios
    score = {0: 0.9, 1: 0.8, 2: 0.7, 3: 0.75}
    assert _diversify(score, records, penalty=0.0, k=4) == [0, 1, 3, 2]
    assert _diversify(score, records, penalty=0.15, k=4) == [0, 2, 1, 3]
    assert _diversify(score, records, penalty=0.15, k=2) == [0, 2]


def test_the_first_script_is_one_of_a_scenario_the_reading_ranks_near_the_best():
    score = {0: 0.9, 1: 0.7, 2: 0.8, 3: 0.75}
    scenario_part = {0: 0.7, 1: 0.9, 2: 1.0, 3: 0.9}  # each script's best scenario score, the best 1.0
    # Script 0's scenario reads at 0.7: first by its words, it yields the lead to the best script of a
    # scenario at the bar 0.8 or above (2); the rest keep their order.
    assert _led_by_a_read_scenario([0, 2, 3, 1], score, scenario_part, bar=0.8) == [2, 0, 3, 1]
    assert _led_by_a_read_scenario([0, 3], score, scenario_part, bar=0.8) == [2, 0]
    # A first script read at the bar stays, and so does every list when no bar is set.
    assert _led_by_a_read_scenario([3, 0], score, scenario_part, bar=0.9) == [3, 0]
    assert _led_by_a_read_scenario([0, 2], score, scenario_part, bar=0.0) == [0, 2]
