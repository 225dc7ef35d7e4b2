"""Cheap per-text features beside the n-grams: how loaded a text's words were in the marked spans, sentiment
strength, punctuation.

* **Span lexicon** (when the training texts have spans): per word and span label, the smoothed share of its
  occurrences that annotators marked, ``p = (support + s·base) / (seen + s)`` (``base``: the share of all
  tokens marked, ``s`` = ``smoothing``). Per text: the largest log-lift ``log(p / base)``, the mean of the three
  largest (clipped at 0), ``log(1 + number of tokens with lift ≥ log 2 marked at least twice)`` and that number
  over the text's tokens. It is the word-level lexicon of :mod:`ml.lexicon` without its context model: what a
  sentence-bias classifier gains from knowing which words annotators mark (BABE: +0.03 macro-F1).
* **Sentiment**: VADER's valence lexicon (:func:`ml.features.load_external_lexicon`, strength ``|valence| / 4``):
  the largest strength, the mean over tokens, the share of tokens in the lexicon, ``log(1 + strong words)``
  (strength ≥ 0.5).
* **Shape**: ``log(1 + tokens)``, and ``log(1 + count)`` of quotation marks, ``!`` and ``?``.

All are computed from :class:`ml.codes.ngrams.WordCounts` with numpy (no Python per token).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml.codes.ngrams import HashCache, WordCounts, word_keys
from ml.features import HashIndex, Stemmer, hash_strings, load_external_lexicon
from ml.spans import Span

SPAN_FEATURES = ("max_lift", "top3_lift", "sum_lift", "log_loaded", "loaded_share", "max_share")
SENTIMENT_FEATURES = ("max_strength", "mean_strength", "lexicon_share", "log_strong")
SHAPE_FEATURES = ("log_tokens", "log_quotes", "log_exclamations", "log_questions")
QUOTES = '"“”‘’«»'
STRONG = 0.5
MIN_LOADED_SUPPORT = 2


@dataclass
class SpanLexicon:
    """Per span label, the words annotators marked: hashes, ``support`` (marked occurrences) and ``seen``."""

    labels: list[str]
    hashes: np.ndarray  # (n_words,) uint64
    support: np.ndarray  # (n_words, n_labels)
    seen: np.ndarray  # (n_words,)
    base: np.ndarray  # (n_labels,) share of all training tokens marked with the label
    smoothing: float

    def __post_init__(self) -> None:
        self._index = HashIndex(self.hashes)
        self._rows = HashCache()  # word hash -> row of its stem (-1: not in the lexicon)

    def rows(self, counts: WordCounts) -> np.ndarray:
        """Per distinct word of ``counts``, the lexicon row of its stem (-1 when not marked in training)."""
        found = self._rows.get(counts.words, lambda missing: self._index.get(stem_hashes(counts, missing)))
        return found[:, 0].astype(np.int64)

    def features(self, counts: WordCounts) -> np.ndarray:
        """``(n_docs, 4 · n_labels)``: :data:`SPAN_FEATURES` per label."""
        n = counts.n_docs
        out = np.zeros((n, len(SPAN_FEATURES) * len(self.labels)))
        row = self.rows(counts)[counts.word]
        known = row >= 0
        doc, row, tf = counts.doc[known], row[known], counts.count[known]
        n_tokens = np.maximum(np.bincount(counts.doc, weights=counts.count, minlength=n), 1.0)
        for li in range(len(self.labels)):
            base = max(float(self.base[li]), 1e-6)
            p = (self.support[row, li] + self.smoothing * base) / (self.seen[row] + self.smoothing)
            lift = np.maximum(np.log(p / base), 0.0)
            top = _top_per_doc(doc, lift, n, k=3)
            loaded = (lift >= np.log(2.0)) & (self.support[row, li] >= MIN_LOADED_SUPPORT)
            n_loaded = np.bincount(doc[loaded], weights=tf[loaded], minlength=n)
            cols = slice(li * len(SPAN_FEATURES), (li + 1) * len(SPAN_FEATURES))
            total = np.bincount(doc, weights=lift * tf, minlength=n)
            best = _top_per_doc(doc, p, n, k=1)[:, 0]
            out[:, cols] = np.column_stack(
                [top[:, 0], top.mean(axis=1), np.log1p(total), np.log1p(n_loaded), n_loaded / n_tokens, best]
            )
        return out


def _top_per_doc(doc: np.ndarray, values: np.ndarray, n_docs: int, *, k: int) -> np.ndarray:
    """``(n_docs, k)``: each text's ``k`` largest values (0 where it has fewer)."""
    out = np.zeros((n_docs, k))
    if not len(doc):
        return out
    order = np.lexsort((-values, doc))
    d, v = doc[order], values[order]
    first = np.searchsorted(d, d, side="left")
    rank = np.arange(len(d)) - first
    keep = rank < k
    out[d[keep], rank[keep]] = v[keep]
    return out


def token_marks(counts: WordCounts, spans: Sequence[Sequence[Span]], labels: list[str]) -> np.ndarray:
    """``(n_pairs, n_labels)``: per (text, word) pair of ``counts``, how many of its tokens lie inside a span."""
    batch = counts.batch
    start, end = batch.tokens()
    out = np.zeros((len(counts.doc), len(labels)))
    if not len(start):
        return out
    n_cp = len(batch.cp) + 1
    pair_of_token = counts.pair_of_token()
    for li, label in enumerate(labels):
        depth = np.zeros(n_cp + 1, dtype=np.int64)
        for d, doc_spans in enumerate(spans):
            for s in doc_spans:
                if s.label == label:
                    depth[batch.offsets[d] + s.start] += 1
                    depth[batch.offsets[d] + s.end] -= 1
        covered = np.cumsum(depth)[:-1] > 0
        # a token is marked when every code point of it is covered: covered count over its range equals its length
        csum = np.concatenate([[0], np.cumsum(covered)])
        inside = (csum[end] - csum[start]) == (end - start)
        out[:, li] = np.bincount(pair_of_token, weights=inside.astype(float), minlength=len(counts.doc))
    return out


_STEMMER: Stemmer | None = None


def stems(words: list[str]) -> list[str]:
    global _STEMMER
    if _STEMMER is None:
        _STEMMER = Stemmer()
    return _STEMMER.many(words)


def stem_hashes(counts: WordCounts, rows: np.ndarray | None = None) -> np.ndarray:
    """The hash of the Snowball stem of each distinct word of ``counts`` (or of ``rows`` of them).

    All of a batch's stems are computed once and kept on ``counts`` (training builds several lexicons over the same
    batches); a few rows are stemmed alone (prediction stems only the words its cache has not seen).
    """
    cached = getattr(counts, "_stem_hashes", None)
    if cached is None and (rows is None or 2 * len(rows) > len(counts.words)):
        cached = counts._stem_hashes = hash_strings(stems(counts.words_of(np.arange(len(counts.words)))))
    if cached is not None:
        return cached if rows is None else cached[rows]
    return hash_strings(stems(counts.words_of(rows)))


class SpanLexiconBuilder:
    """Collects (text, word, seen, marked) counts over batches, then builds lexicons from any subset of texts."""

    def __init__(self, labels: list[str], smoothing: float) -> None:
        self.labels = labels
        self.smoothing = smoothing
        self._doc, self._hash, self._seen, self._marked = [], [], [], []

    def add(self, counts: WordCounts, spans: Sequence[Sequence[Span]], first_doc: int) -> None:
        self._doc.append(counts.doc + first_doc)
        self._hash.append(stem_hashes(counts)[counts.word])
        self._seen.append(counts.count.astype(float))
        self._marked.append(token_marks(counts, spans, self.labels))

    def finish(self) -> None:
        self.doc = np.concatenate(self._doc)
        hashes = np.concatenate(self._hash)
        self.seen = np.concatenate(self._seen)
        self.marked = np.concatenate(self._marked) if self._marked else np.zeros((0, len(self.labels)))
        self.hashes, inverse = np.unique(hashes, return_inverse=True)
        self.word = inverse.ravel()

    def lexicon(self, docs: np.ndarray | None = None) -> SpanLexicon:
        """The lexicon learned from ``docs`` (all texts when None): only words marked at least once are kept."""
        rows = np.ones(len(self.doc), dtype=bool) if docs is None else np.isin(self.doc, docs)
        n_words = len(self.hashes)
        seen = np.bincount(self.word[rows], weights=self.seen[rows], minlength=n_words)
        support = (
            np.column_stack(
                [
                    np.bincount(self.word[rows], weights=self.marked[rows, li], minlength=n_words)
                    for li in range(len(self.labels))
                ]
            )
            if self.labels
            else np.zeros((n_words, 0))
        )
        base = support.sum(axis=0) / max(seen.sum(), 1.0)
        keep = support.max(axis=1) > 0 if support.shape[1] else np.zeros(n_words, dtype=bool)
        return SpanLexicon(self.labels, self.hashes[keep], support[keep], seen[keep], base, self.smoothing)


class SentimentLexicon:
    """VADER's word strengths as a hash table (built once per process)."""

    def __init__(self) -> None:
        strength = load_external_lexicon("vader").strength
        words = [w for w in strength if " " not in w]
        self._index = HashIndex(word_keys(hash_strings(words)))
        self._strength = np.array([strength[w] for w in words])

    def features(self, counts: WordCounts) -> np.ndarray:
        n = counts.n_docs
        row = self._index.get(counts.words)[counts.word]
        hit = row >= 0
        strength = np.where(hit, self._strength[np.maximum(row, 0)], 0.0)
        tf = counts.count.astype(float)
        n_tokens = np.maximum(np.bincount(counts.doc, weights=tf, minlength=n), 1.0)
        top = _top_per_doc(counts.doc, strength, n, k=1)[:, 0]
        mean = np.bincount(counts.doc, weights=strength * tf, minlength=n) / n_tokens
        share = np.bincount(counts.doc, weights=hit * tf, minlength=n) / n_tokens
        strong = np.bincount(counts.doc, weights=(strength >= STRONG) * tf, minlength=n)
        return np.column_stack([top, mean, share, np.log1p(strong)])


def shape_features(counts: WordCounts) -> np.ndarray:
    n = counts.n_docs
    n_tokens = np.bincount(counts.doc, weights=counts.count, minlength=n)
    batch = counts.batch
    cp = batch.orig_cp  # as written (lower-casing turns ’ into ')
    cols = [np.log1p(n_tokens)]
    for chars in (QUOTES, "!", "?"):
        mask = np.zeros(len(cp), dtype=bool)
        for c in chars:
            if ord(c) <= np.iinfo(cp.dtype).max:
                mask |= cp == ord(c)
        pos = np.flatnonzero(mask)
        cols.append(np.log1p(np.bincount(batch.doc_of(pos), minlength=n)) if len(pos) else np.zeros(n))
    return np.column_stack(cols)
