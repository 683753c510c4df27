"""A live call against the real engine: demands as they are raised, the call's topic kept when
the latest turn says little, and the open demands among the top scripts."""

import datetime

import pytest

from app.call.assist import WEAK_TURN_CONFIDENCE, Turn, assist, awaiting_signs, covering, turn_demands
from app.call.escalation import assess_escalation
from app.search.engine import ScoredScript

TODAY = datetime.date(2026, 12, 4)
CALL = [
    Turn("customer", "我这个月流量不对，多扣了二百块"),
    Turn("agent", "非常抱歉，我帮您查一下详单"),
    Turn("customer", "查什么查，我要精神赔偿"),
    Turn("agent", "理解您的心情"),
    Turn("customer", "不然我就去工信部投诉，还要找记者曝光"),
]


def test_demands_are_listed_with_the_turn_that_raised_them(engine):
    assisted = assist(engine, CALL, today=TODAY)
    first_raised = {d.scenario: d.turn for d in assisted.demands}
    assert first_raised["data-billing"] == 0
    assert first_raised["emotional-damages"] == 2
    assert first_raised["media-exposure"] == 4
    # no handling step read as a demand (a repeat contact or a threat would raise theirs)
    assert all(engine.scenario_groups[d.scenario] != "process" for d in assisted.demands)


def test_the_top_scripts_cover_the_open_demands_latest_first(engine):
    def covered(top_k):
        return {sid for s in assist(engine, CALL, top_k=top_k, today=TODAY).result.scripts for sid in s.record.scenarios}

    assert {"emotional-damages", "media-exposure"} <= covered(5)
    assert {"data-billing", "emotional-damages", "media-exposure"} <= covered(8)


def test_escalation_and_facts_come_with_the_answer(engine):
    assisted = assist(engine, CALL, today=TODAY)
    assert assisted.escalation.level == "high"
    assert {r.kind for r in assisted.escalation.reasons} >= {"media", "regulator"}
    assert [(f.kind, f.words, f.value) for f in assisted.facts if f.kind == "amount"] == [("amount", "二百块", 200.0)]


def test_a_latest_turn_that_says_little_keeps_the_call_on_its_topic(engine):
    call = [Turn("customer", "我家宽带断了三天了，报修也没人来"), Turn("agent", "我马上帮您催"), Turn("customer", "好的，谢谢")]
    assert engine.search("好的，谢谢").match.level != "strong"  # on its own it fits little
    assisted = assist(engine, call, today=TODAY)
    assert assisted.result.match.level == "strong"
    assert "broadband-fault" in assisted.result.scripts[0].record.scenarios
    assert turn_demands(engine, "好的，谢谢") == []


def test_a_threat_brings_its_handling_and_words_of_despair_the_care_for_the_customer(engine):
    def top_and_demands(last):
        call = [Turn("customer", "宽带断了一个礼拜，报修五次都没人来"), Turn("agent", "非常抱歉，我马上催"), Turn("customer", last)]
        assisted = assist(engine, call, today=TODAY)
        return [s.record.id for s in assisted.result.scripts[:3]], {d.scenario for d in assisted.demands}

    top, demands = top_and_demands("今天再没人来，我就去把你们营业厅砸了")
    assert "abnormal-complaint/violence-threat-calm" in top
    assert "abnormal-complaint" in demands and "vulnerable-customer" not in demands
    top, demands = top_and_demands("工作也丢了，我真的不想活了")
    assert "intake-listening/self-harm-words-care-first" in top
    assert "vulnerable-customer" in demands and "abnormal-complaint" not in demands


def test_a_threat_no_cue_names_is_read_by_meaning(engine):
    call = [
        Turn("customer", "装维师傅约了三次都没来"),
        Turn("agent", "非常抱歉，我马上帮您催"),
        Turn("customer", "那个师傅再敢放我鸽子，我就让他竖着进来横着出去"),
    ]
    by_cues = assess_escalation([(t.role, t.text) for t in call])
    assert "threat" not in {r.kind for r in by_cues.reasons}  # the cues alone read no threat
    assisted = assist(engine, call, today=TODAY)
    assert assisted.escalation.level == "high"
    [reason] = [r for r in assisted.escalation.reasons if r.kind == "threat"]
    assert reason.turn == 2 and reason.evidence in call[2].text
    assert "abnormal-complaint" in {d.scenario for d in assisted.demands}
    # an ordinary plan is no threat
    calm = [*call[:2], Turn("customer", "那行吧，我周末带我妈去营业厅当面问问")]
    assert "threat" not in {r.kind for r in assist(engine, calm, today=TODAY).escalation.reasons}


def test_a_threat_of_self_harm_no_cue_names_is_read_as_a_customer_at_risk(engine):
    call = [
        Turn("customer", "欠费停机了，工作也丢了"),
        Turn("agent", "您别着急，我帮您看看"),
        Turn("customer", "账我是还不上了，这辈子就这样吧，拿我这条命抵了"),
    ]
    assert assess_escalation([(t.role, t.text) for t in call]).level == "none"  # the cues alone read nothing
    assisted = assist(engine, call, today=TODAY)
    [reason] = assisted.escalation.reasons
    assert (reason.kind, reason.turn, reason.self_harm) == ("threat", 2, True) and assisted.escalation.level == "high"
    demands = {d.scenario: d.turn for d in assisted.demands}
    assert demands.get("vulnerable-customer") == 2 and "abnormal-complaint" not in demands


def test_a_demand_an_escalation_sign_makes_is_left_to_the_sign(engine):
    # "我不会去找记者的" is no sign, so it raises no media demand, however like the media scripts it reads;
    # the sign said in CALL's last turn raises it (test_demands_are_listed_with_the_turn_that_raised_them)
    no_sign = "我不会去找记者的，你们把多扣的流量费退给我就行"
    assert "media-exposure" not in turn_demands(engine, no_sign)
    assisted = assist(engine, [*CALL[:4], Turn("customer", no_sign)], today=TODAY)
    assert assisted.escalation.level != "high"
    raised = {d.scenario for d in assisted.demands}
    assert "media-exposure" not in raised and "data-billing" in raised
    # nor do the media scripts it reads like come among the suggestions
    assert not any(set(s.record.scenarios) == {"media-exposure"} for s in assisted.result.scripts)


def test_a_turn_the_scripts_fit_partly_raises_its_best_demand_alone(engine):
    note = "cx称想退掉合约"  # an agent's note: the scripts fit it only partly, its demand is plain
    reading = engine.read(note)
    assert reading.match.level == "weak" and reading.match.confidence >= WEAK_TURN_CONFIDENCE
    assert turn_demands(engine, note) == ["contract-lockin"]
    assert engine.read("你贵姓").match.level != "strong" and turn_demands(engine, "你贵姓") == []


def test_the_agent_turns_raise_no_demand_and_no_escalation(engine):
    call = [Turn("agent", "您也可以向工信部申诉，或者找消协"), Turn("customer", "我想把套餐换成便宜一点的")]
    assisted = assist(engine, call, today=TODAY)
    assert all(d.turn == 1 for d in assisted.demands)
    assert assisted.escalation.level == "none"


def test_a_conversation_without_a_customer_turn_is_refused(engine):
    with pytest.raises(ValueError, match="no customer turn"):
        assist(engine, [Turn("agent", "您好")])


def script(*scenarios):
    return ScoredScript(record=type("Script", (), {"scenarios": list(scenarios)})(), score=0.0)


def demand(scenario):
    return type("Demand", (), {"scenario": scenario})()


def test_covering_keeps_the_first_scripts_then_adds_one_per_uncovered_demand():
    a1, a2, a3, b, c = script("a"), script("a"), script("a"), script("b"), script("c")
    chosen = covering([a1, a2, a3, b, c], [demand("c"), demand("b"), demand("a")], k=4)
    assert chosen == [a1, a2, a3, c]
    assert covering([a1, a2, a3, b, c], [demand("a")], k=5) == [a1, a2, a3, b, c]


def test_scripts_for_a_sign_no_one_made_go_last():
    media, bill = script("media-exposure"), script("data-billing")
    media_and_bill = script("media-exposure", "data-billing")
    assert awaiting_signs([media, media_and_bill, bill], [demand("data-billing")]) == [media_and_bill, bill, media]
    assert awaiting_signs([media, bill], [demand("media-exposure")]) == [media, bill]
