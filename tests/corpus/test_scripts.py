import json

import pytest

from app.corpus.scripts import ScriptError, load_scripts, parse_scripts

VALID = {
    "id": "high-compensation/broken-record",
    "title": "高额赔偿诉求：破唱片机法",
    "scenarios": ["high-compensation"],
    "technique": "破唱片机法",
    "situation": "客户索要上万元赔偿",
    "text": "我非常能够理解您着急的心情……",
    "citations": [{"law": "民法典", "article_no": 584}],
    "source": {"document": "003", "section": "高额赔偿", "origin": "quoted"},
}


def parse(corpus, *records, raw: str | None = None):
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + ([raw] if raw else [])
    return parse_scripts(lines, "test.jsonl", set(corpus.taxonomy.by_id()), corpus.book)


def test_valid_record_parses(corpus):
    [script] = parse(corpus, VALID)
    assert script.citations[0].article_no == 584


@pytest.mark.parametrize(
    "change, message",
    [
        ({"scenarios": ["no-such-scenario"]}, "unknown scenario id(s) no-such-scenario"),
        ({"citations": [{"law": "民法典", "article_no": 99999}]}, "citation does not resolve"),
        ({"citations": [{"law": "不存在法", "article_no": 1}]}, "unknown law"),
        ({"title": "   "}, "title: Value error, must not be blank"),
        ({"scenarios": []}, "scenarios"),
        ({"source": {"document": "003", "origin": "invented"}}, "source.origin"),
        ({"id": "No Slash"}, "id"),
    ],
)
def test_invalid_record_is_reported_with_file_line_and_reason(corpus, change, message):
    with pytest.raises(ScriptError) as error:
        parse(corpus, VALID, {**VALID, "id": "high-compensation/other", **change})
    assert str(error.value).startswith("test.jsonl line 2")
    assert message in str(error.value)


def test_missing_field_is_named(corpus):
    record = {k: v for k, v in VALID.items() if k != "text"}
    with pytest.raises(ScriptError, match="line 1: text: Field required"):
        parse(corpus, record)


def test_broken_json_is_reported(corpus):
    with pytest.raises(ScriptError, match="line 2: not valid JSON"):
        parse(corpus, VALID, raw="{not json")


def test_duplicate_ids_across_files_stop_the_load(corpus, tmp_path):
    for name in ("a.jsonl", "b.jsonl"):
        (tmp_path / name).write_text(json.dumps(VALID, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ScriptError, match="b.jsonl: duplicate script id high-compensation/broken-record"):
        load_scripts(tmp_path, set(corpus.taxonomy.by_id()), corpus.book)


def test_the_corpus_scripts_all_validate(corpus):
    # load_corpus validated every record; every script cites only resolvable provisions.
    assert len(corpus.scripts) > 0
    for script in corpus.scripts:
        for ref in script.citations:
            assert corpus.book.resolve(ref.law, ref.article_no).in_force, (script.id, ref)


def test_every_scenario_has_at_least_two_scripts(corpus):
    counts = {s.id: 0 for s in corpus.taxonomy.scenarios}
    for script in corpus.scripts:
        for scenario_id in script.scenarios:
            counts[scenario_id] += 1
    assert [sid for sid, n in counts.items() if n < 2] == []
