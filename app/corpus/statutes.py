"""Statutes: one article per record, looked up by any name of its law.

Repealed laws that the course material still cites (合同法, 侵权责任法) are kept with their
`successor` mapping; laws whose text is not in the corpus (民法通则, the 1993 numbering of
消法) have editorial successor entries in `legacy.jsonl`. A citation always resolves to
the provision in force today.
"""

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from app.core.errors import Invalid, NotFound
from app.text.normalize import normalize

LEGACY_FILE = "legacy.jsonl"
QUESTIONS_DIR = "questions"  # corpus/statutes/questions/: the everyday questions each article answers


class ArticleRef(BaseModel):
    law: str
    article_no: int


class Article(BaseModel):
    law: str
    short: str
    aliases: list[str] = []
    level: str | None = None
    article: str
    article_no: int
    part: str | None = None
    chapter: str | None = None
    section: str | None = None
    text: str | None  # None: an old provision whose text is not in the corpus
    status: str = "current"
    successor: list[ArticleRef] | None = None
    note: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.law, self.article_no)

    @property
    def in_force(self) -> bool:
        return self.status == "current"


@dataclass(frozen=True)
class Resolution:
    """A cited provision and the provisions in force that stand for it (itself when current)."""

    cited: Article
    in_force: list[Article]


class UnknownStatute(NotFound):
    pass


class StatuteError(Invalid):
    """A statute record that cannot be used; the message names where it is."""


def json_problem(error: ValueError | RecursionError) -> str:
    """Why json.loads refused a line, in words."""
    if isinstance(error, json.JSONDecodeError):
        return error.msg
    if isinstance(error, RecursionError):  # thousands of nested brackets: Python's JSON reader gives up
        return "nested too deeply"
    # The other refusal: an integer of more digits than Python converts (sys.get_int_max_str_digits).
    return f"a number has more than {sys.get_int_max_str_digits()} digits"


def parse_articles(lines: list[str], origin: str) -> list[Article]:
    articles = []
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            articles.append(Article.model_validate(json.loads(line)))
        except ValidationError as e:
            raise StatuteError(f"{origin} line {line_no}: {validation_problems(e)}") from None
        except (ValueError, RecursionError) as e:
            raise StatuteError(f"{origin} line {line_no}: not valid JSON ({json_problem(e)})") from None
    return articles


def validation_problems(e: ValidationError) -> str:
    """A pydantic refusal in one line: each field and what is wrong with it."""
    return "; ".join(f"{'.'.join(map(str, err['loc'])) or 'record'}: {err['msg']}" for err in e.errors())


class ArticleQuestions(BaseModel):
    law: str
    article_no: int
    questions: list[str] = Field(min_length=1)


def load_questions(questions_dir: Path, book: "StatuteBook") -> dict[tuple[str, int], list[str]]:
    """The everyday questions each article in force answers, by article key. They are searched
    beside the article's text: people ask in their own words, statutes are written in the law's."""
    questions: dict[tuple[str, int], list[str]] = {}
    for path in sorted(questions_dir.glob("*.jsonl")):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name} line {line_no}"
            try:
                record = ArticleQuestions.model_validate_json(line)
                article = book.get(record.law, record.article_no)
            except ValidationError as e:
                raise StatuteError(f"{where}: {validation_problems(e)}") from None
            except UnknownStatute as e:
                raise StatuteError(f"{where}: {e}; name an article of corpus/statutes/") from None
            if any(not q.strip() for q in record.questions):
                raise StatuteError(f"{where}: an empty question")
            if not article.in_force:
                continue  # an uploaded text may supersede the article; only articles in force are searched
            questions.setdefault(article.key, []).extend(q.strip() for q in record.questions)
    return questions


_PARENS = re.compile(r"[()（）《》\s]")


def _name_key(name: str) -> str:
    return _PARENS.sub("", normalize(name))


class StatuteBook:
    def __init__(self, articles: list[Article]):
        self.articles = {a.key: a for a in articles}
        self._law_by_name: dict[str, str] = {}
        for a in articles:
            for name in (a.law, a.short, *a.aliases):
                self._law_by_name.setdefault(_name_key(name), a.law)
        # Full titles without the 中华人民共和国 prefix are common too.
        for a in articles:
            self._law_by_name.setdefault(_name_key(a.law.removeprefix("中华人民共和国")), a.law)

    @classmethod
    def load(cls, statutes_dir: Path) -> "StatuteBook":
        articles = []
        for path in sorted(statutes_dir.glob("*.jsonl")):
            articles += parse_articles(path.read_text(encoding="utf-8").splitlines(), path.name)
        return cls(articles)

    def law_title(self, name: str) -> str:
        try:
            return self._law_by_name[_name_key(name)]
        except KeyError:
            raise UnknownStatute(f"unknown law: {name!r}") from None

    def get(self, law: str, article_no: int) -> Article:
        title = self.law_title(law)
        try:
            return self.articles[(title, article_no)]
        except KeyError:
            raise UnknownStatute(f"{title} has no article {article_no} in the corpus") from None

    def resolve(self, law: str, article_no: int) -> Resolution:
        cited = self.get(law, article_no)
        if cited.in_force:
            return Resolution(cited, [cited])
        successors = [self.get(ref.law, ref.article_no) for ref in cited.successor or []]
        return Resolution(cited, [s for s in successors if s.in_force])

    def current_articles(self) -> list[Article]:
        return [a for a in self.articles.values() if a.in_force and a.text]


def article_json(article: Article) -> dict:
    """The public shape of an article in API responses."""
    return {"law": article.law, "article_no": article.article_no, "article": article.article, "text": article.text}


