import json

from app.core.config import REPO_ROOT
from app.measure import evaluation


def test_every_dev_set_holds_its_expected_metrics(engine):
    # The regression check CI runs: eval/expected.json is written by `python -m app eval --update-expected`.
    expected = json.loads((REPO_ROOT / evaluation.EXPECTED_FILE).read_text(encoding="utf-8"))
    assert len(expected) >= 4
    assert evaluation.check(engine, REPO_ROOT / "eval", expected) == []


def test_a_drop_beyond_the_tolerance_is_reported(engine, tmp_path):
    query = {"query": "客户说我们耽误了他做生意，要求赔偿五万元", "expect": ["high-compensation"], "style": "terse"}
    (tmp_path / "one.jsonl").write_text(json.dumps(query, ensure_ascii=False) + "\n", encoding="utf-8")
    values = evaluation.measured(evaluation.run(engine, tmp_path / "one.jsonl", compare=False))
    assert set(values) == {"complaints/hit@1", "complaints/hit@3"}  # no query is labelled for the others
    hit = values["complaints/hit@1"]
    within = {"one.jsonl": {"complaints/hit@1": hit + evaluation.TOLERANCE / 2}}
    beyond = {"one.jsonl": {"complaints/hit@1": hit + evaluation.TOLERANCE * 2, "questions/recall@5": 0.5}}
    assert evaluation.check(engine, tmp_path, within) == []
    regressions = evaluation.check(engine, tmp_path, beyond)
    assert [line.split(":")[0] for line in regressions] == ["one.jsonl complaints/hit@1", "one.jsonl questions/recall@5"]


def test_failures_list_the_queries_given_the_wrong_match():
    outcomes = [
        evaluation.MatchOutcome("燃气费怎么这么贵", "chat", "none", "weak", 0.4),
        evaluation.MatchOutcome("物业费一年多少", "chat", "none", "none", 0.1),
        evaluation.MatchOutcome("能不能帮我查下卫星电话", "terse", "weak", "none", 0.1),
        evaluation.MatchOutcome("能不能开个卫星电话套餐", "terse", "weak", "strong", 0.9),
    ]
    listed = evaluation.format_failures(outcomes)
    assert "燃气费怎么这么贵" in listed and "match weak (0.40); expected none" in listed
    assert "能不能开个卫星电话套餐" in listed
    assert "物业费" not in listed and "帮我查下卫星电话" not in listed


def test_signs_are_read_after_a_grievance_and_look_alikes_alone(engine, tmp_path):
    lines = [
        {"kind": "threat", "text": "再不退钱我就去把你们营业厅砸了", "escalates": True, "self_harm": False},
        {"kind": "threat", "text": "出了事你们负责，别说我没提醒过", "escalates": True},  # no rule reads it
        {"kind": "threat", "text": "钱都被扣光了，我不想活了", "escalates": True, "self_harm": True},
        {"kind": "threat", "text": "你们这套餐真是跳楼价啊，我想办一个", "escalates": False},
        {"kind": "vulnerable", "text": "我奶奶八十多了，这个月被扣了两百", "escalates": True},  # old, with a grievance
    ]
    (tmp_path / "signs.jsonl").write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    report = evaluation.run(engine, tmp_path / "signs.jsonl", compare=False)
    assert report["signs"]["hybrid"] == {
        "signs": 4, "look_alikes": 1, "self_harm": 1, "sign_recall": 3 / 4, "look_alikes_read": 0.0,
        "self_harm_recall": 1.0, "violence_as_self_harm": 0.0,
    }
    assert evaluation.measured(report) == {"signs/sign_recall": 0.75, "signs/self_harm_recall": 1.0}
    assert "(4 signs of escalation, each after a grievance, 1 of them of self-harm; 1 look-alikes)" in (
        evaluation.format_report(report)
    )
    assert evaluation.format_failures(report["outcomes"]) == "- threat missed: 出了事你们负责，别说我没提醒过"
