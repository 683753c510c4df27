"""Chinese word segmentation for the sparse (BM25) channel: jieba with a domain dictionary."""

import logging
import re
from functools import lru_cache
from pathlib import Path

import jieba

from app.text.normalize import normalize

USER_DICT = Path(__file__).with_name("userdict.txt")
LEGAL_TERMS = Path(__file__).with_name("legal_terms.txt")
STOPWORDS_FILE = Path(__file__).with_name("stopwords.txt")
STOPWORDS = frozenset(STOPWORDS_FILE.read_text(encoding="utf-8").split())
# A token must contain a letter, a digit or a CJK character: punctuation is not evidence.
_WORDLIKE = re.compile(r"[0-9a-z\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def _segmenter() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    segmenter = jieba.Tokenizer()
    segmenter.load_userdict(str(USER_DICT))
    return segmenter


def tokenize(text: str) -> list[str]:
    """Search-mode segmentation (long words and their parts), lower-cased, without stopwords."""
    tokens = _segmenter().cut_for_search(normalize(text).lower(), HMM=True)
    return [t for t in tokens if t.strip() and t not in STOPWORDS and _WORDLIKE.search(t)]


@lru_cache(maxsize=1)
def _legal_terms() -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs = []
    for line in LEGAL_TERMS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            everyday, *legal = line.split()
            pairs.append((normalize(everyday), tuple(t for term in legal for t in tokenize(term))))
    return tuple(pairs)


def legal_terms(text: str) -> list[str]:
    """BM25 tokens of the statutes' wording for the everyday words in a normalised query
    (legal_terms.txt): people say 房东, 狗 and 撞了 where the law says 出租人, 饲养的动物 and 交通事故."""
    return [t for everyday, tokens in _legal_terms() if everyday in text for t in tokens]
