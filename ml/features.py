"""Text normalisation, stemming, an external sentiment lexicon and the per-candidate context features.

Everything the lexicon model computes about *one occurrence* of a candidate term lives here, so that
:mod:`ml.lexicon` only deals with counting, fitting and thresholds.
"""

from __future__ import annotations

import codecs
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
    if not len(cp) or int(cp.max()) < _TABLE_SIZE:
        return np.take(table, cp)  # faster than table[cp] on a uint32 index
    out = table[np.minimum(cp, _TABLE_SIZE - 1)]
    high = cp >= _TABLE_SIZE
    if high.any():
        for c in np.unique(cp[high]).tolist():
            out[cp == c] = chr(c).isalnum()
    return out


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` in the narrowest of uint8 (ASCII; ``isascii`` is free), uint16 (the Basic
    Multilingual Plane) and uint32: smaller arrays are faster to build and index. Every user widens or compares
    the values, so the dtype never changes a result."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    utf16 = text.encode("utf-16-le", "surrogatepass")
    if len(utf16) == 2 * len(text):  # no surrogate pairs: every code point is one 16-bit unit
        return np.frombuffer(utf16, dtype=np.uint16)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


_HASH_BASE = np.uint64(1_000_003)
_HASH_MAX = 40  # tokens longer than this hash their first 40 code points and their length
H_BOS, H_EOS, H_SHORT = np.uint64(1), np.uint64(2), np.uint64(3)  # "<s>", "</s>", "<short>"


def hash_ranges(cp: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 64-bit polynomial hash of each range ``cp[start : start + length]`` (vectorised, no Python per range).

    Equal strings give equal hashes; :func:`hash_strings` computes the same value for Python strings.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(lengths) and 0 < lengths[0] <= _HASH_MAX and (lengths == lengths[0]).all():
        return _hash_fixed(cp, starts, int(lengths[0]))
    out = (lengths.astype(np.uint64) + np.uint64(7)) * np.uint64(0x9E3779B97F4A7C15)
    if not len(starts):
        return out
    # longest first, so the ranges still being hashed at step k are a prefix (slices, no fancy indexing)
    capped = np.minimum(lengths, _HASH_MAX)
    order = np.argsort((_HASH_MAX - capped).astype(np.uint8), kind="stable")  # radix sort on small keys
    s_starts = starts[order]
    acc = out[order]
    live_at = np.bincount(np.minimum(lengths, _HASH_MAX), minlength=_HASH_MAX + 1)[::-1].cumsum()[::-1]
    with np.errstate(over="ignore"):
        for k in range(_HASH_MAX):
            n_live = int(live_at[k + 1])  # ranges longer than k
            if not n_live:
                break
            head = acc[:n_live]
            head *= _HASH_BASE
            head += cp[s_starts[:n_live] + k].astype(np.uint64)
    out[order] = acc
    return _mix(out)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every output bit depends on every input bit (so top bits can index a filter)."""
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h


def combine_hashes(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One 64-bit hash of each ordered pair of hashes (e.g. two consecutive words)."""
    with np.errstate(over="ignore"):
        return _mix(first * _HASH_BASE ^ (second + np.uint64(0x9E3779B97F4A7C15)))


def _hash_fixed(cp: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """:func:`hash_ranges` when every range has length ``n`` (no masking: n passes over the starts)."""
    with np.errstate(over="ignore"):
        out = np.full(len(starts), (np.uint64(n) + np.uint64(7)) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
        for k in range(n):
            out *= _HASH_BASE
            out += cp[starts + k].astype(np.uint64)
    return _mix(out)


def hash_strings(strings: list[str]) -> np.ndarray:
    """:func:`hash_ranges` of Python strings (normalised the same way as the texts they are compared with)."""
    if not strings:
        return np.zeros(0, dtype=np.uint64)
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    return hash_ranges(code_points("\n".join(strings)), starts, lengths)


class HashIndex:
    """Maps 64-bit hashes to row numbers (``-1`` when absent).

    A direct-mapped table on the top bits of the hash (at least 4 slots per key) answers most queries with one
    array look-up; the few queries that land on a slot shared by several keys fall back to ``searchsorted``.
    """

    def __init__(self, hashes: np.ndarray) -> None:
        hashes = np.asarray(hashes, dtype=np.uint64)
        self.order = np.argsort(hashes, kind="stable")
        self.sorted = hashes[self.order]
        self.bits = max(10, int(np.ceil(np.log2(max(len(hashes), 1) * 4))))
        self.shift = np.uint64(64 - self.bits)
        slots = (self.sorted >> self.shift).astype(np.int64)
        counts = np.bincount(slots, minlength=1 << self.bits)
        self.slot_row = np.full(1 << self.bits, -1, dtype=np.int64)  # -2: shared slot, ask searchsorted
        self.slot_row[slots] = np.where(counts[slots] == 1, self.order, -2)
        self.slot_hash = np.zeros(1 << self.bits, dtype=np.uint64)
        self.slot_hash[slots] = self.sorted

    def __len__(self) -> int:
        return len(self.sorted)

    def get(self, query: np.ndarray) -> np.ndarray:
        query = np.asarray(query, dtype=np.uint64)
        if not len(self.sorted) or not len(query):
            return np.full(len(query), -1, dtype=np.int64)
        slot = (query >> self.shift).astype(np.int64)
        row = self.slot_row[slot]
        out = np.where((row >= 0) & (self.slot_hash[slot] == query), row, -1)
        shared = np.flatnonzero(row == -2)
        if len(shared):
            q = query[shared]
            pos = np.minimum(np.searchsorted(self.sorted, q), len(self.sorted) - 1)
            out[shared] = np.where(self.sorted[pos] == q, self.order[pos], -1)
        return out


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
        self._scan_text: str | None = None
        if self.orig.isascii():
            self._init_ascii()
        else:
            self.norm = normalise_text(self.orig)
            cp = self.cp = code_points(self.norm)
            n = len(cp)
            isw = np.zeros(n + 2, dtype=bool)  # padded: isw[i + 1] is position i
            isw[1:-1] = is_word_char(cp)
            con = (cp == 45) | (cp == 39)
            inword = isw[1:-1] | (con & isw[:-2] & isw[2:])
            self.inword = np.concatenate([inword, [False]])  # position n (end of string) is not in a word
        self._breaks: np.ndarray | None = None
        self._tokens: tuple[np.ndarray, np.ndarray] | None = None
        self._orig_cp: np.ndarray | None = None
        self._hyphens: np.ndarray | None = None
        self._token_hash: np.ndarray | None = None
        self._hashed: np.ndarray | None = None

    def _init_ascii(self) -> None:
        """The same fields for an ASCII batch with byte comparisons (SIMD-fast in numpy) instead of a table look-up
        per code point; the scan text comes out of the same pass."""
        self.norm = self.orig.lower()  # normalise_text of ASCII text
        cp = self.cp = np.frombuffer(self.norm.encode("ascii"), dtype=np.uint8)
        n = len(cp)
        isw = np.zeros(n + 2, dtype=bool)  # padded: isw[i + 1] is position i; word characters are [0-9a-z_]
        w = isw[1:-1]
        np.less_equal(cp - np.uint8(97), np.uint8(25), out=w)  # wraps below "a": one comparison per range
        w |= (cp - np.uint8(48)) <= np.uint8(9)
        w |= cp == 95
        con = (cp == 45) | (cp == 39)
        con &= isw[:-2]
        con &= isw[2:]
        self.inword = np.zeros(n + 1, dtype=bool)  # position n (end of string) is not in a word
        inword = np.logical_or(w, con, out=self.inword[:-1])
        # " " + (token characters kept, others a space) + " ", by arithmetic on the bytes (np.where copies 4x slower)
        scan = np.empty(n + 2, dtype=np.uint8)
        scan[0] = scan[-1] = 32
        np.multiply(cp, inword, out=scan[1:-1])
        space = np.logical_not(inword).view(np.uint8)
        space <<= 5  # 1 -> 32
        scan[1:-1] |= space
        self._scan_text = codecs.ascii_decode(scan)[0]

    @property
    def scan_text(self) -> str:
        """``" " + norm + " "`` with every code point outside a token replaced by a space.

        Automaton keys are ``" " + term + " "`` (whole terms), ``" " + stem`` (token prefixes) or
        ``ending + " "`` (token endings), see :func:`ml.lexicon.build_automaton`: a match can only begin at a
        token start or end at a token end, so the scan reports few raw matches.
        """
        if self._scan_text is not None:
            return self._scan_text
        if self.cp.dtype == np.uint8:  # ASCII
            return " " + np.where(self.inword[:-1], self.cp, np.uint8(32)).tobytes().decode("ascii") + " "
        if self.cp.dtype == np.uint16:
            masked16 = np.where(self.inword[:-1], self.cp, np.uint16(32))
            return " " + masked16.tobytes().decode("utf-16-le", "surrogatepass") + " "
        masked = np.where(self.inword[:-1], self.cp, np.uint32(32))
        if not len(masked) or int(masked.max()) < 256:  # Latin-1 text: one byte per code point decodes faster
            return " " + masked.astype(np.uint8).tobytes().decode("latin-1") + " "
        return " " + masked.tobytes().decode("utf-32-le", "surrogatepass") + " "

    @property
    def breaks(self) -> np.ndarray:
        """Positions outside every token (computed on first use)."""
        if self._breaks is None:
            self._breaks = np.flatnonzero(~self.inword)
        return self._breaks

    @property
    def word_pos(self) -> np.ndarray:
        return np.flatnonzero(self.inword)

    @property
    def upper(self) -> np.ndarray:
        return self.orig_cp != self.cp

    @property
    def orig_cp(self) -> np.ndarray:
        if self._orig_cp is None:
            self._orig_cp = code_points(self.orig)
        return self._orig_cp

    def tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """``(start, end)`` of every token (global positions), computed once."""
        if self._tokens is None:
            # inword ends with False, so the changes alternate start, end, start, end, ...
            change = np.flatnonzero(self.inword[1:] != self.inword[:-1]) + 1
            if len(self.inword) and self.inword[0]:
                change = np.concatenate([[0], change])
            self._tokens = (change[0::2], change[1::2])
        return self._tokens

    def hyphen_count(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Number of hyphens in each range."""
        if self._hyphens is None:
            self._hyphens = np.flatnonzero(self.cp == 45)
        return np.searchsorted(self._hyphens, ends) - np.searchsorted(self._hyphens, starts)

    def hash(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        return hash_ranges(self.cp, starts, ends - starts)

    def token_hash(self, tokens: np.ndarray) -> np.ndarray:
        """:meth:`hash` of whole tokens by index into :meth:`tokens`; each token is hashed once per batch (a
        candidate's word is often another candidate's neighbour)."""
        t_start, t_end = self.tokens()
        if self._token_hash is None:
            self._token_hash = np.zeros(len(t_start), dtype=np.uint64)
            self._hashed = np.zeros(len(t_start), dtype=bool)
        todo = tokens[~self._hashed[tokens]]  # a token asked for twice here is hashed twice: cheaper than a dedup
        if len(todo):
            self._token_hash[todo] = hash_ranges(self.cp, t_start[todo], t_end[todo] - t_start[todo])
            self._hashed[todo] = True
        return self._token_hash[tokens]

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

    def capitalised(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        upper_first = self.orig_cp[starts] != self.cp[starts]
        second = np.minimum(starts + 1, len(self.cp) - 1)
        upper_second = (self.orig_cp[second] != self.cp[second]) & (ends - starts > 1)
        return upper_first.astype(float), (upper_first & upper_second).astype(float)


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
    "text_loadedness",
    "text_external",
    "text_prior",
    "text_probability",
    "text_probability_x_precision",
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
