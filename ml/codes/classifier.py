"""Document classifiers for codebook questions: single choice, multiple choice and ordinal scales.

All three share :class:`ml.codes.design.TextDesign` (word and character n-gram TF-IDF plus span-lexicon,
sentiment and shape cues) and differ only in their linear heads:

* :class:`SingleChoiceClassifier`: one answer per text; a logistic regression (binary, or multinomial for more
  than two answers). ``predict_proba`` are its probabilities.
* :class:`MultipleChoiceClassifier`: any number of answers per text; one binary logistic regression per answer
  (one-vs-rest); an answer is predicted when its probability is at least 0.5.
* :class:`OrdinalScaleClassifier`: one point of an ordered scale; a proportional-odds (cumulative logit) model
  ``P(y > point k) = sigmoid(w·x + b_k)`` with one weight vector and a cut-point per step (McCullagh 1980),
  fitted as one logistic regression over stacked copies of the data (the all-threshold reduction); the
  differences of the cumulative probabilities are the point probabilities. ``predict`` gives the median point
  (the one that minimises the expected absolute error), :meth:`OrdinalScaleClassifier.expected_value` the mean
  of the point values. Independent binary models per step (Frank & Hall 2001) were tried first: their
  cumulative probabilities cross on texts unlike the training ones, which makes the point probabilities
  meaningless there.

They follow scikit-learn's estimator contract (keyword-only parameters stored unchanged, ``fit`` returns
``self``, fitted attributes end in ``_``, ``check_is_fitted``, ``random_state``); ``X`` is a list of texts.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.validation import check_is_fitted, check_random_state

from ml.codes.design import TextDesign
from ml.codes.ngrams import HashCache
from ml.lexicon import check_texts, single_threaded_blas
from ml.spans import Span, as_span

QUESTION_TYPES = ("single", "multiple", "ordinal")
CUT_SCALE = 10.0  # cut-point columns of the ordinal model: large, so the L2 penalty barely shrinks the cut-points


def check_text_spans(spans: object, texts: list[str]) -> list[list[Span]] | None:
    if spans is None:
        return None
    docs = list(spans)  # type: ignore[call-overload]
    if len(docs) != len(texts):
        raise ValueError(f"X has {len(texts)} texts but spans has {len(docs)} span lists")
    out = []
    for i, (text, doc) in enumerate(zip(texts, docs, strict=True)):
        parsed = [as_span(s) for s in doc]
        for s in parsed:
            if s.end > len(text):
                raise ValueError(f"spans[{i}] has span {s.key} past the end of its text ({len(text)} code points)")
        out.append(parsed)
    return out if any(out) else None


def internal_folds(
    n: int, n_splits: int, groups: Sequence[Hashable] | None, rng: np.random.RandomState
) -> list[np.ndarray]:
    """Test indices of ``n_splits`` folds; texts of one group (e.g. one article) always share a fold."""
    if groups is not None:
        if len(groups) != n:
            raise ValueError(f"groups has {len(groups)} entries for {n} texts")
        uniq = sorted({str(g) for g in groups})
        if len(uniq) < n_splits:
            raise ValueError(f"groups has {len(uniq)} distinct values, fewer than n_splits={n_splits}")
        shuffled = dict(zip(uniq, rng.permutation(len(uniq)), strict=True))
        codes = np.array([shuffled[str(g)] for g in groups])
        return [test for _, test in GroupKFold(n_splits=n_splits).split(np.zeros(n), groups=codes)]
    if n < n_splits:
        raise ValueError(f"need at least n_splits={n_splits} texts to fit, got {n}")
    seed = rng.randint(np.iinfo(np.int32).max)
    return [test for _, test in KFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(n))]


class _CodeClassifier(ClassifierMixin, BaseEstimator):
    """Shared parameters, features and fast scoring; subclasses set the targets and the heads."""

    def __init__(
        self,
        *,
        C: float = 1.0,
        word_ngrams: int = 2,
        char_ngrams: Sequence[int] = (2, 3, 4, 5),
        min_df: int = 2,
        use_spans: bool = True,
        use_sentiment: bool = True,
        smoothing: float = 2.0,
        cue_weight: float = 1.0,
        class_weight: str | None = None,
        n_splits: int = 5,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.use_spans = use_spans
        self.use_sentiment = use_sentiment
        self.smoothing = smoothing
        self.cue_weight = cue_weight
        self.class_weight = class_weight
        self.n_splits = n_splits
        self.random_state = random_state

    def _validate_params(self) -> None:
        if not self.C > 0:
            raise ValueError(f"C must be positive, got {self.C!r}")
        if isinstance(self.n_splits, bool) or not isinstance(self.n_splits, int) or self.n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2, got {self.n_splits!r}")
        if self.smoothing < 0 or self.cue_weight < 0:
            raise ValueError("smoothing and cue_weight must be >= 0")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")

    def fit(
        self,
        X: Sequence[str],
        y: Sequence,
        *,
        spans: Sequence[Sequence] | None = None,
        groups: Sequence[Hashable] | None = None,
    ):
        """Learn from texts ``X`` and their answers ``y``.

        Parameters
        ----------
        X : list of str
        y : answers, one per text (see the subclass)
        spans : list of lists of ``(start, end, label)`` or :class:`ml.spans.Span`, optional
            Marked spans of each training text; with ``use_spans`` they give the span-lexicon cues.
        groups : list, optional
            A group per text (e.g. its article): the internal folds never split a group.
        """
        self._validate_params()
        texts = check_texts(X)
        targets = self._targets(y, len(texts))
        rng = check_random_state(self.random_state)
        folds = internal_folds(len(texts), self.n_splits, groups, rng)
        text_spans = check_text_spans(spans, texts) if self.use_spans else None
        self.design_ = TextDesign(
            word_ngrams=self.word_ngrams,
            char_ngrams=self.char_ngrams,
            min_df=self.min_df,
            use_sentiment=self.use_sentiment,
            smoothing=self.smoothing,
            cue_weight=self.cue_weight,
        )
        with single_threaded_blas():
            design = self.design_.fit_transform(texts, spans=text_spans, folds=folds)
            coef, intercept = self._fit_heads(design, targets)
        self.coef_ = coef
        self.intercept_ = intercept
        self.n_features_ = design.shape[1]
        return self

    def _logistic(self) -> LogisticRegression:
        # liblinear: exact for binary problems, and fast on these sparse designs
        return LogisticRegression(
            C=self.C, solver="liblinear", max_iter=2000, class_weight=self.class_weight, random_state=0
        )

    def _binary_head(self, design: sp.csr_matrix, target: np.ndarray) -> tuple[np.ndarray, float]:
        if target.min() == target.max():  # every text answered alike: a constant head
            return np.zeros(design.shape[1]), 30.0 if target[0] else -30.0
        model = self._logistic().fit(design, target)
        return model.coef_.ravel(), float(model.intercept_[0])

    def decision_function(self, X: Sequence[str]) -> np.ndarray:
        """The heads' linear scores, ``(n_texts, n_heads)``."""
        check_is_fitted(self, "coef_")
        texts = check_texts(X)
        cache = getattr(self, "_word_cache", None)
        if cache is None or cache[0] is not self.coef_:
            cache = self._word_cache = (self.coef_, HashCache())
        with single_threaded_blas():
            return self.design_.scores(texts, self.coef_, self.intercept_, cache[1])

    def transform(self, X: Sequence[str]) -> sp.csr_matrix:
        """The design matrix of ``X`` (for inspection; prediction does not build it)."""
        check_is_fitted(self, "coef_")
        return self.design_.transform(check_texts(X))


class SingleChoiceClassifier(_CodeClassifier):
    """One answer per text (e.g. BABE's ``bias``: Biased / Non-biased; a primary frame).

    ``fit(X, y)``: ``y`` holds one answer (a string) per text; ``classes_`` are the answers seen, sorted.
    ``predict_proba`` is a logistic regression's (sigmoid for two answers, softmax for more).

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation of the logistic regression. 1.0 is what grouped cross-validation inside the training
        folds chose on BABE in 3 of 5 outer folds (among 1, 4 and 16; ``bench.babe_codes --nested``).
    word_ngrams : {1, 2}, default=2
    char_ngrams : tuple of int, default=(2, 3, 4, 5)
        Character n-gram lengths of ``" word "``; ``()`` for words only.
    min_df : int, default=2
        Texts an n-gram must occur in to get a column.
    use_spans : bool, default=True
        Use the span-lexicon cues when ``fit`` is given spans.
    use_sentiment : bool, default=True
        VADER strength cues.
    smoothing : float, default=2.0
        Additive smoothing of the span lexicon's marked shares towards the base rate.
    cue_weight : float, default=1.0
        Scale of the standardised cue columns relative to the TF-IDF block.
    class_weight : {None, "balanced"}, default=None
    n_splits : int, default=5
        Internal folds for the cross-fitted span cues.
    random_state : int, RandomState or None
        Shuffles the internal folds.

    Attributes
    ----------
    classes_ : ndarray of str
    design_ : ml.codes.design.TextDesign
    coef_ : ndarray, (1 or n_classes, n_features)
    intercept_ : ndarray
    n_features_ : int

    Examples
    --------
    >>> texts = ["a radical scheme", "a sensible plan", "radical nonsense", "a plan"] * 5
    >>> answers = ["Biased", "Non-biased", "Biased", "Non-biased"] * 5
    >>> model = SingleChoiceClassifier(random_state=0).fit(texts, answers)
    >>> list(model.predict(["radical nonsense again", "a sensible plan again"]))
    ['Biased', 'Non-biased']
    """

    def _targets(self, y: Sequence, n: int) -> np.ndarray:
        answers = np.asarray(list(y), dtype=object)
        if answers.shape != (n,):
            raise ValueError(f"y must hold one answer per text: {n} texts, y has shape {answers.shape}")
        for i, a in enumerate(answers):
            if not isinstance(a, str) or not a:
                raise ValueError(f"y[{i}] must be a non-empty string, got {a!r}")
        self.classes_ = np.array(sorted(set(answers.tolist())), dtype=object)
        if len(self.classes_) < 2:
            raise ValueError(f"y needs at least two different answers, got only {self.classes_.tolist()}")
        return np.searchsorted(self.classes_, answers)

    def _fit_heads(self, design: sp.csr_matrix, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(self.classes_) == 2:
            coef, intercept = self._binary_head(design, target)
            return coef.reshape(1, -1), np.array([intercept])
        model = LogisticRegression(C=self.C, max_iter=2000, class_weight=self.class_weight)
        model.fit(design, target)
        return model.coef_, model.intercept_

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        z = self.decision_function(X)
        if z.shape[1] == 1:
            p = expit(z[:, 0])
            return np.column_stack([1.0 - p, p])
        return softmax(z, axis=1)

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return self.answers_from_proba(self.predict_proba(X))

    def answers_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """What :meth:`predict` returns for texts whose :meth:`predict_proba` is ``proba`` (one pass for both)."""
        return self.classes_[np.argmax(proba, axis=1)]


class MultipleChoiceClassifier(_CodeClassifier):
    """Any number of answers per text (one-vs-rest binary logistic regressions).

    ``fit(X, y)``: ``y`` holds, per text, an iterable of answers (possibly empty); ``classes_`` are the answers
    seen, sorted. ``predict_proba`` is ``(n_texts, n_answers)``, each column an independent probability;
    ``predict`` returns, per text, the tuple of answers with probability ≥ 0.5. Parameters as
    :class:`SingleChoiceClassifier`.

    Examples
    --------
    >>> texts = ["tax cuts and jobs", "police and courts", "jobs and courts", "weather"] * 5
    >>> y = [{"economic"}, {"crime"}, {"economic", "crime"}, set()] * 5
    >>> model = MultipleChoiceClassifier(random_state=0).fit(texts, y)
    >>> model.predict(["tax cuts", "courts"])
    [('economic',), ('crime',)]
    """

    def _targets(self, y: Sequence, n: int) -> np.ndarray:
        rows = [self._answer_set(i, a) for i, a in enumerate(y)]
        if len(rows) != n:
            raise ValueError(f"y must hold one set of answers per text: {n} texts, y has {len(rows)}")
        self.classes_ = np.array(sorted(set().union(*rows)), dtype=object)
        if not len(self.classes_):
            raise ValueError("y holds no answer at all: there is nothing to learn")
        index = {a: j for j, a in enumerate(self.classes_)}
        target = np.zeros((n, len(self.classes_)), dtype=int)
        for i, row in enumerate(rows):
            target[i, [index[a] for a in row]] = 1
        return target

    @staticmethod
    def _answer_set(i: int, answers: object) -> set[str]:
        if isinstance(answers, str) or not isinstance(answers, Iterable):
            raise ValueError(f"y[{i}] must be a collection of answers (e.g. a set of strings), got {answers!r}")
        out = set(answers)
        if not all(isinstance(a, str) and a for a in out):
            raise ValueError(f"y[{i}] must hold non-empty strings, got {sorted(map(repr, out))}")
        return out

    def _fit_heads(self, design: sp.csr_matrix, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        heads = [self._binary_head(design, target[:, j]) for j in range(target.shape[1])]
        return np.vstack([c for c, _ in heads]), np.array([b for _, b in heads])

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        return expit(self.decision_function(X))

    def predict(self, X: Sequence[str]) -> list[tuple[str, ...]]:
        return self.answers_from_proba(self.predict_proba(X))

    def answers_from_proba(self, proba: np.ndarray) -> list[tuple[str, ...]]:
        """What :meth:`predict` returns for texts whose :meth:`predict_proba` is ``proba`` (one pass for both)."""
        return [tuple(self.classes_[row].tolist()) for row in proba >= 0.5]


class OrdinalScaleClassifier(_CodeClassifier):
    """One point of an ordered scale (e.g. tone −2 … +2): a proportional-odds model ``P(y > point k)``.

    Parameters
    ----------
    points : sequence of str
        The scale's points in order (e.g. ``["-2", "-1", "0", "1", "2"]``); ``classes_`` keeps this order.
    values : sequence of float, optional
        A number per point for :meth:`expected_value` (default: 0, 1, 2, …).
    Other parameters as :class:`SingleChoiceClassifier`.

    Examples
    --------
    >>> texts = ["awful disaster", "bad news", "a meeting", "good news", "wonderful triumph"] * 4
    >>> y = ["-2", "-1", "0", "1", "2"] * 4
    >>> model = OrdinalScaleClassifier(points=["-2", "-1", "0", "1", "2"], random_state=0).fit(texts, y)
    >>> list(model.predict(["awful disaster", "wonderful triumph"]))
    ['-2', '2']
    """

    def __init__(
        self,
        *,
        points: Sequence[str] = (),
        values: Sequence[float] | None = None,
        C: float = 1.0,
        word_ngrams: int = 2,
        char_ngrams: Sequence[int] = (2, 3, 4, 5),
        min_df: int = 2,
        use_spans: bool = True,
        use_sentiment: bool = True,
        smoothing: float = 2.0,
        cue_weight: float = 1.0,
        class_weight: str | None = None,
        n_splits: int = 5,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        super().__init__(
            C=C, word_ngrams=word_ngrams, char_ngrams=char_ngrams, min_df=min_df, use_spans=use_spans,
            use_sentiment=use_sentiment, smoothing=smoothing, cue_weight=cue_weight, class_weight=class_weight,
            n_splits=n_splits, random_state=random_state,
        )  # fmt: skip
        self.points = points
        self.values = values

    def _targets(self, y: Sequence, n: int) -> np.ndarray:
        points = list(self.points)
        if len(points) < 2 or len(set(points)) != len(points):
            raise ValueError(f"points must list at least two distinct scale points in order, got {points!r}")
        if self.values is not None and len(self.values) != len(points):
            raise ValueError(f"values must give one number per point ({len(points)}), got {len(self.values)}")
        index = {p: k for k, p in enumerate(points)}
        answers = list(y)
        if len(answers) != n:
            raise ValueError(f"y must hold one point per text: {n} texts, y has {len(answers)}")
        bad = [a for a in answers if a not in index]
        if bad:
            raise ValueError(f"y holds answers that are not points of the scale: {sorted(set(map(str, bad)))[:5]}")
        self.classes_ = np.array(points, dtype=object)
        return np.array([index[a] for a in answers])

    def _fit_heads(self, design: sp.csr_matrix, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # proportional odds: P(y > k) = sigmoid(w·x + b_k) with one w; fitted as one logistic regression over K-1
        # stacked copies of the design, copy k with the target "y > k" and its own intercept column
        n, n_cuts = design.shape[0], len(self.classes_) - 1
        cut_columns = sp.csr_matrix(
            (np.full(n * n_cuts, CUT_SCALE), (np.arange(n * n_cuts), np.repeat(np.arange(n_cuts), n))),
            shape=(n * n_cuts, n_cuts),
        )
        stacked = sp.hstack([sp.vstack([design] * n_cuts), cut_columns], format="csr")
        y = np.concatenate([(target > k).astype(int) for k in range(n_cuts)])
        model = LogisticRegression(
            C=self.C, solver="liblinear", max_iter=2000, fit_intercept=False, class_weight=self.class_weight,
            random_state=0,
        ).fit(stacked, y)  # fmt: skip
        coef = model.coef_.ravel()
        # a cut-point's intercept can only fall as k grows; sorting keeps P(y > k) monotone if the fit did not
        self.cut_intercepts_ = np.sort(coef[-n_cuts:] * CUT_SCALE)[::-1]
        return coef[:-n_cuts].reshape(1, -1), np.zeros(1)

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        score = self.decision_function(X)[:, 0]
        above = expit(score[:, None] + self.cut_intercepts_[None, :])  # P(y > k), k = 0 .. K-2
        cumulative = np.column_stack([np.ones(len(above)), above, np.zeros(len(above))])
        return cumulative[:, :-1] - cumulative[:, 1:]

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return self.answers_from_proba(self.predict_proba(X))

    def answers_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """What :meth:`predict` returns (the median point) for texts whose :meth:`predict_proba` is ``proba``."""
        below_or_at = np.cumsum(proba, axis=1)
        return self.classes_[np.argmax(below_or_at >= 0.5 - 1e-12, axis=1)]

    def expected_value(self, X: Sequence[str]) -> np.ndarray:
        """Per text, the mean of the point values under ``predict_proba``."""
        values = np.arange(len(self.classes_), dtype=float) if self.values is None else np.asarray(self.values, float)
        return self.predict_proba(X) @ values
