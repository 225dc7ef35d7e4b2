"""TF-IDF word and character n-grams computed with numpy over batches of texts (no Python work per token).

:class:`NgramVectorizer` gives two blocks of features per text:

* **Words**: the BABE tokens of :data:`ml.tokenise.WORD_RE` (lower-cased, ``’`` read as ``'``) and pairs of
  consecutive tokens, weighted ``(1 + log tf) · idf`` as scikit-learn's ``TfidfVectorizer(ngram_range=(1, 2),
  sublinear_tf=True)`` does (smoothed ``idf = ln((1 + n) / (1 + df)) + 1``).
* **Characters**: every word's character n-grams of ``" word "`` (lengths 2–5, as scikit-learn's ``char_wb``),
  TF-IDF weighted *per word*; a text's character block is the sum of its words' vectors weighted by ``1 + log``
  of the word's count, divided by ``sqrt(sum of weight² · |word vector|²)`` (its length if no two of its words
  shared an n-gram). Unlike a
  text-level ``char_wb`` TF-IDF, this makes the block linear in per-word vectors, so a linear model's score of a
  text is a weighted sum of per-*word* scores (:meth:`NgramVectorizer.char_word_vectors`): prediction never builds
  the text × n-gram matrix, which was 60 % of its time. On BABE it scores like ``char_wb`` (docs/model.md).

Words and n-grams are 64-bit hashes of their code points (:func:`ml.features.hash_ranges`; pairs with
:func:`ml.features.combine_hashes`), found by :class:`ml.features.TextBatch`; only those in at least ``min_df``
training texts get a column. Two n-grams share a column only if their hashes collide (for a few hundred
thousand n-grams, a chance of about 10⁻⁹).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ml.features import HashIndex, TextBatch, combine_hashes, hash_ranges

BATCH = 500  # texts per vectorised batch (arrays stay cache-sized, as in the lexicon model)
SPACE = 32


DOC_BITS = 9  # a batch holds at most 2**9 texts: (text, word) keys are the text's index over a 55-bit word hash
WORD_BITS = 64 - DOC_BITS
WORD_MASK = np.uint64((1 << WORD_BITS) - 1)


@dataclass
class WordCounts:
    """One batch of texts as distinct words and (text, word) counts, sorted by text.

    A word is the top 55 bits of its 64-bit hash (:func:`word_keys`), so that a (text, word) pair fits one 64-bit
    key and one sort of the batch's tokens gives every pair's count.
    """

    n_docs: int
    batch: TextBatch
    words: np.ndarray  # word keys of the batch's distinct words, sorted
    doc: np.ndarray  # (text, word) pairs, sorted by text then word key: text index ...
    word: np.ndarray  # ... index into ``words`` ...
    count: np.ndarray  # ... and occurrences
    pair_keys: np.ndarray  # ... and their 64-bit (text, word) keys
    token_doc: np.ndarray  # every token: its text, 64-bit hash and (text, word) key
    token_hash: np.ndarray
    token_key: np.ndarray

    @classmethod
    def of(cls, texts: list[str]) -> WordCounts:
        if len(texts) > 1 << DOC_BITS:
            raise ValueError(f"a batch holds at most {1 << DOC_BITS} texts, got {len(texts)}")
        batch = TextBatch(texts)
        start, end = batch.tokens()
        doc = batch.doc_of(start) if len(start) else np.zeros(0, dtype=np.int64)
        hashes = batch.hash(start, end) if len(start) else np.zeros(0, dtype=np.uint64)
        token_key = (doc.astype(np.uint64) << np.uint64(WORD_BITS)) | word_keys(hashes)
        ordered = np.sort(token_key)
        first = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]])) if len(ordered) else first_empty()
        pair_keys = ordered[first]
        count = np.diff(np.append(first, len(ordered)))
        words, word = np.unique(pair_keys & WORD_MASK, return_inverse=True)
        return cls(
            n_docs=len(texts),
            batch=batch,
            words=words,
            doc=(pair_keys >> np.uint64(WORD_BITS)).astype(np.int64),
            word=word.ravel(),
            count=count,
            pair_keys=pair_keys,
            token_doc=doc,
            token_hash=hashes,
            token_key=token_key,
        )

    def pair_hashes(self) -> tuple[np.ndarray, np.ndarray]:
        """``(text, hash)`` of every pair of consecutive tokens of one text."""
        same = self.token_doc[1:] == self.token_doc[:-1]
        return self.token_doc[1:][same], combine_hashes(self.token_hash[:-1][same], self.token_hash[1:][same])

    def pair_of_token(self) -> np.ndarray:
        """Per token, the index of its (text, word) pair."""
        return np.searchsorted(self.pair_keys, self.token_key)

    def positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(start, length)`` in ``batch.cp`` of one occurrence of each of ``rows`` of :attr:`words`."""
        start, end = self.batch.tokens()
        hit = HashIndex(self.words[rows]).get(self.token_key & WORD_MASK)
        tokens = np.flatnonzero(hit >= 0)
        _, first = np.unique(hit[tokens], return_index=True)
        chosen = tokens[first]
        return start[chosen], end[chosen] - start[chosen]

    def words_of(self, rows: np.ndarray) -> list[str]:
        """The strings of ``rows`` of :attr:`words`."""
        norm = self.batch.norm
        starts, lengths = self.positions(rows)
        return [norm[a : a + n] for a, n in zip(starts.tolist(), lengths.tolist(), strict=True)]


def first_empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def word_keys(hashes: np.ndarray) -> np.ndarray:
    """The key of a word: the top 55 bits of its 64-bit hash."""
    return np.asarray(hashes, dtype=np.uint64) >> np.uint64(DOC_BITS)


def char_ngrams(
    cp: np.ndarray, starts: np.ndarray, lengths: np.ndarray, sizes: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """``(word, hash)`` of every character n-gram of each word ``cp[start : start + length]`` padded as ``" word "``."""
    padded = lengths + 2
    offsets = np.concatenate([[0], np.cumsum(padded)[:-1]]).astype(np.int64)
    out = np.full(int(padded.sum()), SPACE, dtype=cp.dtype)
    within = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out[np.repeat(offsets + 1, lengths) + within] = cp[np.repeat(starts, lengths) + within]
    words, hashes = [], []
    for n in sizes:
        count = np.maximum(padded - n + 1, 0)
        total = int(count.sum())
        if not total:
            continue
        pos = np.repeat(offsets, count) + np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        words.append(np.repeat(np.arange(len(padded)), count))
        hashes.append(hash_ranges(out, pos, np.full(total, n)))
    if not words:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(words), np.concatenate(hashes)


def batches(texts: list[str], size: int = BATCH) -> Iterator[list[str]]:
    for lo in range(0, len(texts), size):
        yield texts[lo : lo + size]


def _doc_frequency(docs: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct hashes and the number of texts each occurs in."""
    if not len(hashes):
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    uniq, inverse = np.unique(hashes, return_inverse=True)
    pairs = np.unique(docs.astype(np.int64) * len(uniq) + inverse.ravel())
    return uniq, np.bincount(pairs % len(uniq), minlength=len(uniq))


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    uniq, inverse = np.unique(np.concatenate([h for h, _ in parts]), return_inverse=True)
    counts = np.concatenate([c for _, c in parts])
    return uniq, np.bincount(inverse.ravel(), weights=counts, minlength=len(uniq)).astype(np.int64)


def unit_rows(rows: np.ndarray, values: np.ndarray, n_rows: int) -> np.ndarray:
    """``values`` divided by the Euclidean norm of their row (a row of zeros stays zero)."""
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=n_rows))
    norms[norms == 0] = 1.0
    return values / norms[rows]


@dataclass
class WordBlock:
    """The word block of a batch as (text, column, value) triples."""

    doc: np.ndarray
    col: np.ndarray
    value: np.ndarray


@dataclass
class CharWeights:
    """The character block of a batch: per (text, word) pair the word's weight; per word its unit vector."""

    doc: np.ndarray
    word: np.ndarray  # index into WordCounts.words
    weight: np.ndarray


class HashCache:
    """Values computed per distinct word (by hash), kept between batches: a sorted hash array and a value matrix.

    A batch asks for its distinct words; only the words not seen before are computed. Above ``limit`` words the
    cache starts afresh (a corpus's vocabulary grows slowly, so this is rare).
    """

    def __init__(self, limit: int = 2_000_000) -> None:
        self.limit = limit
        self.hashes = np.zeros(0, dtype=np.uint64)
        self.values: np.ndarray | None = None

    def get(self, hashes: np.ndarray, compute) -> np.ndarray:
        """The values of ``hashes`` (distinct); ``compute(rows)`` gives those of ``hashes[rows]`` not yet cached."""
        row = self._lookup(hashes)
        missing = np.flatnonzero(row < 0)
        if len(missing):
            new = np.asarray(compute(missing), dtype=np.float64).reshape(len(missing), -1)
            if self.values is None or len(self.hashes) + len(missing) > self.limit:
                self.hashes, self.values = np.zeros(0, dtype=np.uint64), np.zeros((0, new.shape[1]))
            merged = np.concatenate([self.hashes, hashes[missing]])
            order = np.argsort(merged, kind="stable")
            self.hashes = merged[order]
            self.values = np.concatenate([self.values, new])[order]
            row = self._lookup(hashes)
        return self.values[row]  # type: ignore[index]

    def _lookup(self, hashes: np.ndarray) -> np.ndarray:
        if not len(self.hashes) or not len(hashes):
            return np.full(len(hashes), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        return np.where(self.hashes[pos] == hashes, pos, -1)


class NgramVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF of words, word pairs and in-word character n-grams, vectorised with numpy.

    Parameters
    ----------
    word_ngrams : {1, 2}, default=2
        1: single words; 2: single words and pairs of consecutive words.
    char_ngrams : tuple of int, default=(2, 3, 4, 5)
        Lengths of the character n-grams of ``" word "``; ``()`` for none.
    min_df : int, default=2
        An n-gram must occur in this many training texts to get a column.

    Attributes
    ----------
    word_vocab_, char_vocab_ : ndarray of uint64
        The hashes that have a column: words and word pairs (the first ``len(word_vocab_)`` columns), then
        character n-grams.
    word_idf_, char_idf_ : ndarray
    n_features_ : int

    Examples
    --------
    >>> v = NgramVectorizer(min_df=1).fit(["a radical plan", "a calm plan"])
    >>> x = v.transform(["radical plan", "calm"])
    >>> x.shape == (2, v.n_features_), [round(float(r.multiply(r).sum()), 6) for r in x]
    (True, [2.0, 2.0])
    """

    def __init__(self, *, word_ngrams: int = 2, char_ngrams: Sequence[int] = (2, 3, 4, 5), min_df: int = 2) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df

    def _check_params(self) -> None:
        if self.word_ngrams not in (1, 2):
            raise ValueError(f"word_ngrams must be 1 or 2, got {self.word_ngrams!r}")
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.char_ngrams):
            raise ValueError(f"char_ngrams must be positive integers, got {self.char_ngrams!r}")
        if isinstance(self.min_df, bool) or not isinstance(self.min_df, int) or self.min_df < 1:
            raise ValueError(f"min_df must be a positive integer, got {self.min_df!r}")

    # ------------------------------------------------------------------ fit
    def fit(self, X: Sequence[str], y: object = None) -> NgramVectorizer:
        self._check_params()
        texts = list(X)
        word_parts, char_parts = [], []
        for chunk in batches(texts):
            counts = WordCounts.of(chunk)
            docs, hashes = [counts.doc], [counts.words[counts.word]]
            if self.word_ngrams == 2:
                pair_doc, pair_hash = counts.pair_hashes()
                docs.append(pair_doc)
                hashes.append(pair_hash)
            word_parts.append(_doc_frequency(np.concatenate(docs), np.concatenate(hashes)))
            if self.char_ngrams:
                starts, lengths = counts.positions(np.arange(len(counts.words)))
                c_word, c_hash = char_ngrams(counts.batch.cp, starts, lengths, self.char_ngrams)
                uniq, inverse = np.unique(c_hash, return_inverse=True)
                # a text holds an n-gram when one of its words does: (text, word) pairs joined with (word, n-gram)
                gram_of_word = sp.csr_matrix(
                    (np.ones(len(c_word)), (c_word, inverse.ravel())), shape=(len(counts.words), len(uniq))
                )
                text_word = sp.csr_matrix(
                    (np.ones(len(counts.doc)), (counts.doc, counts.word)), shape=(len(chunk), len(counts.words))
                )
                present = text_word @ gram_of_word
                char_parts.append((uniq, np.diff(present.tocsc().indptr)))
        n = len(texts)
        self.word_vocab_, self.word_idf_ = self._vocabulary(*_merge_counts(word_parts), n)
        self.char_vocab_, self.char_idf_ = self._vocabulary(*_merge_counts(char_parts), n)
        self.n_features_ = len(self.word_vocab_) + len(self.char_vocab_)
        return self

    def _vocabulary(self, hashes: np.ndarray, df: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        keep = df >= self.min_df
        return hashes[keep], np.log((1.0 + n) / (1.0 + df[keep])) + 1.0

    def _indexes(self) -> tuple[HashIndex, HashIndex]:
        cached = getattr(self, "_index_cache", None)
        if cached is None or cached[0] is not self.word_vocab_ or cached[1] is not self.char_vocab_:
            words, chars = HashIndex(self.word_vocab_), HashIndex(self.char_vocab_)
            cached = self._index_cache = (self.word_vocab_, self.char_vocab_, words, chars)
        return cached[2], cached[3]

    # ------------------------------------------------------------------ blocks
    def word_block(self, counts: WordCounts) -> WordBlock:
        """The batch's word and word-pair TF-IDF as (text, column, value) triples."""
        word_index, _ = self._indexes()
        col = word_index.get(counts.words)[counts.word]
        keep = col >= 0
        docs, cols, tfs = [counts.doc[keep]], [col[keep]], [counts.count[keep]]
        if self.word_ngrams == 2:
            pair_doc, pair_hash = counts.pair_hashes()
            pair_col = word_index.get(pair_hash)
            ok = pair_col >= 0
            n_cols = max(len(self.word_vocab_), 1)
            key, tf = np.unique(pair_doc[ok] * n_cols + pair_col[ok], return_counts=True)
            docs.append(key // n_cols)
            cols.append(key % n_cols)
            tfs.append(tf)
        doc, col, tf = np.concatenate(docs), np.concatenate(cols), np.concatenate(tfs)
        value = (1.0 + np.log(tf)) * self.word_idf_[col]
        return WordBlock(doc, col, unit_rows(doc, value, counts.n_docs))

    def char_word_vectors(self, counts: WordCounts, rows: np.ndarray | None = None) -> sp.csr_matrix:
        """TF-IDF vectors (not scaled) of the character n-grams of distinct words (all, or ``rows`` of
        ``counts.words``)."""
        _, char_index = self._indexes()
        rows = np.arange(len(counts.words)) if rows is None else rows
        starts, lengths = counts.positions(rows)
        c_word, c_hash = char_ngrams(counts.batch.cp, starts, lengths, self.char_ngrams)
        col = char_index.get(c_hash)
        keep = col >= 0
        n_cols = max(len(self.char_vocab_), 1)
        key, tf = np.unique(c_word[keep] * n_cols + col[keep], return_counts=True)
        word, col = key // n_cols, key % n_cols
        value = (1.0 + np.log(tf)) * self.char_idf_[col]
        return sp.csr_matrix((value, (word, col)), shape=(len(rows), len(self.char_vocab_)))

    @staticmethod
    def char_weights(counts: WordCounts, squared_norms: np.ndarray) -> CharWeights:
        """Per (text, word) pair, ``1 + log count`` over ``sqrt(sum of (1 + log count)² · |word vector|²)`` of the
        text (the text's norm if its words' vectors shared no n-gram); ``squared_norms`` is per distinct word."""
        keep = squared_norms[counts.word] > 0
        doc, word = counts.doc[keep], counts.word[keep]
        a = 1.0 + np.log(counts.count[keep])
        norms = np.sqrt(np.bincount(doc, weights=a * a * squared_norms[word], minlength=counts.n_docs))
        norms[norms == 0] = 1.0
        return CharWeights(doc, word, a / norms[doc])

    # ------------------------------------------------------------------ transform
    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        check_is_fitted(self, "word_vocab_")
        parts = [self._transform_batch(WordCounts.of(chunk)) for chunk in batches(list(X))]
        if not parts:
            return sp.csr_matrix((0, self.n_features_))
        return sp.vstack(parts, format="csr")

    def _transform_batch(self, counts: WordCounts) -> sp.csr_matrix:
        n = counts.n_docs
        w = self.word_block(counts)
        blocks = [sp.csr_matrix((w.value, (w.doc, w.col)), shape=(n, len(self.word_vocab_)))]
        if len(self.char_vocab_):
            vectors = self.char_word_vectors(counts)
            cw = self.char_weights(counts, np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
            text_word = sp.csr_matrix((cw.weight, (cw.doc, cw.word)), shape=(n, len(counts.words)))
            blocks.append(text_word @ vectors)
        elif self.char_ngrams:
            blocks.append(sp.csr_matrix((n, 0)))
        return sp.hstack(blocks, format="csr")
