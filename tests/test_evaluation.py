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
