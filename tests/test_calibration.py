import json

from app.measure.calibration import calibrate
from app.search.engine import SearchEngine
from app.search.match import FEATURES, Calibration

COMPLAINTS = [
    ("你们乱扣我流量费，我要你们全部退回来", "billing-dispute"),
    ("宽带断了三天没人来修", "network-outage"),
    ("营业员忽悠我妈办了个188的套餐", "misleading-sales"),
    ("手机号被停机了，我都没欠费", "billing-dispute"),
]
OTHER_TRADES = ["燃气费这个月怎么交了三百多", "快递显示签收了但我没收到", "健身房不给退卡还要扣违约金"]
UNCOVERED = ["怎么设置呼叫转移", "出国前想问问怎么开通国际漫游"]


def write_lines(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_calibrate_fits_every_signal_on_the_labelled_queries_without_the_stored_calibration(
    tmp_path, settings, encoder, engine
):
    # Few queries, so the fit is quick; the stored calibration is never read, so a stale one
    # (other signals, another model) cannot stop a refit.
    write_lines(tmp_path / "eval" / "dev.jsonl", [{"query": q, "expect": [s]} for q, s in COMPLAINTS])
    for name in ("dev-agents", "dev-styles"):
        write_lines(tmp_path / "eval" / f"{name}.jsonl", [])
    write_lines(
        tmp_path / "eval" / "out-of-scope.jsonl",
        [{"query": q, "match": "none"} for q in OTHER_TRADES] + [{"query": q, "match": "weak"} for q in UNCOVERED],
    )
    calibration, counts = calibrate(engine.index, encoder, tmp_path, settings.corpus_dir)
    assert counts == {"in": 4, "weak": 2, "none": 3}
    assert calibration.model == encoder.model_id
    assert len(calibration.mean) == len(FEATURES) and calibration.telecom_words.words
    assert Calibration.from_json(calibration.to_json()) == calibration
    refitted = SearchEngine(engine.index, encoder, calibration=calibration)
    assert refitted.search("红烧肉怎么做才好吃，要放多少糖").match.level == "none"
