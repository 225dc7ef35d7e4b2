"""Text normalisation, stemming, an external sentiment lexicon and the per-candidate context features.

Everything the lexicon model computes about *one occurrence* of a candidate term lives here, so that
:mod:`ml.lexicon` only deals with counting, fitting and thresholds.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ml.tokenise import WORD_RE

_APOSTROPHES = str.maketrans({"’": "'"})
# the last word before a position, and the first after it (searched in a bounded window)
_PREV_WORD_RE = re.compile(r"(\w+(?:[-'’]\w+)*)\W*$")
_CONNECTORS = "-'’"
CONTEXT_CHARS = 40


def normalise_text(text: str) -> str:
    """Lower-case ``text`` keeping every code point at its index (so match offsets are text offsets)."""
    lowered = text.lower().translate(_APOSTROPHES)
    if len(lowered) == len(text):
        return lowered
    # a few code points lower-case to two (e.g. 'İ'); keep those as they are so offsets stay aligned
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text).translate(_APOSTROPHES)


def normalise_term(term: str) -> str:
    """The lexicon key of a term: its BABE tokens, lower-cased, joined by one space ('' if no word)."""
    return " ".join(m.group() for m in WORD_RE.finditer(normalise_text(term)))


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def starts_token(text: str, start: int) -> bool:
    """Is ``start`` the first code point of a BABE token (no word char or word-connector-word before it)?"""
    if start == 0:
        return True
    prev = text[start - 1]
    if _is_word_char(prev):
        return False
    return not (prev in _CONNECTORS and start >= 2 and _is_word_char(text[start - 2]))


def ends_token(text: str, end: int) -> bool:
    """Is ``end`` (exclusive) the end of a BABE token?"""
    if end >= len(text):
        return True
    nxt = text[end]
    if _is_word_char(nxt):
        return False
    return not (nxt in _CONNECTORS and end + 1 < len(text) and _is_word_char(text[end + 1]))


def prev_word(norm: str, start: int) -> str:
    m = _PREV_WORD_RE.search(norm, max(0, start - CONTEXT_CHARS), start)
    return m.group(1) if m else "<s>"


def next_word(norm: str, end: int) -> str:
    m = WORD_RE.search(norm, end, end + CONTEXT_CHARS)
    return m.group() if m else "</s>"


class Stemmer:
    """Snowball (Porter 2) English stemmer with a cache; stems every token of a multi-word term."""

    def __init__(self) -> None:
        import snowballstemmer

        self._stem_word = snowballstemmer.stemmer("english").stemWord
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        stem = self._cache.get(word)
        if stem is None:
            stem = self._stem_word(word) if " " not in word else " ".join(map(self._stem_word, word.split(" ")))
            if len(self._cache) < 500_000:
                self._cache[word] = stem
        return stem


@dataclass(frozen=True)
class ExternalLexicon:
    """A word → strength table from an outside resource (never from the evaluation data)."""

    name: str
    licence: str
    sha256: str
    strength: dict[str, float]


@lru_cache(maxsize=4)
def load_external_lexicon(name: str) -> ExternalLexicon:
    """Load a packaged lexicon. ``"vader"``: VADER's 7.5k-entry valence lexicon (MIT, Hutto & Gilbert 2014).

    Strength is ``|mean valence| / 4`` in ``[0, 1]``; only entries made of word characters are kept.
    """
    if name != "vader":
        raise ValueError(f"unknown external lexicon {name!r}; known: 'vader' (or None for no external lexicon)")
    raw = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_bytes()
    strength: dict[str, float] = {}
    for line in raw.decode("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        key = normalise_term(parts[0])
        if key and key == parts[0].lower().strip():
            strength[key] = min(1.0, abs(float(parts[1])) / 4.0)
    return ExternalLexicon("vader", "MIT (vaderSentiment 3.3.2)", hashlib.sha256(raw).hexdigest(), strength)


def smoothed_rate(hits: np.ndarray, seen: np.ndarray, *, prior: float, strength: float) -> np.ndarray:
    """Additive smoothing ``(hits + strength·prior) / (seen + strength)``."""
    return (hits + strength * prior) / (seen + strength)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


DENSE_FEATURES = (
    "log_support",
    "log_seen",
    "precision",
    "logit_precision",
    "in_lexicon",
    "stem_precision",
    "log_stem_support",
    "log_stem_seen",
    "external_strength",
    "in_external",
    "extra_tokens",
    "capitalised",
    "all_caps",
    "position",
    "log_length",
    "neighbour_precision",
)


def suffix_of(term: str) -> str:
    last = term.rsplit(" ", 1)[-1]
    return last[-3:] if len(last) > 4 else "<short>"


def safe_log1p(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.asarray(x, dtype=float))


def is_capitalised(text: str, start: int) -> tuple[bool, bool]:
    c = text[start]
    word_end = start
    while word_end < len(text) and _is_word_char(text[word_end]):
        word_end += 1
    word = text[start:word_end]
    return c.isupper(), len(word) > 1 and word.isupper()


__all__ = [
    "DENSE_FEATURES",
    "ExternalLexicon",
    "Stemmer",
    "ends_token",
    "is_capitalised",
    "load_external_lexicon",
    "logit",
    "next_word",
    "normalise_term",
    "normalise_text",
    "prev_word",
    "safe_log1p",
    "smoothed_rate",
    "starts_token",
    "suffix_of",
]
