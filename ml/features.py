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

# the last word before a position, and the first after it (searched in a bounded window)
_PREV_WORD_RE = re.compile(r"(\w+(?:[-'’]\w+)*)\W*$")
_CONNECTORS = "-'’"
CONTEXT_CHARS = 40


def normalise_text(text: str) -> str:
    """Lower-case ``text`` keeping every code point at its index (so match offsets are text offsets)."""
    lowered = text.lower().replace("’", "'")
    if len(lowered) == len(text):
        return lowered
    # a few code points lower-case to two (e.g. 'İ'); keep those as they are so offsets stay aligned
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text).replace("’", "'")


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


@lru_cache(maxsize=1)
def word_table() -> np.ndarray:
    """``table[code point]`` is True for the characters ``\\w`` matches (``str.isalnum()`` or ``_``)."""
    table = np.fromiter((chr(c).isalnum() for c in range(_TABLE_SIZE)), dtype=bool, count=_TABLE_SIZE)
    table[ord("_")] = True
    return table


_TABLE_SIZE = 0x30000  # the BMP and the first supplementary planes; rarer code points are checked one by one


def is_word_char(cp: np.ndarray) -> np.ndarray:
    """Vectorised ``\\w`` test for an array of code points."""
    table = word_table()
    out = table[np.minimum(cp, _TABLE_SIZE - 1)]
    high = cp >= _TABLE_SIZE
    if high.any():
        for c in np.unique(cp[high]).tolist():
            out[cp == c] = chr(c).isalnum()
    return out


def code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


class TextBatch:
    """Texts joined by newlines into one string, with vectorised token-boundary and context look-ups.

    Positions are *global* (into :attr:`norm`); :attr:`offsets` maps documents to their first position.
    """

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        lengths = np.array([len(t) for t in texts], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64)
        self.lengths = lengths
        self.orig = "\n".join(texts)
        self.norm = normalise_text(self.orig)
        cp = code_points(self.norm)
        n = len(cp)
        isw = np.zeros(n + 2, dtype=bool)  # padded: isw[i + 1] is position i
        isw[1:-1] = is_word_char(cp)
        con = (cp == 45) | (cp == 39)
        inword = isw[1:-1] | (con & isw[:-2] & isw[2:])
        self.inword = np.concatenate([inword, [False]])  # position n (end of string) is not in a word
        self.breaks = np.flatnonzero(~self.inword)
        self.word_pos = np.flatnonzero(self.inword)
        self.upper = code_points(self.orig) != cp

    def starts_ok(self, starts: np.ndarray) -> np.ndarray:
        prev = np.maximum(starts - 1, 0)
        return (starts == 0) | ~self.inword[prev]

    def ends_ok(self, ends: np.ndarray) -> np.ndarray:
        return ~self.inword[ends]

    def token_start(self, positions: np.ndarray) -> np.ndarray:
        """The first position of the token containing each (in-word) position."""
        j = np.searchsorted(self.breaks, positions) - 1
        return np.where(j >= 0, self.breaks[np.maximum(j, 0)] + 1, 0)

    def token_end(self, positions: np.ndarray) -> np.ndarray:
        return self.breaks[np.searchsorted(self.breaks, positions)]

    def doc_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, positions, side="right") - 1

    def context(self, starts: np.ndarray, ends: np.ndarray, docs: np.ndarray) -> tuple[list[str], list[str]]:
        """The words just before ``starts`` and just after ``ends`` (``<s>``/``</s>`` at a text's edge)."""
        norm, words, breaks = self.norm, self.word_pos, self.breaks
        doc_start = self.offsets[docs]
        doc_end = doc_start + self.lengths[docs]
        j = np.searchsorted(words, starts) - 1
        p_last = words[np.maximum(j, 0)]
        p_start = breaks[np.maximum(np.searchsorted(breaks, p_last) - 1, 0)] + 1
        p_start = np.where(p_last < breaks[0], 0, p_start)
        has_prev = (j >= 0) & (p_last >= doc_start)
        k = np.searchsorted(words, ends)
        n_first = words[np.minimum(k, len(words) - 1)] if len(words) else ends
        n_end = self.token_end(n_first)
        has_next = (k < len(words)) & (n_first < doc_end)
        prevs = [
            norm[a : b + 1] if ok else "<s>"
            for a, b, ok in zip(p_start.tolist(), p_last.tolist(), has_prev.tolist(), strict=True)
        ]
        nexts = [
            norm[a:b] if ok else "</s>"
            for a, b, ok in zip(n_first.tolist(), n_end.tolist(), has_next.tolist(), strict=True)
        ]
        return prevs, nexts

    def capitalised(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        first = self.upper[starts]
        second = self.upper[np.minimum(starts + 1, len(self.upper) - 1)] & (ends - starts > 1)
        return first.astype(float), (first & second).astype(float)


class Stemmer:
    """Snowball (Porter 2) English stemmer with a cache; stems every token of a multi-word term.

    ``snowballstemmer`` uses the C implementation from ``PyStemmer`` when that is installed.
    """

    def __init__(self) -> None:
        import snowballstemmer

        self._stemmer = snowballstemmer.stemmer("english")
        self._stem_word = self._stemmer.stemWord
        self._cache: dict[str, str] = {}

    def many(self, words: list[str]) -> list[str]:
        """Stems of distinct single words, in one call."""
        return list(self._stemmer.stemWords(words))

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
    "suffix_precision",
    "log_suffix_support",
    "hyphenated",
)

SUFFIX_LENGTHS = (2, 3, 4)


def word_suffixes(word: str) -> list[str]:
    """The 2-, 3- and 4-letter endings of a word that is at least two letters longer than the ending."""
    return [word[-n:] for n in SUFFIX_LENGTHS if len(word) > n + 1]


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
