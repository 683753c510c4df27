import difflib
import itertools
import json
import re

import pytest

from app.core.config import REPO_ROOT
from app.corpus.loader import DanglingReferences, Edits, load_corpus
from app.corpus.scenarios import Scenario
from app.corpus.scripts import Script, ScriptError, load_scripts, parse_scripts
from tests.conftest import SAMPLE_SCRIPT, write_small_corpus

MIN_SCRIPTS_PER_SCENARIO = 3
MAX_TEXT_SIMILARITY = 0.8

VALID = {
    "id": "high-compensation/broken-record",
    "title": "高额赔偿诉求：破唱片机法",
    "scenarios": ["high-compensation"],
    "technique": "破唱片机法",
    "situation": "客户索要上万元赔偿",
    "text": "我非常能够理解您着急的心情。目前我们能做的，是对您的直接损失{金额}元给予补偿。",
    "citations": [{"law": "民法典", "article_no": 584}],
    "channels": ["phone", "counter"],
    "source": {"document": "003", "section": "高额赔偿", "origin": "quoted"},
}


def parse(corpus, *records, raw: str | None = None):
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + ([raw] if raw else [])
    return parse_scripts(lines, "test.jsonl", set(corpus.taxonomy.by_id()))


def test_valid_record_parses(corpus):
    [script] = parse(corpus, VALID)
    assert script.citations[0].article_no == 584
    assert script.slots == ["金额"]
    assert script.model_dump()["slots"] == ["金额"]  # what the index stores and the API returns


def test_slots_are_listed_once_in_order_of_appearance(corpus):
    text = "退款{金额}元会在{到账日期}前到账，{到账日期}前没到请您再来电，{金额}元一分不少。"
    [script] = parse(corpus, {**VALID, "text": text})
    assert script.slots == ["金额", "到账日期"]


def test_channels_are_kept_in_a_fixed_order_without_repeats(corpus):
    [script] = parse(corpus, {**VALID, "channels": ["online", "phone", "online"]})
    assert script.channels == ["phone", "online"]


@pytest.mark.parametrize(
    "text",
    [
        "我在××个工作日内给您回复。",
        "我们能做的是……。",
        "我们能做的是…",
        "您的号码XX在上月被扣费。",
        "某某经理会联系您。",
        "请在___前补交材料。",
        "退款{amount}元。",  # a slot is named in Chinese
        "退款{}元。",
        "退款{金额元。",
        "退款｛金额｝元。",
    ],
)
def test_a_placeholder_outside_a_named_slot_is_refused(corpus, text):
    with pytest.raises(ScriptError, match="text: Value error, has the placeholder"):
        parse(corpus, {**VALID, "text": text})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"scenarios": ["no-such-scenario"]}, "unknown scenario id(s) no-such-scenario"),
        ({"title": "   "}, "title: Value error, must not be blank"),
        ({"scenarios": []}, "scenarios"),
        ({"source": {"document": "003", "origin": "invented"}}, "source.origin"),
        ({"id": "No Slash"}, "id"),
        ({"channels": []}, "channels"),
        ({"channels": ["fax"]}, "channels.0"),
    ],
)
def test_invalid_record_is_reported_with_file_line_and_reason(corpus, change, message):
    with pytest.raises(ScriptError) as error:
        parse(corpus, VALID, {**VALID, "id": "high-compensation/other", **change})
    assert str(error.value).startswith("test.jsonl line 2")
    assert message in str(error.value)


@pytest.mark.parametrize("field", ["text", "channels"])
def test_missing_field_is_named(corpus, field):
    record = {k: v for k, v in VALID.items() if k != field}
    with pytest.raises(ScriptError, match=f"line 1: {field}: Field required"):
        parse(corpus, record)


def test_broken_json_is_reported(corpus):
    with pytest.raises(ScriptError, match="line 2: not valid JSON"):
        parse(corpus, VALID, raw="{not json")


def test_duplicate_ids_across_files_stop_the_load(corpus):
    files = [(name, [json.dumps(VALID, ensure_ascii=False)]) for name in ("a.jsonl", "b.jsonl")]
    message = r"b.jsonl: duplicate script id high-compensation/broken-record \(first in a.jsonl\)"
    with pytest.raises(ScriptError, match=message):
        load_scripts(files, set(corpus.taxonomy.by_id()))


@pytest.mark.parametrize(
    "citation, message",
    [
        ({"law": "消法", "article_no": 999}, "中华人民共和国消费者权益保护法 has no article 999 in the corpus"),
        ({"law": "不存在法", "article_no": 1}, "unknown law: '不存在法'"),
    ],
)
def test_a_citation_that_does_not_resolve_stops_the_load(citation, message, tmp_path):
    corpus = write_small_corpus(tmp_path / "corpus")
    script = {**SAMPLE_SCRIPT, "citations": [SAMPLE_SCRIPT["citations"][0], citation]}
    (corpus / "scripts" / "s.jsonl").write_text(json.dumps(script, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(DanglingReferences) as error:
        load_corpus(corpus)
    assert error.value.problems == [f"s.jsonl line 1 ({script['id']}): citation does not resolve: {message}"]


def test_the_corpus_scripts_all_validate(corpus):
    # load_corpus validated every record; every script cites only resolvable provisions.
    assert len(corpus.scripts) > 0
    for script in corpus.scripts:
        for ref in script.citations:
            assert corpus.book.resolve(ref.law, ref.article_no).in_force, (script.id, ref)


def test_every_scenario_has_at_least_three_scripts(corpus):
    counts = {s.id: 0 for s in corpus.taxonomy.scenarios}
    for script in corpus.scripts:
        for scenario_id in script.scenarios:
            counts[scenario_id] += 1
    assert [sid for sid, n in counts.items() if n < MIN_SCRIPTS_PER_SCENARIO] == []


def text_similarity(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # quick_ratio is an upper bound of ratio, and far cheaper: most pairs stop there.
    return matcher.ratio() if matcher.quick_ratio() > MAX_TEXT_SIMILARITY else 0.0


def test_no_two_scripts_say_nearly_the_same(corpus):
    alike = [
        (a.id, b.id, round(ratio, 2))
        for a, b in itertools.combinations(corpus.scripts, 2)
        if (ratio := text_similarity(a.text, b.text)) > MAX_TEXT_SIMILARITY
    ]
    assert alike == []


def test_near_copies_are_found():
    text = "我非常能够理解您着急的心情，也非常希望能够帮助您解决这个问题。目前我们能做的就是对您的直接损失给予补偿。"
    assert text_similarity(text, text.replace("直接损失", "实际损失")) > MAX_TEXT_SIMILARITY
    assert text_similarity(text, "您反映的号码被标记问题，我帮您向标记平台提交申诉，结果出来后第一时间告诉您。") < 0.5


def test_a_script_only_for_the_counter_says_so(corpus):
    # Words that only make sense face to face: such a script is not offered as a phone script.
    face_to_face = ("倒杯水", "请坐", "您今天过来", "您先坐")
    phone_scripts = [s.id for s in corpus.scripts if "phone" in s.channels and any(w in s.text for w in face_to_face)]
    assert phone_scripts == []


def test_every_script_has_a_row_in_the_review_record(corpus):
    review = (REPO_ROOT / "corpus" / "scripts" / "REVIEW.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| ([a-z0-9-]+/[a-z0-9-]+) \|", review, flags=re.MULTILINE))
    assert {s.id for s in corpus.scripts} - rows == set()


def test_published_edits_replace_delete_and_add_scripts_and_scenarios(tmp_path):
    corpus_dir = write_small_corpus(tmp_path / "corpus")
    plain = load_corpus(corpus_dir)
    sample = Script.model_validate(SAMPLE_SCRIPT)
    added = Scenario(id="lighthouse-visit", group="business", name="灯塔参观", looks_like="客户参观灯塔时没信号")
    new = Script.model_validate({**VALID, "id": "lighthouse-visit/signal", "scenarios": ["lighthouse-visit"], "citations": []})
    edited = sample.model_copy(update={"text": "我非常愿意协助您，加倍赔偿需要有欺诈的事实。"})

    corpus = load_corpus(corpus_dir, edits=Edits({sample.id: edited, new.id: new}, [added]))
    assert [s.text for s in corpus.scripts if s.id == sample.id] == [edited.text]  # replaced by id, once
    assert new in corpus.scripts and corpus.taxonomy.by_id()["lighthouse-visit"] == added
    assert corpus.digest != plain.digest
    assert load_corpus(corpus_dir, edits=Edits({sample.id: None})).scripts == []  # deleted
    assert load_corpus(corpus_dir, edits=Edits()).digest == plain.digest  # no edits: the digest it always had

    # An edit that no longer builds (its scenario unknown) is refused by the build, saying where.
    with pytest.raises(ScriptError, match="edited script .*lighthouse-visit/signal.*unknown scenario"):
        load_corpus(corpus_dir, edits=Edits({new.id: new}))
    taken = added.model_copy(update={"id": "double-refund"})
    with pytest.raises(ScriptError, match="added scenario double-refund"):
        load_corpus(corpus_dir, edits=Edits({}, [taken]))
