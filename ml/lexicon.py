"""The lexicon classifier: a learned lexicon of loaded terms plus a context model that decides each occurrence.

How it works (the long version is docs/model.md):

1. **Lexicon.** Every span annotators marked gives a term (its tokens, lower-cased) and every sub-n-gram of
   up to ``max_ngram`` tokens. Each term gets, per label, its *support* (occurrences inside a marked span of
   that label) and *n_seen* (occurrences anywhere in the training texts). Stems (Snowball English) get the
   same counts, so unseen inflections of a marked word are candidates too; words of an optional external
   lexicon (VADER's valence list) are candidates with their own training counts.
2. **Candidates.** One Aho-Corasick pass (:class:`ml.matching.KeyMatcher`) over the lower-cased text finds
   lexicon terms (kept only when they start and end on token boundaries) and marked stems (as token prefixes,
   kept when the whole token has that stem).
3. **Text model.** Per label, a bag-of-words ``LogisticRegression`` over the words the candidates expose (each
   one-word candidate and every candidate's neighbours) estimates whether the text holds a marked span; its
   cross-fitted log-odds are each candidate's *text prior* (most false alarms sit in texts with nothing marked).
4. **Context model.** Per label, a scikit-learn ``LogisticRegression`` scores each candidate occurrence from
   the term's lexicon statistics (smoothed precision, support, n_seen), its stem's, the external strength,
   capitalisation, position, length, the loadedness of neighbouring candidates and one-hot previous/next
   words and suffix. The lexicon statistics used to *train* it are cross-fitted (computed without the
   candidate's own fold), so the model learns how far to trust a count.
5. **Threshold.** Per label, the probability cut-off that maximises span F1 on internal cross-validation
   predictions over the training data (never on test data).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import check_is_fitted, check_random_state
from threadpoolctl import ThreadpoolController

from ml.features import (
    DENSE_FEATURES,
    H_BOS,
    H_EOS,
    H_SHORT,
    SUFFIX_LENGTHS,
    HashIndex,
    Stemmer,
    TextBatch,
    hash_ranges,
    hash_strings,
    load_external_lexicon,
    logit,
    normalise_term,
    smoothed_rate,
)
from ml.matching import KeyMatcher, build_automaton, contained, key_offsets, scan
from ml.spans import Span, as_span, overlaps
from ml.tokenise import WORD_RE

MIN_STEM_CHARS = 4
MIN_SUFFIX_SUPPORT = 3  # a word ending proposes candidates once marked this often ...
SUFFIX_LIFT = 2.0  # ... and when its smoothed precision is at least this multiple of the base rate
SUFFIX_MIN_RATE = 0.08  # ... and at least this (so a corpus with a tiny base rate does not activate every ending)
NEIGHBOUR_CHARS = 80
TEXT_MODEL_C = (0.03, 0.1, 0.3, 1.0)  # the text model's regularisation is picked among these by CV
TEXT_PRIOR_CLIP = 6.0  # log-odds
_BATCH = 500  # texts per vectorised batch: its arrays stay cache-sized (faster than 2,000)


@dataclass(frozen=True)
class LexiconEntry:
    """One row of the learned lexicon: how loaded ``term`` is for ``label`` in the training data."""

    term: str
    label: str
    weight: float
    support: int
    n_seen: int
    precision: float
    pinned: bool = False


@dataclass
class Candidates:
    """Candidate occurrences of a batch of texts, column-wise (one array entry per candidate)."""

    doc: np.ndarray
    start: np.ndarray  # position in its text
    end: np.ndarray
    term: np.ndarray  # index into the term table, -1 for a token that is not an active term
    stem: np.ndarray  # index into the stem table, -1 when the stem is unknown
    suffix: np.ndarray  # (n, 3) indices into the word-ending table, -1 when unknown
    prev: np.ndarray  # hash of the previous word (H_BOS at a text's start)
    next: np.ndarray  # hash of the next word (H_EOS at a text's end)
    ending: np.ndarray  # hash of the last 3 letters of the last word (H_SHORT when it has <= 4 letters)
    word: np.ndarray  # hash of the whole candidate when it is one token, else 0
    extra_tokens: np.ndarray
    hyphenated: np.ndarray
    capitalised: np.ndarray
    all_caps: np.ndarray
    position: np.ndarray
    batch: TextBatch | None = None
    gstart: np.ndarray | None = None  # positions in batch.norm
    text_prior: np.ndarray | None = None  # (n, n_labels): the text model's log-odds for the candidate's text

    def __len__(self) -> int:
        return len(self.doc)

    @property
    def keys(self) -> list[str]:
        """The normalised text of each candidate (for inspection; the model itself works on hashes)."""
        if self.batch is None or self.gstart is None:
            return []
        norm = self.batch.norm
        gend = self.gstart + (self.end - self.start)
        return [norm[a:b] for a, b in zip(self.gstart.tolist(), gend.tolist(), strict=True)]


@dataclass
class PredictedSpans:
    """Predicted spans as columns: ``doc`` (index of the text), ``start``/``end`` (offsets in it), ``label`` (index
    into the model's ``labels_``) and ``score``."""

    doc: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.doc)

    @classmethod
    def empty(cls) -> PredictedSpans:
        e = np.zeros(0, dtype=np.int64)
        return cls(e, e, e, e, np.zeros(0))

    @classmethod
    def concatenate(cls, parts: list[PredictedSpans]) -> PredictedSpans:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("doc", "start", "end", "label", "score")))


@cache
def _thread_controller() -> ThreadpoolController:
    # Finding the loaded BLAS/OpenMP libraries takes ~3 ms: once per process, not once per predict call (the
    # scoring job calls predict once per chunk). Libraries are all loaded by then: this module imports them.
    return ThreadpoolController()


def single_threaded_blas():
    """Context manager: BLAS and OpenMP limited to one thread (the models are small; threads only add
    synchronisation cost, badly so on a busy machine)."""
    return _thread_controller().limit(limits=1)


def parse_rules(rules: Iterable | None, *, name: str) -> dict[str, frozenset[str] | None]:
    """``["term", ("term", "label"), ...]`` → ``{key: labels or None (= every label)}``."""
    out: dict[str, set[str] | None] = {}
    for rule in rules or ():
        if isinstance(rule, str):
            term, label = rule, None
        elif isinstance(rule, tuple | list) and len(rule) == 2 and all(isinstance(x, str) for x in rule):
            term, label = rule
        else:
            raise ValueError(f"{name} entries must be 'term' or ('term', 'label'), got {rule!r}")
        key = normalise_term(term)
        if not key:
            raise ValueError(f"{name} term {term!r} contains no word")
        if label is None or out.get(key, set()) is None:
            out[key] = None
        else:
            out.setdefault(key, set()).add(label)  # type: ignore[union-attr]
    return {k: (None if v is None else frozenset(v)) for k, v in out.items()}


def rule_applies(rules: dict[str, frozenset[str] | None], key: str, label: str) -> bool:
    if key not in rules:
        return False
    labels = rules[key]
    return labels is None or label in labels


def check_texts(X: object) -> list[str]:
    if isinstance(X, str) or not isinstance(X, Sequence | np.ndarray):
        raise ValueError("X must be a list of texts (strings), not " + type(X).__name__)
    texts = list(X)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"X[{i}] must be a string, got {type(text).__name__}")
    return texts


def check_spans(y: object, texts: list[str]) -> list[list[Span]]:
    if y is None:
        raise ValueError("y is required: one list of gold spans (start, end, label) per text")
    docs = list(y)  # type: ignore[call-overload]
    if len(docs) != len(texts):
        raise ValueError(f"X has {len(texts)} texts but y has {len(docs)} span lists")
    out = []
    for i, (text, doc) in enumerate(zip(texts, docs, strict=True)):
        spans = [as_span(s) for s in doc]
        for s in spans:
            if s.end > len(text):
                raise ValueError(f"y[{i}] has span {s.key} past the end of its text ({len(text)} code points)")
        out.append(spans)
    return out


def banned_tables(banned: dict[str, frozenset[str] | None], terms: list[str]) -> tuple[np.ndarray, HashIndex]:
    """Terms banned for every label: a mask over ``terms`` and the hashes of such single words."""
    everywhere = [k for k, v in banned.items() if v is None]
    mask = np.array([t in banned and banned[t] is None for t in terms], dtype=bool)
    return mask, HashIndex(hash_strings([k for k in everywhere if " " not in k]))


class LexiconClassifier(BaseEstimator):
    """Predict labelled spans (loaded terms) from a learned lexicon and a per-occurrence context model.

    ``fit(X, y)`` takes texts and, per text, gold spans ``(start, end, label)`` (or :class:`ml.spans.Span`);
    ``predict(X)`` returns, per text, a list of :class:`ml.spans.Span` with a label and a score.

    It follows the scikit-learn estimator contract (``get_params``/``set_params``/``clone``, ``fit`` returns
    ``self``, fitted attributes end in ``_``, ``check_is_fitted`` in ``predict``, ``random_state``). It is not
    a ``ClassifierMixin``: its inputs are texts and its outputs are span lists, so the common checks that feed
    numeric arrays (``check_estimator``'s fit/predict on ``X`` of floats, ``score``, ``classes_``) do not apply.

    Parameters
    ----------
    max_ngram : int, default=4
        Longest sub-n-gram of a marked span added to the lexicon (the exact marked span is always added).
    min_support : int, default=1
        Times a term must have been marked to become a candidate.
    use_stems : bool, default=True
        Also propose tokens whose Snowball stem was marked (generalises to unseen inflections).
    use_shapes : bool, default=True
        Also propose whole tokens that end in a word ending (2-4 letters) annotators mark well above the base
        rate, and hyphenated tokens (generalises to unseen words such as "do-nothing" or "childishly").
    external_lexicon : {"vader", None}, default="vader"
        Outside word list whose words are candidates (with their training counts) and whose strength is a
        feature. ``None`` for a model learned from the annotations only.
    smoothing : float, default=2.0
        Strength of the additive smoothing of precisions towards the base rate.
    C : float, default=0.5
        Inverse regularisation of the logistic-regression context model.
    min_context_count : int, default=2
        Neighbouring words seen fewer times than this around training candidates share one "rare" feature.
    term_features : bool, default=False
        Give each candidate term seen ``min_context_count`` times among the training candidates its own
        one-hot feature (on top of its cross-fitted lexicon statistics).
    n_splits : int, default=5
        Folds of the internal cross-validation (cross-fitted lexicon statistics and threshold choice).
    threshold : float or None, default=None
        Fixed probability cut-off for every label; ``None`` picks one per label by internal cross-validation.
    pinned : sequence of str or (str, str), default=()
        Terms (optionally per label) always predicted, with score 1.0.
    banned : sequence of str or (str, str), default=()
        Terms (optionally per label) never predicted.
    random_state : int, RandomState or None, default=None
        Seeds the internal fold assignment.

    Attributes
    ----------
    labels_ : list of str
    lexicon_ : list of LexiconEntry
        The readable lexicon: marked or pinned terms per label, by descending weight.
    terms_ : list of str
        The term table (marked n-grams, external words seen in training, pinned terms).
    term_support_, term_seen_ : ndarray
    stems_ : list of str
    stem_support_, stem_seen_ : ndarray
    base_rate_ : ndarray
        Per label, the share of training tokens inside a marked span.
    context_vocab_, suffix_vocab_, term_vocab_ : dict
    context_models_ : list of LogisticRegression or None
        One per label (``None`` when the training data had no positive or no negative candidate).
    text_vocab_ : ndarray of uint64
        Hashes of the words the text model knows (candidates' words and neighbours seen ``min_context_count``
        times).
    text_models_ : list of LogisticRegression or None
        Per label, "this text holds a marked span" from the candidates' words; ``None`` when every training text
        (or none) has a span of the label. Its log-odds are each candidate's ``text_prior`` feature.
    text_C_ : ndarray
        Per label, the text model's ``C``, chosen by internal cross-validation (0 when there is no text model).
    thresholds_ : ndarray
    cv_scores_ : dict
        Internal cross-validation precision/recall/F1 per label at the chosen threshold.
    n_features_ : int

    Examples
    --------
    >>> from ml.lexicon import LexiconClassifier
    >>> texts = ["A radical plan.", "The plan is radical.", "A calm plan."] * 4
    >>> spans = [[(2, 9, "loaded")], [(12, 19, "loaded")], []] * 4
    >>> model = LexiconClassifier(external_lexicon=None, n_splits=2, random_state=0).fit(texts, spans)
    >>> [(s.start, s.end, s.label) for s in model.predict(["So radical!"])[0]]
    [(3, 10, 'loaded')]
    """

    def __init__(
        self,
        *,
        max_ngram: int = 4,
        min_support: int = 1,
        use_stems: bool = True,
        use_shapes: bool = True,
        external_lexicon: str | None = "vader",
        smoothing: float = 2.0,
        C: float = 0.5,
        min_context_count: int = 2,
        term_features: bool = False,
        n_splits: int = 5,
        threshold: float | None = None,
        pinned: Sequence = (),
        banned: Sequence = (),
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.max_ngram = max_ngram
        self.min_support = min_support
        self.use_stems = use_stems
        self.use_shapes = use_shapes
        self.external_lexicon = external_lexicon
        self.smoothing = smoothing
        self.C = C
        self.min_context_count = min_context_count
        self.term_features = term_features
        self.n_splits = n_splits
        self.threshold = threshold
        self.pinned = pinned
        self.banned = banned
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def _validate_params(self) -> None:
        if not isinstance(self.max_ngram, int) or self.max_ngram < 1:
            raise ValueError(f"max_ngram must be a positive integer, got {self.max_ngram!r}")
        if not isinstance(self.min_support, int) or self.min_support < 1:
            raise ValueError(f"min_support must be a positive integer, got {self.min_support!r}")
        if not isinstance(self.n_splits, int) or self.n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2, got {self.n_splits!r}")
        if self.smoothing < 0 or self.C <= 0:
            raise ValueError("smoothing must be >= 0 and C > 0")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1] or None, got {self.threshold!r}")

    def fit(self, X: Sequence[str], y: Sequence[Sequence], *, groups: Sequence | None = None) -> LexiconClassifier:
        with single_threaded_blas():
            return self._fit(X, y, groups=groups)

    def _fit(self, X: Sequence[str], y: Sequence[Sequence], *, groups: Sequence | None = None) -> LexiconClassifier:
        """Learn the lexicon, the context models and the thresholds.

        Parameters
        ----------
        X : list of str
        y : list of lists of spans ``(start, end, label)`` or :class:`Span`
        groups : list, optional
            A group id per text (e.g. the source article): the internal folds never split a group.
        """
        self._validate_params()
        texts = check_texts(X)
        gold = check_spans(y, texts)
        if groups is not None and len(groups) != len(texts):
            raise ValueError(f"groups has {len(groups)} entries for {len(texts)} texts")
        rng = check_random_state(self.random_state)
        self._stemmer = Stemmer()
        pinned = parse_rules(self.pinned, name="pinned")
        banned = parse_rules(self.banned, name="banned")
        labels = sorted({s.label for doc in gold for s in doc} | {lab for v in pinned.values() if v for lab in v})
        if not labels:
            raise ValueError("y holds no spans and nothing is pinned: there is nothing to learn")
        self.labels_ = labels
        self._pinned, self._banned = pinned, banned
        self._external = load_external_lexicon(self.external_lexicon) if self.external_lexicon else None
        table = _TrainingTable.build(self, texts, gold)
        folds = self._folds(len(texts), groups, rng)
        # cross-fitted candidates and features: lexicon statistics from the other folds only
        blocks = []
        for k in range(len(folds)):
            other = np.setdiff1d(np.arange(len(texts)), folds[k])
            stats = table.stats(other)
            cands = table.candidates(folds[k], stats)
            blocks.append((k, cands, stats))
        self._fit_context_vocab([c for _, c, _ in blocks], table.terms)
        self._fit_text_models([c for _, c, _ in blocks], table)
        table.term_col = self._term_columns(table.terms)
        final_stats = table.stats(np.arange(len(texts)))
        self._store_stats(table, final_stats)
        n_labels = len(labels)
        self.context_models_ = []
        self.thresholds_ = np.zeros(n_labels)
        self.constant_proba_ = np.zeros(n_labels)
        self.cv_scores_ = {}
        for li, label in enumerate(labels):
            mats = [self._matrix(c, s, li, table.term_col) for _, c, s in blocks]
            ys = [table.targets(c, li) for _, c, _ in blocks]
            n_gold = table.n_gold(li)
            model, thr, scores = self._fit_label(mats, ys, n_gold)
            y_all = np.concatenate(ys)
            self.constant_proba_[li] = float(y_all.mean()) if y_all.size else 0.0
            self.context_models_.append(model)
            self.thresholds_[li] = thr
            self.cv_scores_[label] = scores
        self.n_features_ = self._n_columns()
        self.lexicon_ = self._lexicon_table()
        self._build_automaton()
        return self

    def _folds(self, n: int, groups: Sequence | None, rng: np.random.RandomState) -> list[np.ndarray]:
        if groups is not None:
            n_groups = len(set(groups))
            if n_groups < self.n_splits:
                raise ValueError(f"groups has {n_groups} distinct values, fewer than n_splits={self.n_splits}")
            # shuffle group order reproducibly, then GroupKFold balances fold sizes
            uniq = sorted({str(g) for g in groups})
            shuffled = dict(zip(uniq, rng.permutation(len(uniq)), strict=True))
            codes = np.array([shuffled[str(g)] for g in groups])
            splitter = GroupKFold(n_splits=self.n_splits)
            return [test for _, test in splitter.split(np.zeros(n), groups=codes)]
        if n < self.n_splits:
            raise ValueError(f"need at least n_splits={self.n_splits} texts to fit, got {n}")
        seed = rng.randint(np.iinfo(np.int32).max)
        return [test for _, test in KFold(self.n_splits, shuffle=True, random_state=seed).split(np.zeros(n))]

    def _fit_context_vocab(self, blocks: list[Candidates], terms: list[str]) -> None:
        """Neighbour words and word endings seen ``min_context_count`` times among training candidates (hashes)."""

        def frequent(values: np.ndarray) -> np.ndarray:
            uniq, counts = np.unique(values, return_counts=True)
            return uniq[counts >= self.min_context_count]

        self.context_vocab_ = frequent(np.concatenate([x for c in blocks for x in (c.prev, c.next)]))
        self.suffix_vocab_ = frequent(np.concatenate([c.ending for c in blocks]))
        if self.term_features:
            ids = frequent(np.concatenate([c.term[c.term >= 0] for c in blocks]))
            self.term_vocab_ = sorted(terms[i] for i in ids.tolist())
        else:
            self.term_vocab_ = []

    def _text_bags(self, cands: Candidates, n_docs: int) -> sp.csr_matrix:
        """Per text, which ``text_vocab_`` words occur as a one-word candidate or next to a candidate (binary)."""
        single = cands.word != 0
        hashes = np.concatenate([cands.word[single], cands.prev, cands.next])
        docs = np.concatenate([cands.doc[single], cands.doc, cands.doc])
        col = self._text_vocab_index().get(hashes)
        ok = col >= 0
        n_vocab = len(self.text_vocab_)
        bags = sp.csr_matrix((np.ones(int(ok.sum())), (docs[ok], col[ok])), shape=(n_docs, n_vocab))
        bags.sum_duplicates()
        bags.data[:] = 1.0
        return bags

    def _text_vocab_index(self) -> HashIndex:
        cached = getattr(self, "_text_index_cache", None)
        if cached is None or cached[0] is not self.text_vocab_:
            cached = self._text_index_cache = (self.text_vocab_, HashIndex(self.text_vocab_))
        return cached[1]

    def _fit_text_models(self, blocks: list[Candidates], table: _TrainingTable) -> None:
        """Per label, a bag-of-words logistic model of "this text has a marked span of the label", over the words
        the candidates show (the candidates themselves and their neighbours). Its cross-fitted log-odds become
        each candidate's ``text_prior`` feature: most false alarms are in texts with no marked word at all."""
        n_docs = table.n_docs
        words = np.concatenate([x for c in blocks for x in (c.word[c.word != 0], c.prev, c.next)])
        uniq, counts = np.unique(words, return_counts=True)
        self.text_vocab_ = uniq[counts >= self.min_context_count]
        has = table.doc_labels
        block_docs = [np.unique(c.doc) for c in blocks]
        for c in blocks:
            c.text_prior = np.zeros((len(c), has.shape[1]))
        bags = [self._text_bags(c, n_docs)[d] for c, d in zip(blocks, block_docs, strict=True)]
        self.text_models_ = []
        self.text_C_ = np.zeros(has.shape[1])
        for li in range(has.shape[1]):
            ys = [has[d, li] for d in block_docs]
            y_all = np.concatenate(ys)
            if not 0 < y_all.sum() < len(y_all):
                self.text_models_.append(None)
                continue
            # the regularisation with the best cross-fitted log-loss (training folds only)
            best = None
            for C in TEXT_MODEL_C:
                oof = [
                    self._text_decision_fit(
                        sp.vstack([b for j, b in enumerate(bags) if j != k]).tocsr(),
                        np.concatenate([t for j, t in enumerate(ys) if j != k]),
                        bags[k],
                        C,
                    )
                    for k in range(len(blocks))
                ]
                z = np.concatenate(oof)
                loss = float(np.mean(np.logaddexp(0.0, -z * (2 * y_all - 1))))
                if best is None or loss < best[0] - 1e-9:
                    best = (loss, C, oof)
            _, C, oof = best
            self.text_C_[li] = C
            for c, d, o in zip(blocks, block_docs, oof, strict=True):
                prior = np.zeros(n_docs)
                prior[d] = o
                c.text_prior[:, li] = prior[c.doc]
            x_all = sp.vstack(bags).tocsr()
            self.text_models_.append(self._new_text_lr(C).fit(x_all, y_all) if x_all.shape[1] else None)

    def _text_decision_fit(self, x: sp.csr_matrix, y: np.ndarray, x_test: sp.csr_matrix, C: float) -> np.ndarray:
        if not len(y) or not x_test.shape[0] or y.min() == y.max() or not x.shape[1]:
            return np.zeros(x_test.shape[0])
        return np.clip(self._new_text_lr(C).fit(x, y).decision_function(x_test), -TEXT_PRIOR_CLIP, TEXT_PRIOR_CLIP)

    def _new_text_lr(self, C: float) -> LogisticRegression:
        return LogisticRegression(C=C, max_iter=2000, solver="liblinear", random_state=0)

    def _text_prior(self, cands: Candidates) -> np.ndarray:
        """Per candidate and label, the text model's log-odds that the candidate's text holds a marked span."""
        out = np.zeros((len(cands), len(self.labels_)))
        if not len(cands) or all(model is None for model in self.text_models_):
            return out
        n_docs = int(cands.doc.max()) + 1
        single = cands.word != 0
        hashes = np.concatenate([cands.word[single], cands.prev, cands.next])
        docs = np.concatenate([cands.doc[single], cands.doc, cands.doc])
        col = self._text_vocab_index().get(hashes)
        ok = col >= 0
        # binary bag: each (text, word) pair once
        pair = np.unique(docs[ok] * (len(self.text_vocab_) + 1) + col[ok])
        p_doc, p_col = pair // (len(self.text_vocab_) + 1), pair % (len(self.text_vocab_) + 1)
        for li, model in enumerate(self.text_models_):
            if model is None:
                continue
            w = model.coef_.ravel()
            per_doc = np.bincount(p_doc, weights=w[p_col], minlength=n_docs) + float(model.intercept_[0])
            out[:, li] = np.clip(per_doc, -TEXT_PRIOR_CLIP, TEXT_PRIOR_CLIP)[cands.doc]
        return out

    def _term_columns(self, terms: list[str]) -> np.ndarray:
        """Per entry of a term table, its one-hot column among ``term_vocab_`` (``len(term_vocab_)`` = other)."""
        col = {t: i for i, t in enumerate(self.term_vocab_)}
        return np.array([col.get(t, len(col)) for t in terms] + [len(col)], dtype=np.int64)

    def _fit_label(self, mats: list[sp.csr_matrix], ys: list[np.ndarray], n_gold: int):
        y_all = np.concatenate(ys) if ys else np.zeros(0)
        if y_all.size == 0 or y_all.min() == y_all.max():
            # every candidate is positive (or negative, or there are none): a constant model
            constant = np.full(y_all.size, float(y_all.mean()) if y_all.size else 0.0)
            thr = 0.5 if self.threshold is None else float(self.threshold)
            return None, thr, threshold_scores(constant, y_all, n_gold, thr)
        oof = []
        for k in range(len(mats)):
            train_x = sp.vstack([m for j, m in enumerate(mats) if j != k]).tocsr()
            train_y = np.concatenate([t for j, t in enumerate(ys) if j != k])
            if train_y.min() == train_y.max() or mats[k].shape[0] == 0:
                oof.append(np.full(mats[k].shape[0], float(train_y.mean())))
                continue
            oof.append(self._new_lr().fit(train_x, train_y).predict_proba(mats[k])[:, 1])
        proba = np.concatenate(oof)
        thr, scores = best_threshold(proba, y_all, n_gold)
        if self.threshold is not None:
            thr = float(self.threshold)
            scores = threshold_scores(proba, y_all, n_gold, thr)
        model = self._new_lr().fit(sp.vstack(mats).tocsr(), y_all)
        return model, thr, scores

    def _new_lr(self) -> LogisticRegression:
        # liblinear: 2-3x faster than L-BFGS on these unscaled, mostly sparse designs, same BABE F1
        return LogisticRegression(C=self.C, max_iter=2000, solver="liblinear", random_state=0)

    def _store_stats(self, table: _TrainingTable, stats: _Stats) -> None:
        keep = (stats.term_support.max(axis=1) >= 1) | (table.term_external > 0) | table.term_pinned
        idx = np.flatnonzero(keep)
        self.terms_ = [table.terms[i] for i in idx]
        self.term_support_ = stats.term_support[idx].astype(np.int64)
        self.term_seen_ = stats.term_seen[idx].astype(np.int64)
        self.stems_ = list(table.stems)
        self.stem_support_ = stats.stem_support.astype(np.int64)
        self.stem_seen_ = stats.stem_seen.astype(np.int64)
        self.base_rate_ = stats.base_rate
        self.suffixes_ = list(table.suffixes)
        self.suffix_support_ = stats.suffix_support.astype(np.int64)
        self.suffix_seen_ = stats.suffix_seen.astype(np.int64)

    # -------------------------------------------------------------- state
    def _build_automaton(self) -> None:
        """(Re)build the matcher and lookup tables from the stored fitted state (also used after loading)."""
        self._stemmer = getattr(self, "_stemmer", None) or Stemmer()
        self._pinned = parse_rules(self.pinned, name="pinned")
        self._banned = parse_rules(self.banned, name="banned")
        self._external = load_external_lexicon(self.external_lexicon) if self.external_lexicon else None
        self.term_index_ = {t: i for i, t in enumerate(self.terms_)}
        self.stem_index_ = {s: i for i, s in enumerate(self.stems_)}
        ext = self._external.strength if self._external else {}
        self._term_external = np.array([ext.get(t, 0.0) for t in self.terms_])
        active = self._active_terms(self.term_support_, self._term_external, self.terms_)
        self._active_term = np.zeros(len(self.terms_), dtype=bool)
        self._active_term[active] = True
        # one automaton key per distinct string; a key can be a term, a marked stem, or both
        # keys: active terms (whole tokens), then marked stems (token prefixes); word endings and hyphens are
        # found from the token table instead
        stem_rows = []
        if self.use_stems and len(self.stems_):
            stem_rows = [
                int(i)
                for i in np.flatnonzero(self.stem_support_.max(axis=1) >= self.min_support)
                if len(self.stems_[i]) >= MIN_STEM_CHARS
            ]
        term_keys = [self.terms_[i] for i in active]
        stem_keys = [self.stems_[i] for i in stem_rows]
        ending_keys = []
        if self.use_shapes:
            ends_active = active_suffixes(self.suffix_support_, self.suffix_seen_, self.base_rate_, self.smoothing)
            ending_keys = ["-", *(self.suffixes_[i] for i in np.flatnonzero(ends_active))]
        n_shape = len(ending_keys)
        self._key_term = np.concatenate([active, np.full(len(stem_rows) + n_shape, -1)]).astype(np.int64)
        self._key_stem = np.array([-1] * len(term_keys) + stem_rows + [-1] * n_shape, dtype=np.int64)
        # for ending keys: the least token length (an ending proposes words at least two letters longer)
        self._key_min_len = np.array(
            [0] * (len(term_keys) + len(stem_keys)) + [0 if e == "-" else len(e) + 2 for e in ending_keys],
            dtype=np.int64,
        )
        self._key_shape = np.arange(len(self._key_term)) >= len(term_keys) + len(stem_keys)
        self._key_offset = key_offsets(term_keys, stem_keys, ending_keys)
        self._term_len = np.array([len(t) for t in self.terms_], dtype=np.int64)
        self._term_extra = np.array([t.count(" ") for t in self.terms_], dtype=np.int64)  # words after the first
        self.automaton_ = build_automaton(term_keys, stem_keys, ending_keys)
        # word endings that propose shape candidates, looked up by hash over every token of a batch
        self.suffix_index_ = HashIndex(hash_strings(self.suffixes_))
        single = [int(i) for i in active if " " not in self.terms_[i]]
        self._word_terms = HashIndex(hash_strings([self.terms_[i] for i in single]))
        self._single_terms = np.array(single, dtype=np.int64)
        self._term_banned, self._banned_words = banned_tables(self._banned, self.terms_)
        # per label: pinned terms, terms banned for that label, single words banned for that label
        self._label_pinned = [
            np.array([rule_applies(self._pinned, t, lab) for t in self.terms_], dtype=bool) for lab in self.labels_
        ]
        self._label_banned = [
            np.array([rule_applies(self._banned, t, lab) for t in self.terms_], dtype=bool) for lab in self.labels_
        ]
        self._label_banned_words = [
            HashIndex(hash_strings([k for k in self._banned if " " not in k and rule_applies(self._banned, k, lab)]))
            for lab in self.labels_
        ]
        self._term_col = self._term_columns(self.terms_)
        # word hash -> stem row, sorted by hash (see _stem_ids)
        self._stem_cache = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64))
        # the stem of each term's last token, for the stem features of term candidates
        last_stems = self._stemmer.many([t.rsplit(" ", 1)[-1] for t in self.terms_]) if self.terms_ else []
        self._term_stem = np.array([self.stem_index_.get(s, -1) for s in last_stems], dtype=np.int64)

    def _stem_ids(self, batch: TextBatch, starts: np.ndarray, ends: np.ndarray, hashes: np.ndarray) -> np.ndarray:
        """Index in ``stems_`` of the stem of each token (``-1`` if unknown). Words are stemmed once per model: a
        sorted cache of word hashes answers known words with one ``searchsorted``; only new words are stemmed."""
        if not len(starts):
            return np.zeros(0, dtype=np.int64)
        known_hashes, known_ids = self._stem_cache
        pos = np.minimum(np.searchsorted(known_hashes, hashes), max(len(known_hashes) - 1, 0))
        found = known_hashes[pos] == hashes if len(known_hashes) else np.zeros(len(hashes), dtype=bool)
        if found.all():
            return known_ids[pos]
        new, first = np.unique(hashes[~found], return_index=True)
        rows = np.flatnonzero(~found)[first]
        norm = batch.norm
        words = [norm[a:b] for a, b in zip(starts[rows].tolist(), ends[rows].tolist(), strict=True)]
        new_ids = np.array([self.stem_index_.get(stem, -1) for stem in self._stemmer.many(words)], dtype=np.int64)
        if len(known_hashes) > 1_000_000:  # bound the memory of a long-running worker
            known_hashes, known_ids = known_hashes[:0], known_ids[:0]
        merged = np.concatenate([known_hashes, new])
        order = np.argsort(merged, kind="stable")
        self._stem_cache = (merged[order], np.concatenate([known_ids, new_ids])[order])
        return self._stem_ids(batch, starts, ends, hashes)

    def _active_terms(self, support: np.ndarray, external: np.ndarray, terms: list[str]) -> np.ndarray:
        pinned = np.array([t in self._pinned for t in terms], dtype=bool)
        return np.flatnonzero((support.max(axis=1) >= self.min_support) | (external > 0) | pinned)

    def _term_precision(self, support: np.ndarray, seen: np.ndarray) -> np.ndarray:
        return smoothed_rate(support, seen[:, None], prior=self.base_rate_[None, :], strength=self.smoothing)

    def _lexicon_table(self) -> list[LexiconEntry]:
        precision = self._term_precision(self.term_support_, self.term_seen_)
        rows = []
        for i, term in enumerate(self.terms_):
            for li, label in enumerate(self.labels_):
                support = int(self.term_support_[i, li])
                pinned = rule_applies(self._pinned, term, label)
                if support < 1 and not pinned:
                    continue
                seen = int(self.term_seen_[i])
                raw = support / seen if seen else 0.0
                rows.append(LexiconEntry(term, label, float(precision[i, li]), support, seen, raw, pinned))
        rows.sort(key=lambda e: (e.label, -e.weight, -e.support, e.term))
        return rows

    # -------------------------------------------------------------- predict
    def predict(self, X: Sequence[str]) -> list[list[Span]]:
        """Per text, the predicted spans (label and score), sorted by start; at most one span per word and label."""
        check_is_fitted(self)
        texts = check_texts(X)
        found = self._predict_arrays(texts)
        out: list[list[Span]] = [[] for _ in texts]
        labels = self.labels_
        for d, s, e, li, sc in zip(
            found.doc.tolist(), found.start.tolist(), found.end.tolist(), found.label.tolist(), found.score.tolist(),
            strict=True,
        ):  # fmt: skip
            out[d].append(Span.trusted(s, e, labels[li], round(sc, 6)))  # start < end, label known
        return out

    def predict_arrays(self, X: Sequence[str]) -> PredictedSpans:
        """:meth:`predict` as columns, for callers that store or count spans without a Python object per span
        (scoring a corpus): one row per span, ordered by text, start, end, label; ``score`` is not rounded."""
        check_is_fitted(self)
        return self._predict_arrays(check_texts(X))

    def _predict_arrays(self, texts: list[str]) -> PredictedSpans:
        parts = []
        with single_threaded_blas():
            for lo in range(0, len(texts), _BATCH):
                found = self._predict_batch(texts[lo : lo + _BATCH])
                found.doc += lo
                parts.append(found)
        return PredictedSpans.concatenate(parts)

    def score_candidates(self, X: Sequence[str]) -> tuple[Candidates, np.ndarray]:
        """All candidate occurrences of a batch and their probability per label (``n_candidates × n_labels``)."""
        check_is_fitted(self)
        texts = check_texts(X)
        cands = self._candidates(texts)
        return cands, self._proba(cands)

    def _proba(self, cands: Candidates) -> np.ndarray:
        proba = np.zeros((len(cands), len(self.labels_)))
        if not len(cands):
            return proba
        seen = np.where(cands.term >= 0, self.term_seen_[np.maximum(cands.term, 0)], 0)
        text_prior = self._text_prior(cands)
        one_hot = self._one_hot(cands, self._term_col)  # the same columns for every label
        for li, model in enumerate(self.context_models_):
            if model is None:
                proba[:, li] = self.constant_proba_[li]
                continue
            support = np.where(cands.term >= 0, self.term_support_[np.maximum(cands.term, 0), li], 0)
            stats = _CandidateStats(
                support, seen, self.stem_support_[:, li], self.stem_seen_, self.base_rate_[li],
                self.suffix_support_[:, li], self.suffix_seen_, text_prior[:, li],
            )  # fmt: skip
            dense = self._dense(cands, stats, self._term_external)
            proba[:, li] = expit(self._decision(dense, one_hot, li))
        return proba

    def _predict_batch(self, texts: list[str]) -> PredictedSpans:
        cands = self._candidates(texts)
        proba = self._proba(cands)
        if not len(cands):
            return PredictedSpans.empty()
        gstart = cands.gstart
        gend = gstart + (cands.end - cands.start)
        picked = []  # per label: indices of the chosen candidates and their scores
        for li in range(len(self.labels_)):
            score = proba[:, li].copy()
            if self._pinned or self._banned:
                is_term = cands.term >= 0
                t = np.maximum(cands.term, 0)
                banned = self._label_banned_words[li].get(cands.word) >= 0
                if len(self.terms_):
                    banned |= is_term & self._label_banned[li][t]
                    score[is_term & self._label_pinned[li][t]] = 1.0
                score[banned] = -1.0
            keep = np.flatnonzero(score >= min(self.thresholds_[li], 1.0))
            chosen = _non_overlapping(keep, gstart[keep], gend[keep], score[keep])
            picked.append((chosen, np.full(len(chosen), li), np.minimum(score[chosen], 1.0)))
        rows = np.concatenate([p[0] for p in picked])
        label_ids = np.concatenate([p[1] for p in picked])
        scores = np.concatenate([p[2] for p in picked])
        order = np.lexsort((label_ids, cands.end[rows], gstart[rows]))  # by text, start, end, label
        rows = rows[order]
        return PredictedSpans(cands.doc[rows], cands.start[rows], cands.end[rows], label_ids[order], scores[order])

    def _candidates(self, texts: list[str]) -> Candidates:
        """Candidates: lexicon terms on token boundaries, tokens with a marked stem, tokens of a loaded shape."""
        if not texts:
            return _empty_candidates()
        batch = TextBatch(texts)
        starts, keys = scan(self.automaton_, batch, self._key_offset)
        t_idx, s_idx = self._key_term[keys], self._key_stem[keys]
        is_term = t_idx >= 0
        is_stem = s_idx >= 0
        is_shape = self._key_shape[keys]
        ends = np.where(is_term, starts + self._term_len[np.maximum(t_idx, 0)], 0)
        term_rows = t_idx[is_term]
        t_start, t_end = batch.tokens()
        match_tok = np.searchsorted(t_start, starts, side="right") - 1  # the token each match begins in
        term_first = match_tok[is_term]  # a term match begins at a token start and spans its words
        term_last = term_first + self._term_extra[term_rows]
        # stem candidates: the whole token, kept if it has exactly that stem and is not itself an active term
        st_start = starts[is_stem]
        st_tok = match_tok[is_stem]
        st_end = t_end[st_tok]
        st_hash = batch.token_hash(st_tok)
        hit = self._word_terms.get(st_hash)
        keep = (self._stem_ids(batch, st_start, st_end, st_hash) == s_idx[is_stem]) & (hit < 0)
        st_tok, st_start, st_end, st_stem = st_tok[keep], st_start[keep], st_end[keep], s_idx[is_stem][keep]
        # shape candidates: whole tokens ending in a loaded-looking word ending, or hyphenated
        tok = match_tok[is_shape]
        chosen = np.zeros(len(t_start), dtype=bool)  # a token can end in several active endings: once each
        chosen[tok[t_end[tok] - t_start[tok] >= self._key_min_len[keys[is_shape]]]] = True
        tok = np.flatnonzero(chosen)
        sh_start, sh_end = t_start[tok], t_end[tok]
        sh_hash = batch.token_hash(tok)
        hit = self._word_terms.get(sh_hash)
        sh_term = np.where(hit >= 0, self._single_terms[np.maximum(hit, 0)], -1)
        sh_stem = self._stem_ids(batch, sh_start, sh_end, sh_hash)
        return build_candidates(
            batch,
            np.concatenate([starts[is_term], st_start, sh_start]),
            np.concatenate([ends[is_term], st_end, sh_end]),
            np.concatenate([term_rows, np.full(len(st_start), -1), sh_term]),
            np.concatenate([self._term_stem[term_rows], st_stem, sh_stem]),
            term_banned=self._term_banned,
            banned_words=self._banned_words,
            suffix_index=self.suffix_index_,
            token_range=(np.concatenate([term_first, st_tok, tok]), np.concatenate([term_last, st_tok, tok])),
        )

    # -------------------------------------------------------------- features
    def _matrix(self, cands: Candidates, stats: _Stats, li: int, term_col: np.ndarray) -> sp.csr_matrix:
        support = np.where(cands.term >= 0, stats.term_support[np.maximum(cands.term, 0), li], 0)
        seen = np.where(cands.term >= 0, stats.term_seen[np.maximum(cands.term, 0)], 0)
        cstats = _CandidateStats(
            support, seen, stats.stem_support[:, li], stats.stem_seen, stats.base_rate[li],
            stats.suffix_support[:, li], stats.suffix_seen, cands.text_prior[:, li],
        )  # fmt: skip
        return self._design(cands, cstats, stats.term_external, term_col)

    def _suffix_features(self, cands: Candidates, st: _CandidateStats) -> tuple[np.ndarray, np.ndarray]:
        has = cands.suffix >= 0
        idx = np.maximum(cands.suffix, 0)
        support = np.where(has, st.suffix_support[idx] if len(st.suffix_support) else 0, 0)
        seen = np.where(has, st.suffix_seen[idx] if len(st.suffix_seen) else 0, 0)
        rate = smoothed_rate(support, seen, prior=st.base_rate, strength=self.smoothing)
        best = rate.argmax(axis=1) if len(rate) else np.zeros(0, dtype=np.int64)
        rows = np.arange(len(rate))
        return rate[rows, best], np.log1p(support[rows, best])

    def _n_columns(self) -> int:
        return (
            len(DENSE_FEATURES)
            + 2 * (len(self.context_vocab_) + 1)
            + len(self.suffix_vocab_)
            + len(self.term_vocab_)
            + 2
        )

    def _design(
        self, cands: Candidates, st: _CandidateStats, term_external: np.ndarray, term_col: np.ndarray
    ) -> sp.csr_matrix:
        """The design matrix of the context model: dense features, then one-hot previous word, next word,
        word ending and term (see :meth:`_parts`)."""
        dense, one_hot = self._parts(cands, st, term_external, term_col)
        n = len(cands)
        cols = np.concatenate(one_hot)
        rows = np.tile(np.arange(n), len(one_hot))
        onehot = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(n, self._n_columns() - dense.shape[1]))
        return sp.hstack([sp.csr_matrix(dense), onehot], format="csr")

    def _parts(
        self, cands: Candidates, st: _CandidateStats, term_external: np.ndarray, term_col: np.ndarray
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The dense feature block and, per one-hot group, each candidate's column (offset into the one-hot
        block). Training stacks them into a sparse matrix; prediction dots them with the coefficients."""
        return self._dense(cands, st, term_external), self._one_hot(cands, term_col)

    def _dense(self, cands: Candidates, st: _CandidateStats, term_external: np.ndarray) -> np.ndarray:
        """The dense features of one label's context model (counts, precisions, shape, neighbours, text prior)."""
        a = self.smoothing
        precision = smoothed_rate(st.support, st.seen, prior=st.base_rate, strength=a)
        has_stem = cands.stem >= 0
        s_idx = np.maximum(cands.stem, 0)
        stem_support = np.where(has_stem, st.stem_support[s_idx] if len(st.stem_support) else 0, 0)
        stem_seen = np.where(has_stem, st.stem_seen[s_idx] if len(st.stem_seen) else 0, 0)
        stem_precision = smoothed_rate(stem_support, stem_seen, prior=st.base_rate, strength=a)
        external = np.where(cands.term >= 0, term_external[np.maximum(cands.term, 0)] if len(term_external) else 0, 0)
        length = (cands.end - cands.start).astype(float)
        loadedness = np.maximum(precision, stem_precision)
        return np.column_stack(
            [
                np.log1p(st.support),
                np.log1p(st.seen),
                precision,
                logit(precision),
                (st.support >= self.min_support).astype(float),
                stem_precision,
                np.log1p(stem_support),
                np.log1p(stem_seen),
                external,
                (external > 0).astype(float),
                cands.extra_tokens,
                cands.capitalised,
                cands.all_caps,
                cands.position,
                np.log(length),
                neighbour_sum(cands, loadedness),
                *self._suffix_features(cands, st),
                cands.hyphenated,
                *text_sums(cands, loadedness, external),
                st.text_prior,
                expit(st.text_prior),
                expit(st.text_prior) * precision,
            ]
        )

    def _one_hot(self, cands: Candidates, term_col: np.ndarray) -> list[np.ndarray]:
        """Per one-hot group (previous word, next word, word ending, term), each candidate's column in the one-hot
        block; the same for every label."""
        n_vocab, n_suf, n_terms = len(self.context_vocab_), len(self.suffix_vocab_), len(self.term_vocab_)
        context = self._context_index()
        prev_ids = _lookup(context, cands.prev, n_vocab)
        next_ids = _lookup(context, cands.next, n_vocab)
        suf_ids = _lookup(self._suffix_vocab_index(), cands.ending, n_suf)
        term_ids = np.where(cands.term >= 0, term_col[np.maximum(cands.term, 0)], n_terms)
        base = 2 * (n_vocab + 1) + n_suf + 1
        return [prev_ids, next_ids + n_vocab + 1, suf_ids + 2 * (n_vocab + 1), term_ids + base]

    def _context_index(self) -> HashIndex:
        """Hash index over ``context_vocab_`` (cached; rebuilt when the vocabulary array changes)."""
        cached = getattr(self, "_context_index_cache", None)
        if cached is None or cached[0] is not self.context_vocab_:
            cached = self._context_index_cache = (self.context_vocab_, HashIndex(self.context_vocab_))
        return cached[1]

    def _suffix_vocab_index(self) -> HashIndex:
        cached = getattr(self, "_suffix_index_cache", None)
        if cached is None or cached[0] is not self.suffix_vocab_:
            cached = self._suffix_index_cache = (self.suffix_vocab_, HashIndex(self.suffix_vocab_))
        return cached[1]

    def _decision(self, dense: np.ndarray, one_hot: list[np.ndarray], li: int) -> np.ndarray:
        """The logistic model's decision function, without building the design matrix: the dense block times
        its coefficients plus, per one-hot group, the coefficient of each candidate's column."""
        model = self.context_models_[li]
        coef = model.coef_.ravel()
        n_dense = dense.shape[1]
        out = dense @ coef[:n_dense] + float(model.intercept_[0])
        w = coef[n_dense:]
        for cols in one_hot:
            out += w[cols]
        return out


def _non_overlapping(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Of candidates ``rows`` (sorted by start, global positions), keep the best-scoring one of each group of
    overlapping ones (greedily by descending score, longer first on ties). Candidates that overlap nothing are
    kept without a Python loop; only the overlapping ones go through the greedy pass."""
    if not len(rows):
        return rows
    reach_before = np.concatenate([[-1], np.maximum.accumulate(ends)[:-1]])
    next_start = np.concatenate([starts[1:], [np.iinfo(np.int64).max]])
    clash = (starts < reach_before) | (ends > next_start)
    if not clash.any():
        return rows
    group = np.cumsum(starts >= reach_before)  # a new group starts where nothing earlier reaches
    c = np.flatnonzero(clash)
    order = c[np.lexsort((starts[c] - ends[c], -score[c]))]
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    accepted = []
    for j, g, s, e in zip(
        order.tolist(), group[order].tolist(), starts[order].tolist(), ends[order].tolist(), strict=True
    ):
        if not any(overlaps(s, e, a, b) for a, b in taken[g]):
            taken[g].append((s, e))
            accepted.append(j)
    keep = ~clash
    keep[accepted] = True
    return rows[keep]


def _lookup(index: HashIndex, query: np.ndarray, missing: int) -> np.ndarray:
    """Row of each query hash in ``index``, ``missing`` when absent."""
    found = index.get(query)
    return np.where(found >= 0, found, missing)


@dataclass
class _Stats:
    term_support: np.ndarray  # (n_terms, n_labels)
    term_seen: np.ndarray
    stem_support: np.ndarray  # (n_stems, n_labels)
    stem_seen: np.ndarray
    base_rate: np.ndarray
    term_external: np.ndarray
    suffix_support: np.ndarray  # (n_suffixes, n_labels)
    suffix_seen: np.ndarray


@dataclass
class _CandidateStats:
    support: np.ndarray
    seen: np.ndarray
    stem_support: np.ndarray  # per stem, for this label
    stem_seen: np.ndarray
    base_rate: float
    suffix_support: np.ndarray  # per suffix, for this label
    suffix_seen: np.ndarray
    text_prior: np.ndarray  # per candidate, for this label


def active_suffixes(support: np.ndarray, seen: np.ndarray, base_rate: np.ndarray, smoothing: float) -> np.ndarray:
    """Word endings that propose candidates: marked often enough, and well above the base rate for a label."""
    if not len(support):
        return np.zeros(0, dtype=bool)
    rate = smoothed_rate(support, seen[:, None], prior=base_rate[None, :], strength=smoothing)
    floor = np.maximum(SUFFIX_LIFT * base_rate[None, :], SUFFIX_MIN_RATE)
    return ((support >= MIN_SUFFIX_SUPPORT) & (rate >= floor)).any(axis=1)


def build_candidates(
    batch: TextBatch,
    starts: np.ndarray,
    ends: np.ndarray,
    terms: np.ndarray,
    stems: np.ndarray,
    *,
    term_banned: np.ndarray,
    banned_words: HashIndex,
    suffix_index: HashIndex,
    token_range: tuple[np.ndarray, np.ndarray] | None = None,
) -> Candidates:
    """Sort candidates (global positions in ``batch``) by position, drop duplicates and banned ones, add context.

    Everything is computed with numpy over the whole batch: context words and word endings are 64-bit hashes
    of token ranges (:func:`ml.features.hash_ranges`), looked up with ``searchsorted``. Duplicates (same range)
    keep the first one given, so pass term matches before stem and shape matches. ``token_range`` (the indices of
    each candidate's first and last token in ``batch.tokens()``) saves two searches when the caller knows them. ``term_banned[t]`` bans term
    ``t`` for every label; ``banned_words`` holds the hashes of single words banned for every label.
    """
    if not len(starts):
        return _empty_candidates()
    _, first = np.unique(starts * (int(ends.max()) + 1) + ends, return_index=True)  # sorted by (start, end)
    starts, ends, terms, stems = starts[first], ends[first], terms[first], stems[first]
    t_start, t_end = batch.tokens()
    n_tok = len(t_start)
    if token_range is None:
        ti = np.searchsorted(t_start, starts, side="right") - 1  # token holding the first code point
        tj = np.searchsorted(t_start, ends - 1, side="right") - 1  # token holding the last code point
    else:
        ti, tj = token_range[0][first], token_range[1][first]
    extra = tj - ti
    single = extra == 0
    word = np.zeros(len(starts), dtype=np.uint64)
    # a one-token candidate is a whole token; its neighbours are hashed in the same call below (one pass is cheaper)
    single_rows = np.flatnonzero(single)
    p, nx = ti - 1, tj + 1
    hashed = batch.token_hash(np.concatenate([ti[single_rows], np.maximum(p, 0), np.minimum(nx, n_tok - 1)]))
    word[single_rows] = hashed[: len(single_rows)]
    prev_all, next_all = hashed[len(single_rows) : len(single_rows) + len(p)], hashed[len(single_rows) + len(p) :]
    ok = ~(single & (banned_words.get(word) >= 0))
    if len(term_banned):
        ok &= ~((terms >= 0) & term_banned[np.maximum(terms, 0)])
    if not ok.all():
        starts, ends, terms, stems, ti, tj, extra, word, p, nx, prev_all, next_all = (
            x[ok] for x in (starts, ends, terms, stems, ti, tj, extra, word, p, nx, prev_all, next_all)
        )
    if not len(starts):
        return _empty_candidates()
    docs = batch.doc_of(starts)
    # previous / next word (same text only)
    has_prev = (p >= 0) & (t_start[np.maximum(p, 0)] >= batch.offsets[docs])
    has_next = (nx < n_tok) & (t_start[np.minimum(nx, n_tok - 1)] < batch.offsets[docs] + batch.lengths[docs])
    prev = np.where(has_prev, prev_all, H_BOS)
    nxt = np.where(has_next, next_all, H_EOS)
    # word endings of the last word
    last_len = ends - t_start[tj]
    suffix = np.full((len(starts), len(SUFFIX_LENGTHS)), -1, dtype=np.int64)
    ending = np.full(len(starts), H_SHORT, dtype=np.uint64)
    for j, n in enumerate(SUFFIX_LENGTHS):
        rows = np.flatnonzero(last_len > n + 1)
        hashes = hash_ranges(batch.cp, ends[rows] - n, np.full(len(rows), n))
        suffix[rows, j] = suffix_index.get(hashes)
        if n == 3:  # the one-hot ending feature is the 3-letter ending of words longer than 4 letters: same rows
            ending[rows] = hashes
    caps, upper = batch.capitalised(starts, ends)
    local = starts - batch.offsets[docs]
    position = local / np.maximum(batch.lengths[docs], 1)
    hyphenated = (batch.hyphen_count(starts, ends) > 0).astype(float)
    return Candidates(
        docs, local, ends - batch.offsets[docs], terms, stems, suffix, prev, nxt, ending, word,
        extra.astype(float), hyphenated, caps, upper, position, batch, starts,
    )  # fmt: skip


def _empty_candidates() -> Candidates:
    e = np.zeros(0, dtype=np.int64)
    f = np.zeros(0)
    h = np.zeros(0, dtype=np.uint64)
    return Candidates(e, e, e, e, e, np.zeros((0, len(SUFFIX_LENGTHS)), dtype=np.int64), h, h, h, h, f, f, f, f, f)


def neighbour_sum(cands: Candidates, weight: np.ndarray) -> np.ndarray:
    """log1p of the summed weight of the *other* candidates within ``NEIGHBOUR_CHARS`` in the same text."""
    n = len(cands)
    if not n:
        return np.zeros(0)
    big = int(cands.end.max()) + 10 * NEIGHBOUR_CHARS + 1
    key = cands.doc * big + cands.start
    if (key[1:] >= key[:-1]).all():  # build_candidates sorts by position: skip the (identity) stable sort
        sorted_key, sorted_weight = key, weight
    else:
        order = np.argsort(key, kind="stable")
        sorted_key, sorted_weight = key[order], weight[order]
    csum = np.concatenate([[0.0], np.cumsum(sorted_weight)])
    lo = np.searchsorted(sorted_key, key - NEIGHBOUR_CHARS, side="left")
    hi = np.searchsorted(sorted_key, cands.doc * big + cands.end + NEIGHBOUR_CHARS, side="right")
    total = csum[hi] - csum[lo] - weight
    return np.log1p(np.maximum(total, 0.0))


def text_sums(cands: Candidates, weight: np.ndarray, external: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log1p of the summed weight and of the summed external strength of the *other* candidates in the same text."""
    if not len(cands):
        return np.zeros(0), np.zeros(0)
    n_docs = int(cands.doc.max()) + 1
    total_w = np.bincount(cands.doc, weights=weight, minlength=n_docs)[cands.doc] - weight
    total_e = np.bincount(cands.doc, weights=external, minlength=n_docs)[cands.doc] - external
    return np.log1p(np.maximum(total_w, 0.0)), np.log1p(np.maximum(total_e, 0.0))


def best_threshold(proba: np.ndarray, y: np.ndarray, n_gold: int) -> tuple[float, dict]:
    """The cut-off maximising span F1 when ``n_gold`` gold spans exist (some may have no candidate)."""
    order = np.argsort(-proba, kind="stable")
    p_sorted, y_sorted = proba[order], y[order]
    tp = np.cumsum(y_sorted)
    n_pred = np.arange(1, len(y_sorted) + 1)
    f1 = 2 * tp / (n_pred + max(n_gold, 1))
    # only cut between distinct probabilities
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    f1 = np.where(last_of_run, f1, -1)
    best = int(np.argmax(f1))
    nxt = p_sorted[best + 1] if best + 1 < len(p_sorted) else 0.0
    thr = float((p_sorted[best] + nxt) / 2)
    return thr, threshold_scores(proba, y, n_gold, thr)


def threshold_scores(proba: np.ndarray, y: np.ndarray, n_gold: int, thr: float) -> dict:
    pred = proba >= thr
    tp = float(np.sum(y[pred]))
    p = tp / pred.sum() if pred.sum() else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {
        "threshold": thr,
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "n_candidates": int(len(y)),
        "n_gold": int(n_gold),
    }


class _TrainingTable:
    """Every term and token occurrence in the training texts, found once, so fold statistics are bincounts."""

    @classmethod
    def build(cls, model: LexiconClassifier, texts: list[str], gold: list[list[Span]]) -> _TrainingTable:
        self = cls()
        self.model = model
        self.n_docs = len(texts)
        self.n_labels = len(model.labels_)
        label_index = {lab: i for i, lab in enumerate(model.labels_)}
        batch = self.batch = TextBatch(texts)
        g_doc = np.array([d for d, doc in enumerate(gold) for _ in doc], dtype=np.int64)
        g_start = np.array([s.start for doc in gold for s in doc], dtype=np.int64) + batch.offsets[g_doc]
        g_end = np.array([s.end for doc in gold for s in doc], dtype=np.int64) + batch.offsets[g_doc]
        g_label = np.array([label_index[s.label] for doc in gold for s in doc], dtype=np.int64)
        self.gold_codes = np.unique(self._span_code(g_start, g_end, g_label))
        self.gold_per_label = np.bincount(g_label, minlength=self.n_labels)
        self.doc_labels = np.zeros((self.n_docs, self.n_labels), dtype=int)
        self.doc_labels[g_doc, g_label] = 1

        def inside(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
            cols = [
                contained(starts, ends, g_start[g_label == li], g_end[g_label == li]) for li in range(self.n_labels)
            ]
            return np.column_stack(cols) if cols else np.zeros((len(starts), 0), dtype=bool)

        # tokens (hashed), their stems and whether they are inside a marked span; Python only per distinct word
        t_start, t_end = batch.tokens()
        t_doc = batch.doc_of(t_start)
        t_hash = batch.hash(t_start, t_end)
        _, first, inverse = np.unique(t_hash, return_index=True, return_inverse=True)
        norm = batch.norm
        distinct = [norm[a:b] for a, b in zip(t_start[first].tolist(), t_end[first].tolist(), strict=True)]
        d_stems = model._stemmer.many(distinct)
        stems: dict[str, int] = {}
        d_stem = np.array([stems.setdefault(st, len(stems)) for st in d_stems], dtype=np.int64)
        d_prefix = np.array([w.startswith(st) for w, st in zip(distinct, d_stems, strict=True)], dtype=bool)
        t_stem = d_stem[inverse]
        self.stems = list(stems)
        self.stem_len_ok = np.array([len(s) >= MIN_STEM_CHARS for s in self.stems], dtype=bool)
        self.t_start, self.t_end, self.t_stem, self.t_hash = t_start, t_end, t_stem, t_hash
        self.t_doc = t_doc
        self.t_inside = inside(t_start, t_end)
        self.t_prefix = d_prefix[inverse]
        self.t_hyphen = batch.hyphen_count(t_start, t_end) > 0
        # word endings of 2-4 letters (of words at least two letters longer), as a table of distinct endings
        t_len = t_end - t_start
        self.t_suffix = np.full((len(t_start), len(SUFFIX_LENGTHS)), -1, dtype=np.int64)
        suffix_hashes, suffix_pos = [], []
        for n in SUFFIX_LENGTHS:
            rows = np.flatnonzero(t_len > n + 1)
            suffix_hashes.append(hash_ranges(batch.cp, t_end[rows] - n, np.full(len(rows), n)))
            suffix_pos.append(t_end[rows] - n)
        all_hashes = np.concatenate(suffix_hashes)
        uniq, s_first = np.unique(all_hashes, return_index=True)
        all_pos = np.concatenate(suffix_pos)
        all_len = np.concatenate([np.full(len(h), n) for h, n in zip(suffix_hashes, SUFFIX_LENGTHS, strict=True)])
        self.suffixes = [
            norm[a : a + n] for a, n in zip(all_pos[s_first].tolist(), all_len[s_first].tolist(), strict=True)
        ]
        self.suffix_index = HashIndex(uniq)
        for j, n in enumerate(SUFFIX_LENGTHS):
            rows = np.flatnonzero(t_len > n + 1)
            self.t_suffix[rows, j] = np.searchsorted(uniq, suffix_hashes[j])
        # the term table: marked spans and their sub-n-grams, external words, pinned terms
        marked: dict[str, None] = {}
        for a, b in zip(g_start.tolist(), g_end.tolist(), strict=True):
            toks = WORD_RE.findall(norm, a, b)
            if toks:
                marked[" ".join(toks)] = None
                for n in range(1, min(model.max_ngram, len(toks)) + 1):
                    for i in range(len(toks) - n + 1):
                        marked[" ".join(toks[i : i + n])] = None
        ext = model._external.strength if model._external else {}
        terms = list(dict.fromkeys([*marked, *ext, *model._pinned]))
        self.terms = terms
        self.term_banned, self.banned_words = banned_tables(model._banned, terms)
        self.term_external = np.array([ext.get(t, 0.0) for t in terms])
        self.term_pinned = np.array([t in model._pinned for t in terms], dtype=bool)
        single = [i for i, t in enumerate(terms) if " " not in t]
        self.term_words = HashIndex(hash_strings([terms[i] for i in single]))
        self.single_terms = np.array(single, dtype=np.int64)
        hit = self.term_words.get(t_hash)
        self.t_term = np.where(hit >= 0, self.single_terms[np.maximum(hit, 0)], -1)
        last_stems = model._stemmer.many([t.rsplit(" ", 1)[-1] for t in terms])
        self.term_stem = np.array([stems.get(s, -1) for s in last_stems], dtype=np.int64)
        # term occurrences on token boundaries
        key_len = np.array([len(t) for t in terms], dtype=np.int64)
        starts, keys = scan(build_automaton(terms), batch, key_offsets(terms))
        ends = starts + key_len[keys]
        ok = batch.starts_ok(starts) & batch.ends_ok(ends)
        self.m_start, self.m_end, self.m_term = starts[ok], ends[ok], keys[ok]
        self.m_doc = batch.doc_of(self.m_start)
        self.m_inside = inside(self.m_start, self.m_end)
        return self

    def stats(self, docs: np.ndarray) -> _Stats:
        in_docs = np.zeros(self.n_docs, dtype=bool)
        in_docs[docs] = True
        mm = in_docs[self.m_doc]
        tm = in_docs[self.t_doc]
        n_terms, n_stems = len(self.terms), len(self.stems)
        term_seen = np.bincount(self.m_term[mm], minlength=n_terms)
        term_support = np.zeros((n_terms, self.n_labels))
        stem_support = np.zeros((n_stems, self.n_labels))
        for li in range(self.n_labels):
            term_support[:, li] = np.bincount(self.m_term[mm], weights=self.m_inside[mm, li], minlength=n_terms)
            stem_support[:, li] = np.bincount(self.t_stem[tm], weights=self.t_inside[tm, li], minlength=n_stems)
        stem_seen = np.bincount(self.t_stem[tm], minlength=n_stems)
        base_rate = self.t_inside[tm].sum(axis=0) / max(int(tm.sum()), 1)
        n_suffixes = len(self.suffixes)
        suf = self.t_suffix[tm]
        flat = suf.ravel()
        valid = flat >= 0
        suffix_seen = np.bincount(flat[valid], minlength=n_suffixes)
        suffix_support = np.zeros((n_suffixes, self.n_labels))
        for li in range(self.n_labels):
            weights = np.repeat(self.t_inside[tm, li], suf.shape[1])[valid]
            suffix_support[:, li] = np.bincount(flat[valid], weights=weights, minlength=n_suffixes)
        return _Stats(
            term_support, term_seen, stem_support, stem_seen, base_rate, self.term_external, suffix_support, suffix_seen
        )

    def candidates(self, docs: np.ndarray, stats: _Stats) -> Candidates:
        """The candidates the predict path would find in ``docs`` given a lexicon with ``stats``."""
        model = self.model
        in_docs = np.zeros(self.n_docs, dtype=bool)
        in_docs[docs] = True
        active = (stats.term_support.max(axis=1) >= model.min_support) | (self.term_external > 0) | self.term_pinned
        rows = np.flatnonzero(in_docs[self.m_doc] & active[self.m_term])
        terms = self.m_term[rows]
        starts, ends, stems = [self.m_start[rows]], [self.m_end[rows]], [self.term_stem[terms]]
        term_ids = [terms]
        t_term = self.t_term
        is_active_term = (t_term >= 0) & active[np.maximum(t_term, 0)]
        token_term = np.where(is_active_term, t_term, -1)  # an inactive term has no statistics at predict time
        token_sets = []
        if model.use_stems:
            stem_active = (stats.stem_support.max(axis=1) >= model.min_support) & self.stem_len_ok
            token_sets.append(in_docs[self.t_doc] & stem_active[self.t_stem] & self.t_prefix & ~is_active_term)
        if model.use_shapes:
            ends_active = np.append(
                active_suffixes(stats.suffix_support, stats.suffix_seen, stats.base_rate, model.smoothing), False
            )
            by_suffix = ends_active[self.t_suffix].any(axis=1)  # index -1 hits the appended False
            token_sets.append(in_docs[self.t_doc] & (by_suffix | self.t_hyphen))
        for chosen in token_sets:
            tok = np.flatnonzero(chosen)
            starts.append(self.t_start[tok])
            ends.append(self.t_end[tok])
            stems.append(self.t_stem[tok])
            term_ids.append(token_term[tok])
        return build_candidates(
            self.batch, np.concatenate(starts), np.concatenate(ends), np.concatenate(term_ids),
            np.concatenate(stems), term_banned=self.term_banned, banned_words=self.banned_words,
            suffix_index=self.suffix_index,
        )  # fmt: skip

    def targets(self, cands: Candidates, li: int) -> np.ndarray:
        starts = cands.start + self.batch.offsets[cands.doc]
        ends = cands.end + self.batch.offsets[cands.doc]
        return np.isin(self._span_code(starts, ends, li), self.gold_codes).astype(int)

    def _span_code(self, starts: np.ndarray, ends: np.ndarray, labels: np.ndarray | int) -> np.ndarray:
        size = len(self.batch.norm) + 2
        return (starts * size + ends) * max(self.n_labels, 1) + labels

    def n_gold(self, li: int) -> int:
        return int(self.gold_per_label[li])


class CountedLexiconBaseline(BaseEstimator):
    """Baseline: every term annotators marked at least ``min_support`` times whose precision (times marked /
    times seen in the training texts) is at least ``min_precision`` is predicted at every occurrence.

    Parameters
    ----------
    min_support : int, default=1
    min_precision : float, default=0.3

    Attributes
    ----------
    labels_ : list of str
    lexicon_ : list of LexiconEntry
    """

    def __init__(self, *, min_support: int = 1, min_precision: float = 0.3) -> None:
        self.min_support = min_support
        self.min_precision = min_precision

    def fit(self, X: Sequence[str], y: Sequence[Sequence]) -> CountedLexiconBaseline:
        texts = check_texts(X)
        gold = check_spans(y, texts)
        marked: dict[str, None] = {}
        for text, doc in zip(texts, gold, strict=True):
            for s in doc:
                key = normalise_term(text[s.start : s.end])
                if key:
                    marked[key] = None
        terms = list(marked)
        self.labels_ = sorted({s.label for doc in gold for s in doc})
        label_index = {lab: i for i, lab in enumerate(self.labels_)}
        seen = np.zeros(len(terms), dtype=np.int64)
        support = np.zeros((len(terms), len(self.labels_)), dtype=np.int64)
        for d, start, end, idx in _term_occurrences(build_automaton(terms), terms, texts):
            seen[idx] += 1
            for s in gold[d]:
                support[idx, label_index[s.label]] += s.start == start and s.end == end
        rows = []
        for i, term in enumerate(terms):
            for li, label in enumerate(self.labels_):
                precision = support[i, li] / seen[i] if seen[i] else 0.0
                if support[i, li] >= self.min_support and precision >= self.min_precision:
                    rows.append(LexiconEntry(term, label, precision, int(support[i, li]), int(seen[i]), precision))
        rows.sort(key=lambda e: (e.label, -e.weight, e.term))
        self.lexicon_ = rows
        index = {t: i for i, t in enumerate(dict.fromkeys(e.term for e in rows))}
        self._entries = defaultdict(list)
        for e in rows:
            self._entries[index[e.term]].append(e)
        self._terms = list(index)
        self.automaton_ = build_automaton(self._terms)
        return self

    def predict(self, X: Sequence[str]) -> list[list[Span]]:
        check_is_fitted(self)
        texts = check_texts(X)
        found: list[list[tuple]] = [[] for _ in texts]
        for d, start, end, idx in _term_occurrences(self.automaton_, self._terms, texts):
            found[d].extend((e.weight, start, end, e.label) for e in self._entries[idx])
        out = []
        for doc in found:
            chosen: dict[str, list[tuple[int, int]]] = defaultdict(list)
            spans = []
            for weight, start, end, label in sorted(doc, key=lambda f: (-f[0], f[1] - f[2], f[1])):
                if not any(overlaps(start, end, a, b) for a, b in chosen[label]):
                    chosen[label].append((start, end))
                    spans.append(Span(start, end, label, round(float(weight), 6)))
            out.append(sorted(spans))
        return out


def _term_occurrences(automaton: KeyMatcher, terms: list[str], texts: list[str]):
    """``(text index, start, end, term index)`` of every whole-token occurrence of a term."""
    if not len(automaton) or not texts:
        return []
    batch = TextBatch(texts)
    key_len = np.array([len(t) for t in terms], dtype=np.int64)
    starts, keys = scan(automaton, batch, key_offsets(terms))
    ends = starts + key_len[keys]
    ok = batch.starts_ok(starts) & batch.ends_ok(ends)
    starts, ends, keys = starts[ok], ends[ok], keys[ok]
    docs = batch.doc_of(starts)
    offsets = batch.offsets[docs]
    return zip(docs.tolist(), (starts - offsets).tolist(), (ends - offsets).tolist(), keys.tolist(), strict=True)
