"""The feature design shared by the document classifiers: n-gram TF-IDF plus a few standardised cue features, and
a fast path that computes a linear model's scores without building the design matrix.

Training (:meth:`TextDesign.fit_transform`) returns the sparse design matrix; the span-lexicon cues of a training
text come from a lexicon learned on the *other* internal folds (cross-fitted), exactly as an unseen text's come
from the lexicon of all training texts, so the linear model learns how far to trust them.

Prediction (:meth:`TextDesign.scores`) never builds the matrix: the word block is a gather of coefficients per
(text, n-gram) pair; the character block is a weighted sum of per-word scores (each distinct word's character
vector times the coefficients, cached per word), see :mod:`ml.codes.ngrams`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from ml.codes.cues import (
    SENTIMENT_FEATURES,
    SHAPE_FEATURES,
    SPAN_FEATURES,
    SentimentLexicon,
    SpanLexicon,
    SpanLexiconBuilder,
    shape_features,
)
from ml.codes.ngrams import HashCache, NgramVectorizer, WordCounts, batches
from ml.spans import Span

CUE_CLIP = 4.0  # standard deviations

CACHE_LIMIT = 2_000_000
# words whose character score is kept between batches


class TextDesign:
    """Fitted features: an :class:`NgramVectorizer`, the span lexicon (optional), sentiment and shape cues.

    Columns: the vectorizer's (words, then characters), then the cue block, standardised with the training mean and
    standard deviation, clipped to ±4 and multiplied by ``cue_weight``.
    """

    def __init__(
        self,
        *,
        word_ngrams: int,
        char_ngrams: Sequence[int],
        min_df: int,
        use_sentiment: bool,
        smoothing: float,
        cue_weight: float,
    ) -> None:
        self.vectorizer = NgramVectorizer(word_ngrams=word_ngrams, char_ngrams=tuple(char_ngrams), min_df=min_df)
        self.use_sentiment = use_sentiment
        self.smoothing = smoothing
        self.cue_weight = cue_weight
        self.span_lexicon: SpanLexicon | None = None
        self.cue_mean = np.zeros(0)
        self.cue_scale = np.zeros(0)

    # ------------------------------------------------------------------ names
    @property
    def cue_names(self) -> list[str]:
        names = []
        if self.span_lexicon is not None:
            names += [f"span:{label}:{f}" for label in self.span_lexicon.labels for f in SPAN_FEATURES]
        if self.use_sentiment:
            names += [f"sentiment:{f}" for f in SENTIMENT_FEATURES]
        return names + [f"shape:{f}" for f in SHAPE_FEATURES]

    @property
    def n_features(self) -> int:
        return self.vectorizer.n_features_ + len(self.cue_names)

    # ------------------------------------------------------------------ fit
    def fit_transform(
        self,
        texts: list[str],
        *,
        spans: Sequence[Sequence[Span]] | None,
        folds: list[np.ndarray],
    ) -> sp.csr_matrix:
        """Fit on ``texts`` and return their design matrix; span cues of fold ``k`` come from the other folds."""
        self.vectorizer.fit(texts)
        labels = sorted({s.label for doc in spans for s in doc}) if spans is not None else []
        builder = SpanLexiconBuilder(labels, self.smoothing) if labels else None
        ngram_parts, cue_parts, kept = [], [], []
        first = 0
        for chunk in batches(texts):
            counts = WordCounts.of(chunk)
            ngram_parts.append(self.vectorizer._transform_batch(counts))
            cue_parts.append(self._plain_cues(counts))
            if builder is not None:
                builder.add(counts, spans[first : first + len(chunk)], first)  # type: ignore[index]
                kept.append((first, counts))
            first += len(chunk)
        cues = np.vstack(cue_parts) if cue_parts else np.zeros((0, 0))
        if builder is not None:
            builder.finish()
            span_cues = np.zeros((len(texts), len(SPAN_FEATURES) * len(labels)))
            fold_of = np.zeros(len(texts), dtype=np.int64)
            for k, test in enumerate(folds):
                fold_of[test] = k
            for k, test in enumerate(folds):
                lexicon = builder.lexicon(np.setdiff1d(np.arange(len(texts)), test))
                for start, counts in kept:
                    rows = np.flatnonzero(fold_of[start : start + counts.n_docs] == k)
                    if len(rows):
                        span_cues[start + rows] = lexicon.features(counts)[rows]
            self.span_lexicon = builder.lexicon()
            cues = np.hstack([span_cues, cues])
        ngrams = (
            sp.vstack(ngram_parts, format="csr") if ngram_parts else sp.csr_matrix((0, self.vectorizer.n_features_))
        )
        self.cue_mean = cues.mean(axis=0) if len(cues) else np.zeros(cues.shape[1])
        scale = cues.std(axis=0) if len(cues) else np.ones(cues.shape[1])
        self.cue_scale = np.where(scale > 1e-9 * (1.0 + np.abs(self.cue_mean)), scale, 1.0)  # a constant column: 0
        return sp.hstack([ngrams, sp.csr_matrix(self._standardise(cues))], format="csr")

    def _sentiment(self) -> SentimentLexicon:
        lexicon = getattr(self, "_sentiment_lexicon", None)
        if lexicon is None:
            lexicon = self._sentiment_lexicon = SentimentLexicon()
        return lexicon

    def _plain_cues(self, counts: WordCounts) -> np.ndarray:
        parts = [self._sentiment().features(counts)] if self.use_sentiment else []
        return np.hstack([*parts, shape_features(counts)])

    def _cues(self, counts: WordCounts) -> np.ndarray:
        parts = []
        if self.span_lexicon is not None:
            parts.append(self.span_lexicon.features(counts))
        return self._standardise(np.hstack([*parts, self._plain_cues(counts)]))

    def _standardise(self, cues: np.ndarray) -> np.ndarray:
        # clipped: a text far outside the training range (a 3-word text after 12-word ones) must not be decided by
        # one extrapolated cue
        return np.clip((cues - self.cue_mean) / self.cue_scale, -CUE_CLIP, CUE_CLIP) * self.cue_weight

    # ------------------------------------------------------------------ predict
    def transform(self, texts: list[str]) -> sp.csr_matrix:
        parts = []
        for chunk in batches(texts):
            counts = WordCounts.of(chunk)
            ngrams = self.vectorizer._transform_batch(counts)
            cues = sp.csr_matrix(self._cues(counts))
            parts.append(sp.hstack([ngrams, cues], format="csr"))
        if not parts:
            return sp.csr_matrix((0, self.n_features))
        return sp.vstack(parts, format="csr")

    def scores(self, texts: list[str], coef: np.ndarray, intercept: np.ndarray, cache: HashCache) -> np.ndarray:
        """``transform(texts) @ coef.T + intercept`` without building the matrix; ``cache`` must belong to ``coef``."""
        vec = self.vectorizer
        n_ngram = vec.n_features_
        out = np.zeros((len(texts), coef.shape[0]))
        lo = 0
        for chunk in batches(texts):
            counts = WordCounts.of(chunk)
            ngram_scores = self._ngram_scores(counts, coef[:, :n_ngram], cache)
            out[lo : lo + counts.n_docs] = ngram_scores + self._cues(counts) @ coef[:, n_ngram:].T + intercept
            lo += counts.n_docs
        return out

    def _ngram_scores(self, counts: WordCounts, coef: np.ndarray, cache: HashCache) -> np.ndarray:
        vec = self.vectorizer
        n, n_word = counts.n_docs, len(vec.word_vocab_)
        out = np.zeros((n, coef.shape[0]))
        w = vec.word_block(counts)
        for k in range(coef.shape[0]):
            out[:, k] += np.bincount(w.doc, weights=w.value * coef[k, w.col], minlength=n)
        if len(vec.char_vocab_):
            word_scores, squared = self._char_word_scores(counts, coef[:, n_word:], cache)
            cw = vec.char_weights(counts, squared)
            for k in range(coef.shape[0]):
                out[:, k] += np.bincount(cw.doc, weights=cw.weight * word_scores[cw.word, k], minlength=n)
        return out

    def _char_word_scores(
        self, counts: WordCounts, coef_char: np.ndarray, cache: HashCache
    ) -> tuple[np.ndarray, np.ndarray]:
        def compute(missing: np.ndarray) -> np.ndarray:
            vectors = self.vectorizer.char_word_vectors(counts, missing)
            squared = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()
            return np.column_stack([np.asarray(vectors @ coef_char.T), squared])

        values = cache.get(counts.words, compute)
        return values[:, :-1], values[:, -1]
