import pytest

from app.core.config import REPO_ROOT
from app.corpus.statutes import StatuteBook, UnknownStatute

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
