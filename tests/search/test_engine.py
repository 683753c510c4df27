from dataclasses import replace

import numpy as np
import pytest

from app.search.engine import LONG_QUERY_CHARS, MAX_CLAUSES, SearchEngine, encode_query_and_clauses, query_clauses


def test_a_complaint_is_encoded_clause_by_clause_beside_the_whole():
    assert query_clauses("客户说流量被偷了，要双倍赔偿，不然找记者曝光") == ["客户说流量被偷了", "要双倍赔偿", "不然找记者曝光"]
    assert query_clauses("流量被偷了") == []


def test_a_very_long_narration_is_matched_in_a_bounded_number_of_clauses():
    text = "，".join(f"第{i}件事没处理好" for i in range(300))
    clauses = query_clauses(text)
    assert len(clauses) == MAX_CLAUSES
    assert "，".join(clauses) == text  # every clause is still matched, in runs


def test_a_long_narration_takes_its_clauses_mean_for_the_whole_in_one_pass_fewer(encoder):
    passes = []

    def encode(texts):
        passes.append(texts)
        return encoder.encode_queries(texts)

    short = "客户说流量被偷了，要双倍赔偿，不然找记者曝光"
    whole, clauses = encode_query_and_clauses(encode, short, query_clauses(short))
    assert passes == [query_clauses(short), [short]] and len(clauses) == 3
    np.testing.assert_allclose(whole, encoder.encode_queries([short])[0])

    passes.clear()
    long = "，".join(["我家宽带从上个月起天天掉线", "打了五次客服电话都说会处理", "师傅约了三次都没上门"] * 4)
    assert len(long) > LONG_QUERY_CHARS
    whole, clauses = encode_query_and_clauses(encode, long, query_clauses(long))
    assert passes == [query_clauses(long)]  # the whole text is never encoded
    mean = np.mean(clauses, axis=0)
    np.testing.assert_allclose(whole, mean / np.linalg.norm(mean), rtol=1e-6)
    assert float(whole @ encoder.encode_queries([long])[0]) > 0.85  # and stands for it


def test_an_article_found_by_one_of_its_paragraphs_is_listed_once(engine):
    # The second paragraph of 消费者权益保护法第五十五条 (harm to health or life from a known defect).
    result = engine.search("商家明知道产品有缺陷还卖给我，把我家人弄伤了，能要求几倍的惩罚性赔偿")
    keys = [a.article.key for a in result.statutes]
    assert len(keys) == len(set(keys))
    assert ("中华人民共和国消费者权益保护法", 55) in keys


def test_everyday_words_find_the_statute_written_in_legal_terms(engine):
    # 民法典第1245条 speaks of 饲养的动物, the complaint of a dog.
    result = engine.search("邻居家的狗把我孩子咬了 要他赔医药费")
    assert ("中华人民共和国民法典", 1245) in [a.article.key for a in result.statutes]


def test_an_article_is_found_by_the_everyday_questions_it_answers(engine):
    # One of the questions written for 民法典第726条 (the tenant's right of first refusal).
    result = engine.search("房东卖房没告诉我，我作为租客有优先买的权利吗？")
    assert result.statutes[0].article.key == ("中华人民共和国民法典", 726)


def test_the_provisions_that_govern_a_detected_scenario_are_ranked_up(engine):
    query = "钱我不要，就要你们公司在报纸上公开给我道歉"
    every = replace(engine.weights, statutes=1000)  # every scored article, not just the top 5
    boosted = engine.search(query, weights=every)
    plain = {a.article.key: a.score for a in engine.search(query, weights=replace(every, scenario_statute_boost=0)).statutes}
    after = {a.article.key: a.score for a in boosted.statutes}
    apology = next(s for s in boosted.detected_scenarios if s.id == "public-apology")
    for article in engine.scenario_statutes["public-apology"]:
        gain = after[article.key] - plain.get(article.key, 0.0)
        assert gain >= every.scenario_statute_boost * apology.score - 1e-9, article.key
    top = [a.article.key for a in engine.search(query).statutes]
    assert ("中华人民共和国民法典", 179) in top  # 赔礼道歉 as a form of civil liability


def test_what_customers_say_counts_as_the_scenario_s_description(engine):
    # One of unfair-terms' `says`, with no word of 霸王条款 or 格式条款. (Sayings whose description
    # the domain adapter already ranks first, as 上次我邻居碰到一样的事，你们可是赔了钱的 for
    # high-compensation, cannot show the exemplar's part: the description alone scores the most.)
    said = "写个最终解释权归你们，那不就是你们说了算"
    found = engine.search(said)
    plain = engine.search(said, weights=replace(engine.weights, exemplar=0))
    assert found.detected_scenarios[0].id == "unfair-terms"
    score = {s.id: s.score for s in plain.detected_scenarios}
    assert found.detected_scenarios[0].score > score.get("unfair-terms", 0.0)


@pytest.mark.parametrize(
    "query", ["我是聋人，你们的客服只能打电话，我没法跟你们说话", "我是残疾人坐轮椅，去不了营业厅，你们非要我本人去"]
)
def test_a_customer_who_speaks_of_their_own_disability_is_a_vulnerable_customer(engine, query):
    # The sayings spoke of elderly relatives and children; these were read as an unreachable hotline or a
    # transfer out until the customer's own disability had sayings of its own.
    assert engine.search(query).detected_scenarios[0].id == "vulnerable-customer"


@pytest.mark.parametrize(
    "query", ["你们最近那个交一年送两个月的活动，我这种老号码能不能参加", "我想了解一下你们的学生套餐，研究生能不能办"]
)
def test_a_customer_asking_whether_an_offer_applies_gets_the_script_that_checks_first(engine, query):
    # The scenario's sayings and scripts were all disputes over an offer refused; a plain question
    # whether one qualifies got a dispute's script or a change of plan.
    assert engine.search(query).scripts[0].record.id == "promotion-eligibility/offer-enquiry-check-conditions"


def test_a_short_clause_is_read_alone_only_when_its_characters_name_a_matter(engine):
    # "这叫什么事" names nothing; read alone, its best match over the library still scores high
    # and put a customer type second behind the matter of the complaint.
    filler = "宽带我是一次交了一整年的，到期后你们没打招呼就改成每月扣款，这叫什么事"
    every_clause = replace(engine.weights, short_clause_chars=0)

    def second(weights) -> str:
        return sorted(engine.read(filler, weights).scenario_score.items(), key=lambda kv: -kv[1])[1][0]

    assert second(every_clause) == "endless-talker" and second(engine.weights) != "endless-talker"
    # "光猫一直红灯" is as short, but its characters say what it is about.
    named = "光猫一直红灯，要赔五千"
    named_ignored = replace(engine.weights, short_clause_named=1.01)
    fault = {w: engine.read(named, w).scenario_score["broadband-fault"] for w in (engine.weights, named_ignored)}
    assert fault[engine.weights] > 1.2 * fault[named_ignored]


def test_a_script_not_written_for_the_channel_loses_a_fixed_amount(engine):
    query = "客户在营业厅拿手机对着我们拍视频，说要发到网上"
    found = {
        channel: {s.record.id: s for s in engine.search(query, top_k=300, channel=channel).scripts}
        for channel in ("phone", "counter", None)
    }
    penalty = engine.weights.other_channel
    assert any(s.record.channels == ["counter"] for s in found[None].values())
    for script_id, plain in found[None].items():
        channels = plain.record.channels
        assert found["phone"][script_id].score == pytest.approx(plain.score - penalty * ("phone" not in channels))
        assert found["counter"][script_id].score == pytest.approx(plain.score - penalty * ("counter" not in channels))


def test_a_query_that_fits_only_partly_is_ranked_more_by_its_scenarios_than_by_its_words(engine):
    # With its own script match at share 0, a partly fitting query's scripts score by their scenario alone;
    # a query that fits well keeps its words' part.
    scenarios_only = replace(engine.weights, weak_query_script=0.0, diversity=0.0, other_channel=0.0)

    def scores_and_scenario_parts(query: str) -> tuple[str, list[float], list[float]]:
        found = engine.search(query, top_k=20, weights=scenarios_only)
        scenario_score = engine.read(query, scenarios_only).scenario_score
        share = scenarios_only.script_scenario
        parts = [share * max(scenario_score[i] for i in s.record.scenarios) for s in found.scripts]
        return found.match.level, [s.score for s in found.scripts], parts

    level, scores, parts = scores_and_scenario_parts("你们的人说话不算话")
    assert level == "weak" and scores == pytest.approx(parts)
    level, scores, parts = scores_and_scenario_parts("热线我打了一上午，全是机器在说话")
    assert level == "strong" and scores != pytest.approx(parts)


def test_the_scenario_probe_adds_what_all_of_a_scenario_s_sayings_share(engine):
    # Nearest sayings alone also detect a customer type for this charge complaint; the probe,
    # fitted on every saying, gives the lead to the scenario all its sayings are about.
    query = "每个月莫名其妙多出来十块钱，我啥也没开过"
    without_words = replace(engine.weights, scenario_words=0)  # the character model sharpens it too
    found = engine.search(query, weights=without_words)
    plain = engine.search(query, weights=replace(without_words, scenario_probe=0))
    assert [s.id for s in found.detected_scenarios] == ["unauthorized-service"]
    assert plain.detected_scenarios[0].id == "unauthorized-service" and len(plain.detected_scenarios) > 1


def test_the_character_model_adds_what_a_few_characters_say_plainly(engine):
    # The embedding reads a child's secondary card first; the characters say the texts will not send.
    query = "我闺女刚上初一，手机是我给她办的副卡，她说发短信老是发不出去"
    found = engine.search(query)
    plain = engine.search(query, weights=replace(engine.weights, scenario_words=0))
    assert found.detected_scenarios[0].id == "sms-blocking"
    assert plain.detected_scenarios[0].id == "secondary-card"


@pytest.mark.parametrize("probe", ["scenario_probe", "scenario_words"])
def test_a_version_built_before_a_probe_searches_as_without_one(engine, probe):
    older = SearchEngine(replace(engine.index, **{probe: None}), engine.encoder)
    query = "营业员骗我办了合约机，我要退一赔三"
    plain = engine.search(query, weights=replace(engine.weights, **{probe: 0}))
    found = older.search(query)
    assert [(s.record.id, s.score) for s in found.scripts] == [(s.record.id, s.score) for s in plain.scripts]
