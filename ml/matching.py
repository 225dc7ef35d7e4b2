"""Every occurrence of a set of string keys in a text: one Aho-Corasick pass, the matches as numpy columns.

The automaton is ``ahocorasick_rs`` (Python bindings of the Rust ``aho-corasick`` crate, MIT/Apache-2.0) rather
than ``pyahocorasick``: on the classifier's scan texts it reports exactly the same overlapping matches 2.4–2.6×
faster (docs/benchmarks.md § Prediction throughput), and it gives each match's start directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import ahocorasick_rs
import numpy as np

if TYPE_CHECKING:
    from ml.features import TextBatch

# A DFA scans ≈ 1.3× faster than the contiguous NFA but takes ≈ 0.7 KiB per key (70 MiB at this size, ≈ 3× the NFA).
DFA_MAX_KEYS = 100_000
MATCH = np.dtype([("key", np.int64), ("start", np.int64), ("end", np.int64)])


class KeyMatcher:
    """All (overlapping) occurrences of ``keys`` in a text, case-sensitive; a key found twice in ``keys`` is
    reported under each of its indices. Picklable (the automaton is rebuilt from the keys)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = [str(k) for k in keys]
        if not all(self.keys):
            raise ValueError("a matcher key cannot be the empty string")
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        if self.keys:
            kind = ahocorasick_rs.Implementation
            implementation = kind.DFA if len(self.keys) <= DFA_MAX_KEYS else kind.ContiguousNFA
            self._automaton = ahocorasick_rs.AhoCorasick(self.keys, implementation=implementation)

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, text: str) -> np.ndarray:
        """The matches in ``text`` as a structured array: ``key`` (index into :attr:`keys`), ``start``, ``end``
        (code-point offsets, end exclusive), ordered by end."""
        if self._automaton is None or not text:
            return np.zeros(0, dtype=MATCH)
        return np.fromiter(self._automaton.find_matches_as_indexes(text, overlapping=True), dtype=MATCH)

    def __getstate__(self) -> dict:
        return {"keys": self.keys}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["keys"])


def build_automaton(terms: Iterable[str], prefixes: Iterable[str] = (), endings: Iterable[str] = ()) -> KeyMatcher:
    """An Aho-Corasick matcher over :attr:`ml.features.TextBatch.scan_text`.

    The i-th key is ``" " + term + " "`` for the terms (whole tokens only), then ``" " + prefix`` for the
    prefixes (token prefixes, e.g. stems), then ``ending + " "`` for the endings (``"-"``: a hyphen). Use
    :func:`key_offsets` for :func:`scan`.
    """
    keys = [" " + term + " " for term in terms] + [" " + prefix for prefix in prefixes]
    # "-" (a hyphen anywhere in a token) or a word ending followed by a space
    keys += [ending if ending == "-" else ending + " " for ending in endings]
    return KeyMatcher(keys)


def key_offsets(terms: Sequence[str], prefixes: Sequence[str] = (), endings: Sequence[str] = ()) -> np.ndarray:
    """Per matcher key, what :func:`scan` subtracts from a match's last code point to get the match start in
    ``norm``. For a terms-only matcher this is just each term's length.
    """
    return np.array(
        [len(t) for t in terms] + [len(p) - 1 for p in prefixes] + [0 if e == "-" else len(e) for e in endings],
        dtype=np.int64,
    )


def scan(matcher: KeyMatcher, batch: TextBatch, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every match of ``matcher`` (built by :func:`build_automaton`) in ``batch``: start positions in
    ``batch.norm`` and key indices. ``offsets`` comes from :func:`key_offsets` (for terms only: their lengths).
    """
    found = matcher.find(batch.scan_text)
    keys = found["key"]
    # a match whose last code point is at index end - 1 of the padded scan text (" " + norm + " ") is at end - 2
    # in norm
    return found["end"] - offsets[keys] - 2, keys


def contained(starts: np.ndarray, ends: np.ndarray, g_starts: np.ndarray, g_ends: np.ndarray) -> np.ndarray:
    """For each range ``[starts[i], ends[i])``: is it inside one of the ranges ``[g_starts, g_ends)``?"""
    if not len(g_starts) or not len(starts):
        return np.zeros(len(starts), dtype=bool)
    order = np.argsort(g_starts, kind="stable")
    gs, reach = g_starts[order], np.maximum.accumulate(g_ends[order])
    j = np.searchsorted(gs, starts, side="right") - 1
    return (j >= 0) & (reach[np.maximum(j, 0)] >= ends)
