import json
import re

import pytest

from app.core.config import REPO_ROOT
from app.corpus.scenarios import load_taxonomy
from app.corpus.statutes import (
    QUESTIONS_DIR,
    ArticleQuestions,
    StatuteBook,
    StatuteError,
    UnknownStatute,
    load_questions,
    parse_articles,
)

CORPUS_DIR = REPO_ROOT / "corpus"


@pytest.fixture(scope="module")
def book() -> StatuteBook:
    return StatuteBook.load(CORPUS_DIR / "statutes")


@pytest.mark.parametrize("name", ["中华人民共和国消费者权益保护法", "消费者权益保护法", "消法", "《消费者权益保护法》", "消保法"])
def test_every_name_of_a_law_finds_it(book, name):
    article = book.get(name, 55)
    assert article.law == "中华人民共和国消费者权益保护法"
    assert article.article == "第五十五条"
    assert "三倍" in article.text


def test_current_article_resolves_to_itself(book):
    resolution = book.resolve("民法典", 584)
    assert resolution.in_force == [resolution.cited]


def test_repealed_contract_law_resolves_to_civil_code(book):
    resolution = book.resolve("合同法", 113)
    assert resolution.cited.status == "repealed"
    assert ("中华人民共和国民法典", 584) in [a.key for a in resolution.in_force]
    assert all(a.in_force for a in resolution.in_force)


def test_repealed_tort_law_resolves_to_civil_code(book):
    assert [a.key for a in book.resolve("侵权责任法", 22).in_force] == [("中华人民共和国民法典", 1183)]


def test_old_consumer_law_numbering_resolves_to_article_55(book):
    resolution = book.resolve("1993消法", 49)
    assert "一倍" in resolution.cited.text
    assert [a.key for a in resolution.in_force] == [("中华人民共和国消费者权益保护法", 55)]


def test_general_principles_agency_resolves_to_civil_code(book):
    keys = [a.key for a in book.resolve("民法通则", 65).in_force]
    assert keys == [("中华人民共和国民法典", 165)]


def test_unknown_law_and_article_raise(book):
    with pytest.raises(UnknownStatute):
        book.get("不存在法", 1)
    with pytest.raises(UnknownStatute):
        book.get("消法", 999)


def test_every_successor_of_the_corpus_resolves(book):
    for article in book.articles.values():
        for ref in article.successor or []:
            assert book.get(ref.law, ref.article_no).in_force, (article.key, ref)


def test_no_name_stands_for_two_laws():
    # A short name or alias shared by two laws would make a citation resolve to whichever loaded first.
    names: dict[str, set[str]] = {}
    for path in sorted((CORPUS_DIR / "statutes").glob("*.jsonl")):
        for article in parse_articles(path.read_text(encoding="utf-8").splitlines(), path.name):
            for name in (article.short, *article.aliases):
                names.setdefault(name, set()).add(article.law)
    assert {name: laws for name, laws in names.items() if len(laws) > 1} == {}


def test_every_law_has_the_articles_index_json_lists(book):
    listed = json.loads((CORPUS_DIR / "statutes" / "index.json").read_text(encoding="utf-8"))
    assert {entry["law"] for entry in listed} >= {a.law for a in book.articles.values() if a.status == "current"}
    for entry in listed:
        numbers = sorted(no for law, no in book.articles if law == entry["law"])
        assert len(numbers) == entry["articles"], entry["file"]
        assert [numbers[0], numbers[-1]] == entry["article_range"], entry["file"]
        if entry["complete"]:
            assert numbers == list(range(1, len(numbers) + 1)), entry["file"]


@pytest.mark.parametrize(
    "law, article_no, successor",
    [
        ("合同法", 142, ("中华人民共和国民法典", 604)),
        ("合同法", 206, ("中华人民共和国民法典", 675)),
        ("合同法", 8, ("中华人民共和国民法典", 465)),
        ("民法通则", 106, ("中华人民共和国民法典", 1165)),
        ("民法通则", 112, ("中华人民共和国民法典", 585)),
        # The 2001 rule the course quotes numbers its refusal grounds and its conditions the other way round.
        ("电信用户申告条例", 10, ("电信用户申诉处理办法", 11)),
        ("电信用户申诉处理暂行办法", 11, ("电信用户申诉处理办法", 10)),
    ],
)
def test_old_numbering_resolves_to_the_provision_in_force(book, law, article_no, successor):
    assert successor in [a.key for a in book.resolve(law, article_no).in_force]


@pytest.mark.parametrize(
    "law, article_no, words",
    [
        ("诉讼费用交纳办法", 13, "不超过1万元的，每件交纳50元"),
        ("诉讼费用交纳办法", 16, "减半"),
        ("诉讼费用交纳办法", 29, "由败诉方负担"),
        ("未成年人保护法", 1, "未成年人"),
        ("老年人权益保障法", 1, "老年人"),
        ("携号转网服务管理规定", 1, "携号转网"),
        ("电信服务规范", 1, "电信服务"),
        ("电信和互联网用户个人信息保护规定", 1, "网络信息安全"),
    ],
)
def test_the_rules_scripts_rely_on_are_there(book, law, article_no, words):
    assert words in book.get(law, article_no).text


def test_every_question_names_an_article_in_force(book):
    # Read as written: the loader leaves out questions of an article an upload has repealed.
    records = [
        ArticleQuestions.model_validate_json(line)
        for path in sorted((CORPUS_DIR / "statutes" / QUESTIONS_DIR).glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert records, "corpus/statutes/questions/ holds the everyday questions each article answers"
    for record in records:
        assert book.get(record.law, record.article_no).in_force, (record.law, record.article_no)


def test_questions_are_the_asker_s_words_not_the_article_s(book):
    """A question that copies the article finds it by its own text: it adds nothing to search."""
    questions = load_questions(CORPUS_DIR / "statutes" / QUESTIONS_DIR, book)
    for key, asked in questions.items():
        text = book.articles[key].text
        for question in asked:
            assert question not in text and not re.search(r"第[一二三四五六七八九十百千零\d]+条", question), (key, question)


def test_a_question_for_an_unknown_article_is_refused_with_where_it_is(book, tmp_path):
    (tmp_path / "x.jsonl").write_text(
        '{"law": "民法典", "article_no": 585, "questions": ["违约金太高能少赔吗？"]}\n'
        '{"law": "民法典", "article_no": 99999, "questions": ["这条不存在吗？"]}\n',
        encoding="utf-8",
    )
    with pytest.raises(StatuteError, match=r"x.jsonl line 2: .*99999"):
        load_questions(tmp_path, book)


def test_a_record_without_questions_is_refused(book, tmp_path):
    (tmp_path / "x.jsonl").write_text('{"law": "民法典", "article_no": 585, "questions": []}\n', encoding="utf-8")
    with pytest.raises(StatuteError, match="x.jsonl line 1: questions"):
        load_questions(tmp_path, book)


def test_every_scenario_statute_is_in_force(book):
    taxonomy = load_taxonomy(CORPUS_DIR / "scenarios.yaml")
    governed = [s for s in taxonomy.scenarios if s.statutes]
    assert len(governed) >= 45, "most complaint kinds are governed by a provision in the corpus"
    for scenario in governed:
        for ref in scenario.statutes:
            cited = book.get(ref.law, ref.article_no)
            assert cited.in_force, (scenario.id, ref)
