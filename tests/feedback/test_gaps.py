"""The gaps log grouped by meaning with the real encoder and index: paraphrases of one topic
form one group, unrelated queries stay alone."""

import pytest

from app.feedback.gaps import EXAMPLES, GapGrouper
from app.feedback.store import Gap
from app.feedback.usage import kept_query

RECIPE = ["红烧肉怎么做才好吃", "红烧肉的做法是什么", "教我做红烧肉", "红烧肉要炖多久"]
WEATHER = ["明天北京会下雨吗", "北京明天天气怎么样", "明天北京天气预报"]
WATCH = ["客户问手表怎么开通eSIM一号双终端", "智能手表能不能办一号双终端", "手表eSIM业务怎么开"]
DOUBLE_REFUND = ["客户说流量被偷了要求双倍赔偿", "客户要退一赔三,说我们欺诈", "客户说乱扣费就是欺诈要加倍赔"]
SINGLETONS = ["客户说快递员把包裹弄丢了", "客户问营业厅停车场收不收费", "客户问[手机号]是谁的"]


def log(*queries: tuple[str, str]) -> list[Gap]:
    """A gaps log, oldest first, one query a minute."""
    return [Gap(f"2026-12-01T10:{i:02d}:00+00:00", kept_query(q), level) for i, (q, level) in enumerate(queries)]


@pytest.fixture(scope="module")
def grouped(engine):
    gaps = log(
        *[(q, "none") for q in RECIPE + [RECIPE[0]] + WEATHER + [WEATHER[1]]],
        *[(q, "weak") for q in WATCH + DOUBLE_REFUND + SINGLETONS],
        (DOUBLE_REFUND[0], "none"),
    )
    return GapGrouper().group(engine, gaps)


def test_paraphrases_group_together_and_unrelated_queries_stay_alone(grouped):
    assert {frozenset(g.examples) for g in grouped} == {
        frozenset(RECIPE), frozenset(WEATHER), frozenset(WATCH), frozenset(DOUBLE_REFUND),
        *(frozenset([q]) for q in SINGLETONS),
    }


def test_groups_come_largest_first_then_the_most_recent(grouped):
    # recipe 5 (one asked twice), weather 4, double refund 4 (one asked twice, last at the end), watch 3, singletons
    assert [(g.size, g.examples[0]) for g in grouped[:4]] == [
        (5, RECIPE[0]), (4, DOUBLE_REFUND[0]), (4, WEATHER[1]), (3, WATCH[-1]),
    ]
    assert [g.examples for g in grouped[4:]] == [[q] for q in reversed(SINGLETONS)]
    assert grouped[1].last_seen == "2026-12-01T10:18:00+00:00"  # the log's last query


def test_each_group_counts_its_levels_and_lists_the_most_asked_example_first(grouped):
    recipe, double_refund = grouped[0], grouped[1]
    assert recipe.levels == {"weak": 0, "none": 5}
    assert recipe.examples[0] == RECIPE[0]  # asked twice
    assert double_refund.levels == {"weak": 3, "none": 1}


def test_the_nearest_scenario_is_the_one_the_group_is_about(grouped, engine):
    double_refund = grouped[1]
    assert double_refund.nearest_scenario.id == "double-refund"
    assert double_refund.nearest_scenario.name == engine.scenario_names["double-refund"]
    assert 0.6 < double_refund.nearest_scenario.score <= 1
    # Every group has one, from the loaded taxonomy; off-topic groups are far from all of them.
    assert all(g.nearest_scenario.id in engine.scenario_names for g in grouped)
    assert grouped[0].nearest_scenario.score < double_refund.nearest_scenario.score


def test_min_size_leaves_small_groups_out(engine):
    gaps = log(*[(q, "none") for q in RECIPE + SINGLETONS[:1]])
    assert [g.size for g in GapGrouper().group(engine, gaps, min_size=2)] == [4]
    assert GapGrouper().group(engine, gaps, min_size=5) == []
    assert GapGrouper().group(engine, [], min_size=1) == []


def test_examples_are_at_most_five_distinct_queries(engine):
    many = [f"红烧肉第{n}步怎么做" for n in range(1, 9)] + RECIPE
    (group,) = GapGrouper().group(engine, log(*[(q, "none") for q in many + many[:1]]))
    assert group.size == len(many) + 1
    assert len(group.examples) == EXAMPLES and len(set(group.examples)) == EXAMPLES
    assert group.examples[0] == many[0]


def test_the_embedding_stored_with_a_query_is_used_when_the_same_model_made_it(engine):
    # Stored with a weather question: the vector of a recipe question, as if the model had made it.
    recipe_vector = engine.encoder.model.encode_query([RECIPE[0]])[0]
    stored = log(*[(q, "none") for q in RECIPE])

    def weather(model):
        return Gap("2026-12-01T11:00:00+00:00", WEATHER[0], "none", model, recipe_vector)

    (group,) = GapGrouper().group(engine, stored + [weather(engine.encoder.model_id)])
    assert WEATHER[0] in group.examples  # grouped by the stored vector: the model was not asked
    by_another_model = GapGrouper().group(engine, stored + [weather("another-model")])
    assert [g.examples for g in by_another_model if WEATHER[0] in g.examples] == [[WEATHER[0]]]
