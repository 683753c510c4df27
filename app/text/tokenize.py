"""Chinese word segmentation for the sparse (BM25) channel: jieba with a domain dictionary."""

import logging
import re
from functools import lru_cache
from pathlib import Path

import jieba

from app.text.normalize import normalize

USER_DICT = Path(__file__).with_name("userdict.txt")
STOPWORDS = frozenset(Path(__file__).with_name("stopwords.txt").read_text(encoding="utf-8").split())
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
