"""Text normalisation shared by indexing and querying, so both sides see the same characters."""

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import opencc

DIALECT_WORDS = Path(__file__).with_name("dialect.txt")
MISHEARD_WORDS = Path(__file__).with_name("misheard.txt")

_INVISIBLE = re.compile(r"[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


@lru_cache(maxsize=1)
def word_replacements() -> tuple[re.Pattern, dict[str, str]]:
    """Dialect words (dialect.txt) and a recogniser's misheard telecom words (misheard.txt), each with
    the word that replaces it, and one pattern for all of them, longest first."""
    words = {}
    for path in (DIALECT_WORDS, MISHEARD_WORDS):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                said, meant = line.split()
                words[said] = meant
    return re.compile("|".join(sorted(map(re.escape, words), key=len, reverse=True))), words


def to_mandarin(text: str) -> str:
    """Cantonese and Taiwanese words replaced by the Mandarin ones, and misheard telecom words by
    the words meant, longest first."""
    pattern, words = word_replacements()
    return pattern.sub(lambda m: words[m.group()], text)


def normalize(text: str) -> str:
    """Cantonese and Taiwanese words to Mandarin and misheard telecom words to the words meant,
    traditional to simplified, full-width to half-width (NFKC), no invisible or control
    characters, runs of white space collapsed to one space."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = to_simplified(to_mandarin(text))
    return _SPACES.sub(" ", text).strip()


_CLAUSE_BREAK = re.compile(r"[，。！？；：,.!?;:“”\"]+|\s+|(?=还要|并且|而且|不然|否则|要不然|另外|同时还)")
MIN_CLAUSE_CHARS = 4


def split_clauses(text: str) -> list[str]:
    """The clauses of a normalised complaint, when it has more than one worth matching alone."""
    clauses = [c for c in _CLAUSE_BREAK.split(text) if len(c) >= MIN_CLAUSE_CHARS]
    return clauses if len(clauses) > 1 else []
